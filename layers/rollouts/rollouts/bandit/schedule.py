"""When to reweight and when to stop: a geometric batch schedule and the P(best) stopping rule.

Batches. The cost of updating the weights once per batch instead of per request is dominated by the first batches,
which are routed on little or no information: a first batch of B requests split evenly costs about B / 2 x the gap
on two arms (performance-anchors 1.4: 50 at B = 1,000 and 500 at B = 10,000 against 13 per request, on p = 0.1 vs
0.2), while later batches cost almost nothing. Batched Thompson sampling with geometrically growing batches keeps the
asymptotic regret with O(log T) updates (Kalkanli and Özgür 2021; Karbasi, Mirrokni and Shadravan 2021). So batch k
(from 0) holds initial x growth^k requests, up to a maximum: the maximum bounds how long a change can go unanswered
(the change detector acts at the end of a batch) and how old the newest data may be. The defaults, 100 doubling up to
500, make 3 growing batches (100 to 400, 700 requests) and then batches of 500: at 10 requests per second one update
every 50 s, a little faster than the 60 s for which the aws-samples pipeline freezes its statistics. `make
bench-bandit` measured 500 against 1,000 (the earlier default) with the rollout's cadence: lower regret on the
three-arm instance and after a swap of the arms, the same on two arms (docs/benchmarks.md section 5). A rollout
reweights when the feedback of `batch_size(k)` requests has arrived, but never sooner than its
`min_update_interval` after the last update (30 s by default: 300 requests at 10 per second).

Stopping. The rule stops when one arm has held P(best) >= `stop_probability` (0.95) for `stop_updates` (3)
consecutive updates, and names it the winner. Consecutive updates guard against a single lucky batch; P(best) is a
posterior probability, not a frequentist error rate, and checking it after every batch does not keep the
probability of a wrong winner at 5 %. Known weakness: two arms that are equally good never reach 0.95 each, so the
rule never stops on them; a rollout needs a maximum duration (or an expected-loss rule) beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from rollouts.bandit.models import BanditDesign, Streak


def batch_size(index: int, design: BanditDesign | None = None) -> int:
    """Requests in batch `index` (0 is the first): initial x growth^index, at most the design's maximum."""
    if index < 0:
        raise ValueError(f"a batch index is at least 0, got {index}")
    design = design or BanditDesign()
    initial, growth, maximum = design.initial_batch, design.batch_growth, design.maximum_batch
    if growth > 1 and index * math.log(growth) >= math.log(maximum / initial):
        return maximum
    return min(maximum, round(initial * growth**index))


def advance_streak(streak: Streak, probabilities_best: Mapping[str, float], threshold: float = 0.95) -> Streak:
    """The streak after one more update: the leader's run grows if it holds P(best) >= threshold, else it restarts.

    Start from `Streak()`; after a change detector reset, start again from `Streak()` as well.
    """
    if not probabilities_best:
        return Streak()
    leader, probability = max(probabilities_best.items(), key=lambda item: item[1])
    if probability < threshold:
        return Streak()
    return Streak(leader=leader, updates=streak.updates + 1 if streak.leader == leader else 1)


def winner(streak: Streak, design: BanditDesign | None = None) -> str | None:
    """The arm to promote, once its streak is `design.stop_updates` long; None before."""
    design = design or BanditDesign()
    return streak.leader if streak.leader is not None and streak.updates >= design.stop_updates else None
