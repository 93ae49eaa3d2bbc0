"""Traffic weights: P(arm is best) mixed with information-directed sampling, within per-arm floors and caps.

The weights are (1 - s) P(best) + s IDS, with s = `BanditDesign.information_share` (0.5 by default; 0 is Thompson
sampling alone). Both parts are below.

Setting each variant's weight to P(best | data) and routing requests at random by the weights gives every request
the same arm distribution as one Thompson draw per request (the argmax of one posterior draw per arm is arm i with
probability P(i is best)); the weights are refreshed once per batch instead of per request
(docs: performance-anchors 1.3 and 1.4 measure no loss at batches of 100 to 1,000 requests).

Information-directed sampling (IDS; Russo and Van Roy, "Learning to Optimize via Information-Directed Sampling",
Operations Research 2018, the variance-based form of their section 6). For each arm k, its expected regret
Delta_k = E[max_j mu_j] - E[mu_k] and its information v_k = sum_m P(A* = m) (E[mu_k | A* = m] - E[mu_k])², how much
learning which arm is best would move k's mean; IDS routes by the allocation pi that minimises
(sum pi_k Delta_k)² / (sum pi_k v_k), which is found on at most two arms, with the mixing share in closed form.
Thompson sampling explores every arm in proportion to its chance of being best, also where a request would teach
little; IDS spends its exploration where it buys the most information per unit of regret. On its own, IDS lets an
arm that looks bad after an unlucky start starve: its information is small because P(A* = k) is, and it is barely
explored again. Keeping half of the weights at P(best) keeps Thompson sampling's exploration of every arm that may be
best, at half its rate. `make bench-bandit` (200 seeds, regret at 100,000 requests, docs/benchmarks.md section 5):
on p = [0.05, 0.06, 0.045] the mix's mean regret is IDS's (54.9 and 54.8) and 0.87 of P(best) alone's (63.1), while
its worst seed is close to P(best) alone's (245 and 222) where IDS alone had one run of 1,016; after a swap of two arms
the mix's regret is 122, P(best) alone's 107, IDS alone's 160 +- 30.
The moments come from `rollouts.bandit.posterior.best_arm_moments`, by the same quadrature as P(best). Arms whose
posteriors are all the same (no data yet, or the same data) get equal weights.

Floors and caps. The weights w are the probabilities p rescaled, w_i = clip(c p_i, floor_i, cap_i), with the one
c >= 0 for which they sum to 1: arms clipped to a floor or a cap are held there and the others share the rest in the
proportions of p. The sum is continuous and nondecreasing in c and piecewise linear between the breakpoints
floor_i / p_i and cap_i / p_i, so c is found exactly by sorting the breakpoints and interpolating on the segment where
the sum crosses 1. The constraints can be met whenever floor_i <= cap_i, sum(floors) <= 1 <= sum(caps); otherwise
ValueError. If the arms with p_i > 0 all reach their caps short of 1 (possible only when some p_i is exactly 0), the
rest goes to the arms with p_i = 0 in proportion to their room under the cap. A p_i below 1e-15 counts as 0.

Cost of a floor: it sends floor_i of the traffic to arm i whatever the data, a regret of floor x gap per request
that never stops (a 5 % floor on the two-arm instance of performance-anchors 1.4 cost 522 instead of 50 over 100,000
requests) and did not help after a change (4,898 vs 4,862). The default floor is therefore 0: exploration comes from
the posterior itself, and changes are handled by `rollouts.bandit.drift`. Set a floor when a variant must keep
serving for other reasons (its own monitoring, warm capacity, finding out if a losing variant improves later).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

from rollouts.bandit.models import ArmPosterior, ArmStatistics, BanditDesign, PosteriorSummary, RewardKind
from rollouts.bandit.posterior import (
    MINIMUM_REAL_COUNT,
    BestArmMoments,
    best_arm_moments,
    credible_interval,
    posterior,
    probability_best,
)

_TOLERANCE = 1e-12
_NEGLIGIBLE = 1e-15


def constrain_weights(weights: Sequence[float], floors: Sequence[float], caps: Sequence[float]) -> list[float]:
    """Rescale `weights` so that they sum to 1 with floors[i] <= w[i] <= caps[i] (see the module's docstring)."""
    count = len(weights)
    if not count or len(floors) != count or len(caps) != count:
        raise ValueError("weights, floors and caps need one value per arm")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be nonnegative and not all 0, got {list(weights)}")
    for lower, upper in zip(floors, caps, strict=True):
        if not 0 <= lower <= upper <= 1:
            raise ValueError(f"a floor {lower:g} and cap {upper:g} must satisfy 0 <= floor <= cap <= 1")
    if sum(floors) > 1 + _TOLERANCE:
        raise ValueError(f"the floors sum to {sum(floors):g}, above 1")
    if sum(caps) < 1 - _TOLERANCE:
        raise ValueError(f"the caps sum to {sum(caps):g}, below 1")
    total = sum(weights)
    # A share below 1e-15 counts as 0: its breakpoints would overflow and no traffic split can express it.
    p = [w / total if w / total >= _NEGLIGIBLE else 0.0 for w in weights]

    def clipped(scale: float) -> list[float]:
        return [min(upper, max(lower, scale * value)) for value, lower, upper in zip(p, floors, caps, strict=True)]

    bounds = zip(p, floors, caps, strict=True)
    breakpoints = sorted({bound / value for value, lower, upper in bounds if value > 0 for bound in (lower, upper)})
    previous, previous_sum = 0.0, sum(clipped(0.0))
    if previous_sum >= 1 - _TOLERANCE:
        return clipped(0.0)
    for point in breakpoints:
        current_sum = sum(clipped(point))
        if current_sum >= 1:
            scale = previous + (point - previous) * (1 - previous_sum) / (current_sum - previous_sum)
            return clipped(scale)
        previous, previous_sum = point, current_sum
    # Every arm with p > 0 is at its cap: the rest goes to the arms with p = 0, by their room under the cap.
    result = clipped(previous)
    room = [upper - w if value == 0 else 0.0 for w, value, upper in zip(result, p, caps, strict=True)]
    if sum(room) <= 0:
        # No arm with p = 0 has room: rounding left the last breakpoint's sum a hair below 1 (an arm capped at 0,
        # the others at their caps). The arms below their caps take that hair, by their room.
        room = [upper - w for w, upper in zip(result, caps, strict=True)]
    missing = 1 - sum(result)
    if sum(room) <= 0:
        return result
    return [w + missing * r / sum(room) for w, r in zip(result, room, strict=True)]


def probabilities_and_weights(
    arms: Sequence[ArmStatistics], design: BanditDesign | None = None
) -> tuple[list[float], list[float]]:
    """P(best) of each arm, and its traffic weight: P(best) mixed with IDS (module docstring), within floors and caps.

    In the arms' order. With an information share of 0 the weights are P(best) alone (Thompson sampling).
    """
    design = design or BanditDesign()
    probabilities, mixed = _mixed(arms, design)
    return probabilities, _constrain(mixed, arms, design)


def information_directed_weights(moments: BestArmMoments) -> list[float]:
    """The allocation that minimises the information ratio (sum pi Delta)² / (sum pi v) (module docstring)."""
    chance, deviations, means = moments.probabilities, moments.deviations, moments.means
    count = len(chance)
    best_mean = sum(deviations[m][m] + means[m] * chance[m] for m in range(count))  # E[max_k mu_k]
    regrets = [max(0.0, best_mean - mean) for mean in means]
    gains = [sum(d * d / p for d, p in zip(row, chance, strict=True) if p > _NEGLIGIBLE) for row in deviations]
    best_ratio, best = math.inf, list(chance)
    for i, j in combinations(range(count), 2):
        for share in _shares(regrets[i] - regrets[j], gains[i] - gains[j], regrets[j], gains[j]):
            ratio = _information_ratio(
                share * regrets[i] + (1 - share) * regrets[j], share * gains[i] + (1 - share) * gains[j]
            )
            if ratio < best_ratio:
                best_ratio = ratio
                best = [0.0] * count
                best[i], best[j] = share, 1 - share
    return best


def _shares(regret_slope: float, gain_slope: float, regret: float, gain: float) -> list[float]:
    """Candidate shares q of arm i against arm j: both ends, and where d/dq of (D(q)² / V(q)) is 0 inside."""
    shares = [1.0, 0.0]
    if regret_slope and gain_slope:
        inside = (regret * gain_slope - 2 * regret_slope * gain) / (regret_slope * gain_slope)
        if 0 < inside < 1:
            shares.append(inside)
    return shares


def _information_ratio(regret: float, gain: float) -> float:
    if regret <= 0:
        return 0.0
    return regret * regret / gain if gain > 0 else math.inf


def _mixed(arms: Sequence[ArmStatistics], design: BanditDesign) -> tuple[list[float], list[float]]:
    """P(best) of each arm, and the weights before floors and caps: (1 - share) P(best) + share IDS."""
    kind, share = design.reward_kind, design.information_share
    if share == 0 or len(arms) < 2 or _warm_up(arms, kind):
        probabilities = probability_best(arms, kind)
        return probabilities, probabilities
    posteriors = [posterior(arm, kind) for arm in arms]
    moments = best_arm_moments(posteriors)
    probabilities = moments.probabilities
    if all(dist == posteriors[0] for dist in posteriors):
        return probabilities, probabilities  # nothing tells the arms apart: IDS would send all to the first
    directed = information_directed_weights(moments)
    return probabilities, [(1 - share) * p + share * d for p, d in zip(probabilities, directed, strict=True)]


def _warm_up(arms: Sequence[ArmStatistics], kind: RewardKind) -> bool:
    """Real rewards with an arm below the count a normal posterior needs: every arm gets the same weight."""
    return kind is RewardKind.REAL and any(arm.count < MINIMUM_REAL_COUNT for arm in arms)


def summarize(arms: Sequence[ArmStatistics], design: BanditDesign | None = None) -> PosteriorSummary:
    """Everything a "Bandit Reweighted" decision carries: per arm the posterior, P(best) and the weight to set."""
    design = design or BanditDesign()
    kind = design.reward_kind
    probabilities, weights = probabilities_and_weights(arms, design)
    warm_up = len(arms) > 1 and _warm_up(arms, kind)
    posteriors = []
    for arm, probability, weight in zip(arms, probabilities, weights, strict=True):
        mean = lower = upper = None
        if kind is RewardKind.CONVERSION or arm.count >= MINIMUM_REAL_COUNT:
            mean = posterior(arm, kind).mean
            lower, upper = credible_interval(arm, kind, design.credible_level)
        posteriors.append(
            ArmPosterior(
                variant=arm.variant,
                count=arm.count,
                mean=mean,
                lower=lower,
                upper=upper,
                probability_best=min(1.0, probability),
                weight=min(1.0, max(0.0, weight)),
            )
        )
    leader = max(range(len(arms)), key=lambda i: (probabilities[i], -i))
    return PosteriorSummary(
        reward_kind=kind,
        credible_level=design.credible_level,
        arms=tuple(posteriors),
        leader=arms[leader].variant,
        warm_up=warm_up,
    )


def _constrain(probabilities: Sequence[float], arms: Sequence[ArmStatistics], design: BanditDesign) -> list[float]:
    floors = [design.floor_of(arm.variant) for arm in arms]
    caps = [design.cap_of(arm.variant) for arm in arms]
    return constrain_weights(probabilities, floors, caps)
