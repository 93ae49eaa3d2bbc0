"""Mean rewards of the candidate against the baseline's under a group-sequential design: feedback (conversions and
real-valued rewards) judged at every step with a stated false-alarm rate.

The statistic is Welch's z for a difference of means with a relative margin: with lower worse (a conversion rate,
a revenue), the candidate fails when (1 - allowed) * baseline mean - candidate mean is larger than the look's
O'Brien-Fleming boundary times its standard error; with higher worse, mirrored. Each arm's mean and variance come
from its totals (count, sum, sum of squares), so one atomic update per batch keeps them.

Known weaknesses:
- Normal theory. The z needs enough events for the means to be near normal: with conversions of a few per cent,
  hundreds of events per arm (`minimum_samples`); heavy-tailed rewards (revenue) need more. Below it: Inconclusive.
- The boundaries are spent on the planned information fractions of the canary (weight times bake); feedback that
  arrives late shifts the real fractions (a conversion counted a step later is information at a later look).
- Feedback counts events, not requests: an arm whose users send feedback more often weighs more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rollouts.judge.outcome import Evidence, MetricVerdict, relative_change, too_few
from rollouts.judge.sequential import GroupSequentialDesign, look_verdict


@dataclass(frozen=True)
class MeanStats:
    """An arm's totals: how many rewards, their sum and the sum of their squares."""

    count: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def variance(self) -> float:
        """The unbiased sample variance (0 below two rewards; never negative from rounding)."""
        if self.count < 2:
            return 0.0
        return max(0.0, (self.total_sq - self.count * self.mean**2) / (self.count - 1))


def welch_z(baseline: MeanStats, candidate: MeanStats, allowed: float, higher_is_worse: bool) -> float:
    """How far the candidate is worse than the baseline beyond the margin, in standard errors (positive: worse)."""
    sign = 1.0 if higher_is_worse else -1.0
    factor = 1.0 + sign * allowed
    gap = sign * (candidate.mean - factor * baseline.mean)
    se = math.sqrt(candidate.variance / candidate.count + factor**2 * baseline.variance / baseline.count)
    if se == 0.0:
        return math.copysign(math.inf, gap) if gap else 0.0
    return gap / se


def judge_means(
    metric: str,
    design: GroupSequentialDesign,
    look: int,
    baseline: MeanStats,
    candidate: MeanStats,
    higher_is_worse: bool = False,
    critical: bool = False,
) -> MetricVerdict:
    """The verdict at look `look` (1-based) on the totals since the rollout started managing both arms."""
    if not 1 <= look <= design.looks:
        raise ValueError(f"look must be between 1 and {design.looks}, got {look}")
    counts = f"over {candidate.count:,} / {baseline.count:,} rewards"
    if min(baseline.count, candidate.count) < design.minimum_samples_per_arm:
        return too_few(
            metric,
            critical,
            f"{metric} {counts}: fewer than the minimum {design.minimum_samples_per_arm:,} rewards per variant "
            f"at look {look} of {design.looks}: Inconclusive",
            baseline_samples=baseline.count,
            candidate_samples=candidate.count,
            statistic_name="z",
            alpha=design.alpha,
            allowed_change=design.allowed_relative_change,
            look=look,
            looks=design.looks,
        )
    z = welch_z(baseline, candidate, design.allowed_relative_change, higher_is_worse)
    worse = "higher" if higher_is_worse else "lower"
    allowed = (
        f" ({'+' if higher_is_worse else '-'}{design.allowed_relative_change:.0%} allowed)"
        if design.allowed_relative_change
        else ""
    )
    outcome, rule, reason, boundary = look_verdict(z, design, look, f"Welch z = {z:.2f} ({worse} is worse)")
    return MetricVerdict(
        metric=metric,
        outcome=outcome,
        critical=critical,
        evidence=Evidence(
            baseline_samples=baseline.count,
            candidate_samples=candidate.count,
            baseline_estimate=baseline.mean,
            candidate_estimate=candidate.mean,
            statistic_name="z",
            statistic=z if math.isfinite(z) else None,
            boundary=boundary,
            alpha=design.alpha,
            effect_size=relative_change(baseline.mean, candidate.mean),
            allowed_change=design.allowed_relative_change,
            look=look,
            looks=design.looks,
            rule=rule,
            explanation=(
                f"{metric} mean {candidate.mean:,.4g} on the candidate vs {baseline.mean:,.4g} on the baseline"
                f"{allowed} {counts}: {reason}: {outcome.value}"
            ),
        ),
    )
