"""Mean rewards of the candidate against the baseline's under a group-sequential design: feedback (conversions and
real-valued rewards) judged at every step with a stated false-alarm rate.

The statistic is a z for a difference of means with a relative margin: with lower worse (a conversion rate,
a revenue), the candidate fails when (1 - allowed) * baseline mean - candidate mean is larger than the look's
O'Brien-Fleming boundary times its standard error; with higher worse, mirrored. Each arm's mean and variance come
from its totals (count, sum, sum of squares), so one atomic update per batch keeps them.

The standard error is the larger of two: Welch's, sqrt(s_c² / n_c + f² s_b² / n_b) with each arm's own variance
(right when the arms' variances differ, as revenue's may), and the pooled one, sqrt(s² (1 / n_c + f² / n_b)) with
the variance s² of all the rewards together (the variance under the null that both arms draw from one
distribution). Welch's alone is liberal for conversions: a candidate whose rate is low by chance also has a low
variance p(1 - p), so its z is too large exactly where it fails. On equal 10 % conversions judged at the five
steps of bench/judge.py's 3-check canary (a numpy simulation of the two statistics, 10^6 replications, run when this
was written) a design of alpha 1/60 failed 0.0180 of them with Welch's standard error and 0.0164 with the larger of
the two; through the judge, 100,000 canaries gave 0.0177 +- 0.0004 with Welch's alone and 0.0163 +- 0.0004 now
(docs/benchmarks-judge.md). The family-wise rate needs every check at its alpha.

Known weaknesses:
- Normal theory. The z needs enough events for the means to be near normal: with conversions of a few per cent,
  hundreds of events per arm (`minimum_samples`); heavy-tailed rewards (revenue) need more. Below it: Inconclusive.
- The boundaries are spent on the planned information fractions of the canary (`rollouts.logic.judging`:
  1 / (1 / C + 1 / B) of the planned cumulative traffic of each variant); feedback that
  arrives late shifts the real fractions (a conversion counted a step later is information at a later look).
- Feedback counts events, not requests: an arm whose users send feedback more often weighs more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rollouts.judge.outcome import Evidence, MetricVerdict, relative_change, too_few
from rollouts.judge.sequential import GroupSequentialDesign, look_verdict, power_note, shifted_power


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
    """How far the candidate is worse than the baseline beyond the margin, in Welch's standard errors (positive:
    worse)."""
    sign = 1.0 if higher_is_worse else -1.0
    factor = 1.0 + sign * allowed
    gap = sign * (candidate.mean - factor * baseline.mean)
    se = math.sqrt(candidate.variance / candidate.count + factor**2 * baseline.variance / baseline.count)
    if se == 0.0:
        return math.copysign(math.inf, gap) if gap else 0.0
    return gap / se


def pooled_variance(baseline: MeanStats, candidate: MeanStats) -> float:
    """The unbiased variance of all the rewards of both arms together (0 below two; never negative)."""
    count = baseline.count + candidate.count
    if count < 2:
        return 0.0
    mean = (baseline.total + candidate.total) / count
    return max(0.0, (baseline.total_sq + candidate.total_sq - count * mean**2) / (count - 1))


def _standard_error(
    baseline: MeanStats, candidate: MeanStats, factor: float, n_b: float, n_c: float
) -> tuple[float, str]:
    welch = math.sqrt(candidate.variance / n_c + factor**2 * baseline.variance / n_b)
    pooled = math.sqrt(pooled_variance(baseline, candidate) * (1 / n_c + factor**2 / n_b))
    return (pooled, "pooled") if pooled > welch else (welch, "Welch's")


def mean_z(baseline: MeanStats, candidate: MeanStats, allowed: float, higher_is_worse: bool) -> tuple[float, str]:
    """How far the candidate is worse than the baseline beyond the margin, in standard errors (positive: worse), and
    which standard error: the larger of Welch's and the pooled one (the module's docstring)."""
    sign = 1.0 if higher_is_worse else -1.0
    factor = 1.0 + sign * allowed
    gap = sign * (candidate.mean - factor * baseline.mean)
    se, which = _standard_error(baseline, candidate, factor, baseline.count, candidate.count)
    if se == 0.0:
        return (math.copysign(math.inf, gap) if gap else 0.0), which
    return gap / se, which


def means_power(
    design: GroupSequentialDesign, look: int, baseline: MeanStats, candidate: MeanStats, higher_is_worse: bool
) -> float | None:
    """The power against a candidate mean worse by `design.detectable_change` (relative), by the last look.

    At the alternative the margin's gap sign (c - (1 +- allowed) b) is (detectable - allowed) * baseline mean; the
    standard error is the statistic's (`mean_z`) with the variances observed, at the projected maximum (n / t_look
    rewards), the same under the null and the alternative. Normal theory; None without a detectable change, with a
    baseline mean of 0 or below (no relative change to speak of) or without variance."""
    if design.detectable_change is None or baseline.mean <= 0:
        return None
    fraction = design.fractions[look - 1]
    n_b, n_c = baseline.count / fraction, candidate.count / fraction
    factor = 1.0 + (1.0 if higher_is_worse else -1.0) * design.allowed_relative_change  # as in mean_z
    sd, _ = _standard_error(baseline, candidate, factor, n_b, n_c)
    gap = (design.detectable_change - design.allowed_relative_change) * baseline.mean
    return shifted_power(design.boundaries, design.fractions, gap, sd, sd)


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
    z, which = mean_z(baseline, candidate, design.allowed_relative_change, higher_is_worse)
    worse = "higher" if higher_is_worse else "lower"
    allowed = (
        f" ({'+' if higher_is_worse else '-'}{design.allowed_relative_change:.0%} allowed)"
        if design.allowed_relative_change
        else ""
    )
    outcome, rule, reason, boundary = look_verdict(
        z, design, look, f"z = {z:.2f} ({which} standard error, the larger; {worse} is worse)"
    )
    power = means_power(design, look, baseline, candidate, higher_is_worse)
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
            power=power,
            detectable_change=design.detectable_change,
            explanation=(
                f"{metric} mean {candidate.mean:,.4g} on the candidate vs {baseline.mean:,.4g} on the baseline"
                f"{allowed} {counts}: {reason}: {outcome.value}"
                f"{power_note(power, design.detectable_change, '+' if higher_is_worse else '-')}"
            ),
        ),
    )
