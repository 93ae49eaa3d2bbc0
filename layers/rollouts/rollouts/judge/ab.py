"""Two-sided mixture SPRT (mSPRT) of an A/B test's mean reward: which model wins, valid at any number of looks.

Johari, Koomen, Pekelis and Walsh, "Peeking at A/B Tests" (KDD 2017) and "Always Valid Inference" (Operations
Research 2022), the normal mixture of `rollouts.judge.msprt` without its restriction to one side. The difference
theta = mean_c - mean_b of the mean rewards (conversions 0/1 or real values) is estimated by theta_hat with the
variance V = var_c / n_c + var_b / n_b (unbiased sample variances). The likelihood ratio of "theta ~ N(0, tau²)"
against "theta = 0" is, in closed form,

    Lambda = sqrt(V / (V + tau²)) exp(theta_hat² tau² / (2 V (V + tau²)))

Johari's Lambda_n with V = sigma² / n. It is a nonnegative martingale under the null, so by Ville's inequality
P(it ever reaches 1/alpha) <= alpha however often it is looked at: a look names a winner when its own Lambda is at
least 1/alpha, the winner being the sign of its theta_hat, and a rollout that stops there has named a winner by
chance with probability at most alpha. Deciding on the current Lambda (not on the smallest p-value so far) keeps the
winner's sign the current estimate's. The look's always-valid p-value is min(1, 1 / Lambda); the running p-value
min(p_1, ..., p_n) is reported beside it when the previous one is passed.

Inverting Lambda >= 1/alpha in theta_hat - theta gives the always-valid confidence interval of the paper,

    theta_hat ± sqrt(V (V + tau²) / tau² (log((V + tau²) / V) + 2 log(1 / alpha)))

which excludes 0 exactly when a winner is named.

tau (`effect_size`) is the difference the test is tuned to, on the reward's scale (0.01 for a 10 % -> 11 %
conversion rate): the test stops soonest on effects near tau and stays valid for any.

Known weaknesses:
- Normal theory with plug-in variances: each arm's mean must be near normal (hundreds of conversions, more for
  heavy-tailed rewards such as revenue); below `minimum_samples_per_arm` in either arm there is no decision.
- The martingale is exact for a constant traffic split; a split that changes mid-test makes it approximate.
- Zero variance in both arms (every reward the same within each arm) leaves no sampling noise in the estimate: equal
  means are no evidence, different means are taken as certain (the limit of Lambda), which the minimum sample guards.
- Feedback counts rewards, not requests: an arm whose users send feedback more often weighs more.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rollouts.judge.means import MeanStats
from rollouts.judge.msprt import _LOG_CAP
from rollouts.judge.outcome import AbVerdict, relative_change

_SAME_MEAN = 1e-9  # relative gap below which constant arms' means differ only by rounding


class AbDesign(BaseModel):
    """An always-valid two-sided comparison of mean rewards, higher is better."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="Chance of naming a winner when there is none, over any number of looks"
    )
    effect_size: float = Field(
        gt=0, description="tau: the difference in mean reward the test is tuned to, 0.01 for 10 % -> 11 %"
    )
    minimum_samples_per_arm: int = Field(
        default=200, ge=2, description="Below this many rewards in either arm: no decision"
    )


def two_sided_log_likelihood_ratio(difference: float, variance: float, effect_size: float) -> float:
    """log Lambda for an estimate `difference` with `variance`, normal mixture N(0, effect_size²)."""
    if variance <= 0:
        # The limit as the variance shrinks: no evidence without a difference, certainty with one.
        return math.inf if difference else -math.inf
    tau2 = effect_size * effect_size
    total = variance + tau2
    return 0.5 * (math.log(variance) - math.log(total)) + difference * difference * tau2 / (2 * variance * total)


def always_valid_interval(difference: float, variance: float, effect_size: float, alpha: float) -> tuple[float, float]:
    """The differences theta whose Lambda(difference - theta) stays below 1/alpha (a point at zero variance)."""
    if variance <= 0:
        return difference, difference
    tau2 = effect_size * effect_size
    total = variance + tau2
    half = math.sqrt(variance * total / tau2 * (math.log(total) - math.log(variance) + 2 * math.log(1 / alpha)))
    return difference - half, difference + half


def judge_ab(design: AbDesign, baseline: MeanStats, candidate: MeanStats, previous_p_value: float = 1.0) -> AbVerdict:
    """The decision of one look on each arm's cumulative rewards; pass the previous look's running p-value."""
    difference = candidate.mean - baseline.mean
    threshold = 1 / design.alpha
    baseline_arm = {"count": baseline.count, "mean": baseline.mean}
    candidate_arm = {"count": candidate.count, "mean": candidate.mean}
    counts = f"over {candidate.count:,} / {baseline.count:,} rewards"
    means = f"mean reward {candidate.mean:,.4g} on the candidate vs {baseline.mean:,.4g} on the baseline"
    change = relative_change(baseline.mean, candidate.mean)
    if change is not None:
        means += f" ({change * 100:+.1f} %)"
    if min(baseline.count, candidate.count) < design.minimum_samples_per_arm:
        return AbVerdict(
            winner=None,
            baseline=baseline_arm,
            candidate=candidate_arm,
            difference=difference,
            relative_change=change,
            interval=None,
            likelihood_ratio=1.0,  # the mixture martingale's value before any evidence
            p_value=1.0,
            running_p_value=min(previous_p_value, 1.0),
            alpha=design.alpha,
            reason=(
                f"No decision yet: the candidate has {candidate.count:,} and the baseline {baseline.count:,} of the "
                f"minimum {design.minimum_samples_per_arm:,} rewards per arm"
            ),
        )
    variance = candidate.variance / candidate.count + baseline.variance / baseline.count
    if variance == 0 and math.isclose(candidate.mean, baseline.mean, rel_tol=_SAME_MEAN):
        difference = 0.0
    log_ratio = min(two_sided_log_likelihood_ratio(difference, variance, design.effect_size), _LOG_CAP)
    ratio = math.exp(log_ratio)
    p_value = min(1.0, math.exp(-log_ratio))
    running = min(previous_p_value, p_value)
    low, high = always_valid_interval(difference, variance, design.effect_size, design.alpha)
    interval = f"always-valid {(1 - design.alpha) * 100:g} % interval of the difference {low:+.4g} to {high:+.4g}"
    evidence = f"likelihood ratio {ratio:.3g}"
    winner: Literal["candidate", "baseline"] | None = None
    if log_ratio >= math.log(threshold):
        winner = "candidate" if difference > 0 else "baseline"
        reason = (
            f"{winner.capitalize()} wins: {means} {counts}; {interval} excludes 0 ({evidence} >= {threshold:g}, "
            f"p = {p_value:.3g} <= alpha {design.alpha:g})"
        )
    elif variance == 0 and difference == 0:
        reason = (
            f"No winner: every reward is {baseline.mean:,.4g} in both arms {counts}, no difference to test ({evidence})"
        )
    else:
        reason = (
            f"No winner yet: {means} {counts}; {interval} includes 0 ({evidence} < {threshold:g}, "
            f"p = {p_value:.3g} > alpha {design.alpha:g})"
        )
    if winner is None and running <= design.alpha:
        reason += f"; an earlier look reached p = {running:.3g}"
    return AbVerdict(
        winner=winner,
        baseline=baseline_arm,
        candidate=candidate_arm,
        difference=difference,
        relative_change=change,
        interval=(low, high),
        likelihood_ratio=ratio,
        p_value=p_value,
        running_p_value=running,
        alpha=design.alpha,
        reason=reason,
    )
