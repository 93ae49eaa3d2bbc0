"""Non-stationary rewards: discounting the statistics at each update, and a change detector that resets an arm.

Discounting (Raj and Kalyani 2017, discounted Thompson sampling). Before a batch is added, every arm's count, reward
sum and sum of squares are multiplied by gamma, so data k updates old weigh gamma^k: the posterior keeps an effective
memory of about batch / (1 - gamma) requests and never becomes so certain that a change takes its whole history to
undo (performance-anchors 1.4: without forgetting, a swap of two arms after 50,000 requests cost 4,862). An arm that
gets no traffic sees its counts shrink, its posterior widen and its P(best) rise: it is explored again. The price is
regret on stationary rewards, where forgetting throws away information (1.4: 127 instead of 50 at gamma 0.9 per
1,000 requests). The mean is unchanged by discounting; for real rewards so is the variance estimate, up to the
(n - 1) in its denominator. The default is gamma = 1, no discount: the change detector below answers abrupt changes
without that price; choose gamma < 1 for slow drifts, with a memory of a few times the requests that separate the
arms (gamma = 0.98 at batches of 1,000: about 50,000 requests).

Change detector. At each update, each arm's latest batch is tested against that arm's discounted posterior, the
posterior predictive distribution of the batch's reward sum:

- conversions: Beta(a, b) before the batch, mean m = a / (a + b); the batch's sum S of n rewards has the
  beta-binomial mean n m and variance n m (1 - m) (a + b + n) / (a + b + 1) (exact for 0/1 rewards, the posterior's
  own uncertainty included), z = (S - n m) / sd. Tested only when n m and n (1 - m) are both at least
  `MINIMUM_EXPECTED` (5), where the normal approximation of the sum is fair;
- real rewards: Welch's z of the batch mean against the posterior mean, (xbar_batch - xbar) /
  sqrt(s²_batch / n_batch + s² / n), with at least `MINIMUM_REAL_BATCH` (10) rewards in the batch and 2 before.

|z| >= threshold (default 4: two-sided 6e-5 per test under the normal approximation, so about 0.5 % over 3 arms and
30 updates) means the arm changed: its statistics are replaced by the latest batch alone, forgetting its history at
once rather than at the discount's pace. It is a one-batch test, not a CUSUM: it detects a change within the batch
after it (or within the batch it falls in, if it falls early enough), but not a drift slower than its threshold per
batch, which the discount has to absorb. An arm with little traffic is tested on few requests: a better arm starved
of traffic is found by the discount, which gives it traffic back, more than by the test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rollouts.bandit.models import (
    DEFAULT_CHANGE_THRESHOLD,
    ArmStatistics,
    BanditDesign,
    ChangeTest,
    RewardKind,
    Update,
)

MINIMUM_EXPECTED = 5.0
MINIMUM_REAL_BATCH = 10.0
MINIMUM_REAL_HISTORY = 2.0


def discount(arm: ArmStatistics, gamma: float) -> ArmStatistics:
    """The arm's statistics with every sum multiplied by gamma (0 < gamma <= 1)."""
    if not 0 < gamma <= 1:
        raise ValueError(f"a discount is in (0, 1], got {gamma:g}")
    if gamma == 1:
        return arm
    return arm.model_copy(
        update={
            "count": arm.count * gamma,
            "reward_sum": arm.reward_sum * gamma,
            "reward_sum_of_squares": arm.reward_sum_of_squares * gamma,
        }
    )


def combine(arm: ArmStatistics, batch: ArmStatistics) -> ArmStatistics:
    """The sums of two sets of statistics of one variant."""
    return arm.model_copy(
        update={
            "count": arm.count + batch.count,
            "reward_sum": arm.reward_sum + batch.reward_sum,
            "reward_sum_of_squares": arm.reward_sum_of_squares + batch.reward_sum_of_squares,
        }
    )


def change_test(
    history: ArmStatistics,
    batch: ArmStatistics,
    kind: RewardKind = RewardKind.CONVERSION,
    threshold: float = DEFAULT_CHANGE_THRESHOLD,
) -> ChangeTest:
    """Test the latest batch of one arm against its (discounted) history; see the module's docstring."""
    z = _conversion_z(history, batch) if kind is RewardKind.CONVERSION else _real_z(history, batch)
    if z is None:
        return ChangeTest(variant=history.variant, tested=False)
    return ChangeTest(variant=history.variant, tested=True, z=z, changed=abs(z) >= threshold)


def update(arms: Sequence[ArmStatistics], batch: Sequence[ArmStatistics], design: BanditDesign | None = None) -> Update:
    """The statistics after one batch: discount, test each arm's batch, reset the changed arms, add the batch.

    Arms are matched by variant; an arm without a batch entry got no traffic, a batch entry for a new variant starts
    a new arm. The order is the arms', then the new variants'.
    """
    design = design or BanditDesign()
    by_variant = {entry.variant: entry for entry in batch}
    if len(by_variant) != len(batch):
        raise ValueError("a batch has one entry per variant")
    known = {arm.variant for arm in arms}
    result: list[ArmStatistics] = []
    tests: list[ChangeTest] = []
    for arm in arms:
        history = discount(arm, design.discount)
        latest = by_variant.get(arm.variant)
        if latest is None:
            result.append(history)
            continue
        if design.change_threshold is not None:
            test = change_test(history, latest, design.reward_kind, design.change_threshold)
            tests.append(test)
            if test.changed:
                result.append(latest)
                continue
        result.append(combine(history, latest))
    result += [entry for entry in batch if entry.variant not in known]
    return Update(arms=tuple(result), tests=tuple(tests))


def _conversion_z(history: ArmStatistics, batch: ArmStatistics) -> float | None:
    a = 1.0 + history.reward_sum
    b = 1.0 + history.count - history.reward_sum
    n = batch.count
    mean = a / (a + b)
    if n * mean < MINIMUM_EXPECTED or n * (1 - mean) < MINIMUM_EXPECTED:
        return None
    variance = n * mean * (1 - mean) * (a + b + n) / (a + b + 1)
    return (batch.reward_sum - n * mean) / math.sqrt(variance)


def _real_z(history: ArmStatistics, batch: ArmStatistics) -> float | None:
    if history.count < MINIMUM_REAL_HISTORY or batch.count < MINIMUM_REAL_BATCH:
        return None
    spread = _variance(history) / history.count + _variance(batch) / batch.count
    difference = batch.reward_sum / batch.count - history.reward_sum / history.count
    if spread <= 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / math.sqrt(spread)


def _variance(arm: ArmStatistics) -> float:
    mean = arm.reward_sum / arm.count
    return max(0.0, (arm.reward_sum_of_squares - arm.count * mean * mean) / (arm.count - 1))
