"""Thompson sampling as probability matching: traffic weights = P(arm is best), within per-arm floors and caps.

Setting each variant's weight to P(best | data) and routing requests at random by the weights gives every request
the same arm distribution as one Thompson draw per request (the argmax of one posterior draw per arm is arm i with
probability P(i is best)); the weights are refreshed once per batch instead of per request
(docs: performance-anchors 1.3 and 1.4 measure no loss at batches of 100 to 1,000 requests).

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

from collections.abc import Sequence

from rollouts.bandit.models import ArmPosterior, ArmStatistics, BanditDesign, PosteriorSummary, RewardKind
from rollouts.bandit.posterior import MINIMUM_REAL_COUNT, credible_interval, posterior, probability_best

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
    missing = 1 - sum(result)
    return [w + missing * r / sum(room) for w, r in zip(result, room, strict=True)]


def thompson_weights(arms: Sequence[ArmStatistics], design: BanditDesign | None = None) -> list[float]:
    """The traffic weights of the arms, in order: P(best) within the design's floors and caps."""
    design = design or BanditDesign()
    return _constrain(probability_best(arms, design.reward_kind), arms, design)


def summarize(arms: Sequence[ArmStatistics], design: BanditDesign | None = None) -> PosteriorSummary:
    """Everything a "Bandit Reweighted" decision carries: per arm the posterior, P(best) and the weight to set."""
    design = design or BanditDesign()
    kind = design.reward_kind
    probabilities = probability_best(arms, kind)
    weights = _constrain(probabilities, arms, design)
    warm_up = kind is RewardKind.REAL and len(arms) > 1 and any(arm.count < MINIMUM_REAL_COUNT for arm in arms)
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
