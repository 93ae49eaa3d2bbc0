"""Mixture sequential probability ratio test (mSPRT) of a candidate's error rate: valid at any number of looks.

Johari, Koomen, Pekelis and Walsh, "Peeking at A/B Tests" (KDD 2017) and "Always Valid Inference" (Operations
Research 2022), as deployed in Optimizely's Stats Engine. The difference theta = p_c - R p_b (R = 1 + the allowed
relative change, as in `rollouts.judge.sequential`) is estimated by theta_hat with variance sigma² (the
Farrington-Manning variance under the null, shared with the group-sequential test). The likelihood ratio of
"theta ~ mixing distribution" against "theta = 0" for a normal estimate is a nonnegative martingale under the null,
so by Ville's inequality P(it ever reaches 1/alpha) <= alpha however often it is looked at.

The mixing distribution is the normal N(0, tau²) of Johari et al. restricted to theta > 0 (a half-normal): a canary
only fails on an increase, and for theta <= 0 each component theta' > 0 of the mixture has expectation
exp(theta' theta / sigma²) <= 1, so the one-sided null stays covered. In closed form

    Lambda = 2 sqrt(sigma² / (sigma² + tau²)) exp(theta_hat² tau² / (2 sigma² (sigma² + tau²)))
             Phi(theta_hat tau / (sigma sqrt(sigma² + tau²)))

which is Johari's two-sided Lambda_n (sigma² = V / n) times 2 Phi(.): about twice as large on an increase and
near 0 on a decrease. The always-valid p-value is p_n = min(p_{n-1}, 1 / Lambda_n); carry it from look to look.

tau is the effect the test is tuned to on the difference scale (0.01 for 1 % -> 2 %); the test stops soonest on
effects near tau and stays valid for any. The price of validity at every look: when judged only a few times (a
5-step canary) it is conservative, and it needs more requests than a group-sequential design for the same power
(Spotify's comparison, 2023); prefer `rollouts.judge.sequential` when the looks are planned, this one when they are
not (continuous monitoring, a bake of unknown length).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule, percent, relative_change, too_few
from rollouts.judge.sequential import (
    _check_fractions,
    _solve_decreasing,
    compare_rates,
    power_note,
    rate_alternative,
    shifted_power,
)

_LOG_CAP = 700.0  # exp(700) is near the largest float: a larger ratio is reported as this one
_SQRT2 = math.sqrt(2.0)


class MsprtDesign(BaseModel):
    """An always-valid one-sided comparison of error rates, higher is worse."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(default=0.05, gt=0, lt=1, description="False-alarm rate over any number of looks")
    mixing_sd: float = Field(gt=0, le=1, description="tau: the effect size on the difference scale, 0.01 for 1 -> 2 %")
    minimum_samples_per_arm: int = Field(default=100, ge=1, description="Below this many requests: Inconclusive")
    maximum_samples_per_arm: int | None = Field(
        default=None, ge=1, description="Candidate requests after which an uncrossed test is Successful"
    )
    allowed_relative_change: float = Field(default=0.0, ge=0, description="0.1 tolerates +10 % on the rate")
    fractions: tuple[float, ...] | None = Field(
        default=None, description="The planned looks' information fractions: only for the reported power"
    )
    detectable_change: float | None = Field(
        default=None, gt=0, description="The relative worsening of the rate the reported power is computed against"
    )


def _log_normal_cdf(x: float) -> float:
    if x > -30:
        return math.log(0.5 * math.erfc(-x / _SQRT2))
    # Mills-ratio asymptote: erfc underflows to 0 near x = -38, its logarithm does not.
    return -0.5 * x * x - math.log(-x) - 0.5 * math.log(2 * math.pi)


def log_likelihood_ratio(difference: float, variance: float, mixing_sd: float) -> float:
    """log Lambda for an estimate `difference` with `variance`, half-normal mixture of scale `mixing_sd`."""
    if variance <= 0:
        # Only when both variants have no errors (or only errors): no difference, and the ratio's limit as the
        # variance shrinks with no difference is 0, the least evidence there is.
        return -math.inf
    tau2 = mixing_sd * mixing_sd
    total = variance + tau2
    return (
        math.log(2.0)
        + 0.5 * math.log(variance / total)
        + difference * difference * tau2 / (2 * variance * total)
        + _log_normal_cdf(difference * mixing_sd / math.sqrt(variance * total))
    )


def z_boundary(alpha: float, standard_error: float, mixing_sd: float) -> float:
    """The z (estimate over its standard error) at which the likelihood ratio reaches 1 / alpha: Lambda grows with the
    estimate (each component of the half-normal mixture does), so crossing 1 / alpha is z >= this."""
    target = math.log(1 / alpha)
    variance = standard_error * standard_error
    return _solve_decreasing(
        lambda z: -log_likelihood_ratio(z * standard_error, variance, mixing_sd), -target, -10.0, 60.0
    )


def msprt_power(
    design: MsprtDesign, look: int | None, baseline_rate: float, baseline_requests: int, candidate_requests: int
) -> float | None:
    """The power against a rate (1 + detectable_change) times the baseline's, by the last planned look.

    At the projected maximum (n / t_look per variant) the estimate has the null standard error s_K and at look k
    s_K / sqrt(t_k); the test fails at look k when the estimate over s_k reaches `z_boundary` for that standard
    error, so the mSPRT is a group-sequential test with those boundaries, and its power is theirs
    (`rollouts.judge.sequential.shifted_power`). None without planned fractions, a look, a detectable change or
    baseline errors."""
    fractions, change = design.fractions, design.detectable_change
    if fractions is None or look is None or change is None or not 1 <= look <= len(fractions):
        return None
    _check_fractions(fractions)
    fraction = fractions[look - 1]
    alternative = rate_alternative(
        baseline_rate,
        baseline_requests / fraction,
        candidate_requests / fraction,
        design.allowed_relative_change,
        change,
    )
    if alternative is None or alternative.null_sd <= 0:
        return None
    bounds = [z_boundary(design.alpha, alternative.null_sd / math.sqrt(t), design.mixing_sd) for t in fractions]
    return shifted_power(bounds, fractions, *alternative)


def judge_msprt(
    metric: str,
    design: MsprtDesign,
    baseline_errors: int,
    baseline_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    previous_p_value: float = 1.0,
    critical: bool = False,
    look: int | None = None,
) -> MetricVerdict:
    """The verdict on cumulative counts; pass the p-value of the previous look as `previous_p_value`, and the look
    (1-based, of `design.fractions`) for a reported power."""
    counts = f"over {candidate_requests:,} / {baseline_requests:,} requests"
    threshold = 1 / design.alpha
    if min(baseline_requests, candidate_requests) < design.minimum_samples_per_arm:
        return too_few(
            metric,
            critical,
            f"{metric} {counts}: fewer than the minimum {design.minimum_samples_per_arm:,} requests per variant: "
            "Inconclusive",
            baseline_samples=baseline_requests,
            candidate_samples=candidate_requests,
            statistic_name="likelihood ratio",
            boundary=threshold,
            p_value=previous_p_value,
            alpha=design.alpha,
            allowed_change=design.allowed_relative_change,
        )
    comparison = compare_rates(
        baseline_errors, baseline_requests, candidate_errors, candidate_requests, design.allowed_relative_change
    )
    log_ratio = log_likelihood_ratio(comparison.difference, comparison.standard_error**2, design.mixing_sd)
    ratio = math.exp(min(log_ratio, _LOG_CAP))
    p_value = min(previous_p_value, math.exp(-min(log_ratio, _LOG_CAP)), 1.0)
    reached_maximum = (
        design.maximum_samples_per_arm is not None and candidate_requests >= design.maximum_samples_per_arm
    )
    if p_value <= design.alpha:
        outcome, rule = Outcome.FAILED, Rule.LIKELIHOOD_RATIO_CROSSED
        reason = f"always-valid p = {p_value:.3g} <= alpha {design.alpha:g} (likelihood ratio {ratio:.3g})"
    elif reached_maximum:
        outcome, rule = Outcome.SUCCESSFUL, Rule.MAXIMUM_SAMPLE_REACHED
        reason = (
            f"likelihood ratio {ratio:.3g} stayed below {threshold:g} up to the maximum "
            f"{design.maximum_samples_per_arm:,} candidate requests"
        )
    else:
        outcome, rule = Outcome.INCONCLUSIVE, Rule.LIKELIHOOD_RATIO_NOT_CROSSED
        reason = f"likelihood ratio {ratio:.3g} is below {threshold:g}, no regression so far"
    allowed = f" (+{design.allowed_relative_change:.0%} allowed)" if design.allowed_relative_change else ""
    power = msprt_power(design, look, comparison.baseline_rate, baseline_requests, candidate_requests)
    return MetricVerdict(
        metric=metric,
        outcome=outcome,
        critical=critical,
        evidence=Evidence(
            baseline_samples=baseline_requests,
            candidate_samples=candidate_requests,
            baseline_estimate=comparison.baseline_rate,
            candidate_estimate=comparison.candidate_rate,
            statistic_name="likelihood ratio",
            statistic=ratio,
            boundary=threshold,
            p_value=p_value,
            alpha=design.alpha,
            effect_size=relative_change(comparison.baseline_rate, comparison.candidate_rate),
            allowed_change=design.allowed_relative_change,
            look=look,
            looks=len(design.fractions) if design.fractions else None,
            rule=rule,
            power=power,
            detectable_change=design.detectable_change,
            explanation=(
                f"{metric} {percent(comparison.candidate_rate)} on the candidate vs "
                f"{percent(comparison.baseline_rate)} on the baseline{allowed} {counts}: {reason}: {outcome.value}"
                f"{power_note(power, design.detectable_change)}"
            ),
        ),
    )
