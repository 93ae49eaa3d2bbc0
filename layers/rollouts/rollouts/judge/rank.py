"""Mann-Whitney U test on per-period latency statistics of the candidate vs the baseline, with an effect-size gate.

What it does, as Kayenta's NetflixACAJudge does: each variant contributes one value per period (a CloudWatch extended
statistic such as p99 ModelLatency per minute); the candidate fails only if its values are stochastically larger
(one-sided Mann-Whitney U, normal approximation with tie correction and continuity correction, the same p-value as
`scipy.stats.mannwhitneyu(candidate, baseline, alternative="greater", method="asymptotic")`) AND the median of its
values exceeds the baseline's by more than the allowed relative change. The gate keeps a statistically clear but
harmless shift (+2 % on p99 over many periods) from failing a rollout.

Known weaknesses, to read before trusting a verdict:
- Repeated looks inflate false alarms. This is a fixed-sample test; judging it at every step of a canary, on growing
  windows, fails an equal candidate more often than alpha (as Kayenta does; see `rollouts.judge.sequential` for a
  test that accounts for its looks). The effect-size gate limits the damage, it does not remove it.
- Few periods give no power. With n periods per variant the smallest exact one-sided p-value is 1 / C(2n, n): 0.05
  at 3 vs 3, so no outcome is significant at alpha 0.05, and the normal approximation used here is rough below about
  8 per variant (at 3 vs 3 it gives 0.040 where the exact value is 0.05). Hence a minimum number of periods, below
  which the verdict is Inconclusive.
- Ties. Percentiles of integer-millisecond latencies, or a flat-lined metric, tie often; midranks and the tie
  correction keep the test valid but lower its power, and when every value ties there is no evidence at all
  (p = 1: Successful). Kayenta adds a little noise instead. With ties the p-value is not a function of U alone:
  raising one candidate value can break a tie, leave U unchanged and raise p slightly (U and the medians never move
  the wrong way).
- It sees periods, not requests: a period with 3 requests weighs as much as one with 3,000, and a regression
  confined to a few requests (errors, a tail) is invisible in a median of percentiles. Use the rate tests for counts.
- It tests a shift in location: a candidate with the same median and a much wider spread passes
  (spinnaker/kayenta#780).
- Periods are treated as independent; autocorrelated latency (a slow minute is followed by slow minutes) makes the
  p-value too small.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule, relative_change, too_few

_SQRT2 = math.sqrt(2.0)


class RankDesign(BaseModel):
    """A one-sided rank comparison of per-period values, higher is worse."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    allowed_relative_change: float = Field(
        default=0.1, ge=0, description="Tolerated relative worsening of the median: 0.1 tolerates 10 % worse"
    )
    minimum_periods: int = Field(default=8, ge=2, description="Per variant; below it the verdict is Inconclusive")
    higher_is_worse: bool = Field(default=True, description="False for a metric where lower is worse (a conversion)")


class MannWhitney(NamedTuple):
    u: float  # U of the candidate: the number of (candidate, baseline) pairs where the candidate is larger, ties 1/2
    z: float
    p_value: float  # one-sided: the candidate is stochastically larger


def mann_whitney_greater(candidate: Sequence[float], baseline: Sequence[float]) -> MannWhitney:
    """One-sided Mann-Whitney U test that `candidate` is stochastically larger than `baseline`."""
    n_c, n_b = len(candidate), len(baseline)
    if not n_c or not n_b:
        raise ValueError("both samples need at least one value")
    if any(math.isnan(value) for value in (*candidate, *baseline)):
        raise ValueError("leave periods with no data out instead of passing NaN")
    values = sorted([*candidate, *baseline])
    # Midranks: the values tied at one number share the mean of the ranks they occupy.
    first_rank: dict[float, int] = {}
    for index, value in enumerate(values, start=1):
        first_rank.setdefault(value, index)
    counts = Counter(values)
    rank_sum = sum(first_rank[value] + (counts[value] - 1) / 2 for value in candidate)
    u = rank_sum - n_c * (n_c + 1) / 2
    n = n_c + n_b
    ties = sum(t**3 - t for t in counts.values())
    variance = n_c * n_b / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return MannWhitney(u, 0.0, 1.0)  # every value ties: no evidence either way
    z = (u - n_c * n_b / 2 - 0.5) / math.sqrt(variance)
    return MannWhitney(u, z, 0.5 * math.erfc(z / _SQRT2))


def judge_rank(
    metric: str,
    design: RankDesign,
    baseline: Sequence[float],
    candidate: Sequence[float],
    critical: bool = False,
) -> MetricVerdict:
    """The verdict on one value per period for each variant (periods with no data left out by the caller)."""
    n_b, n_c = len(baseline), len(candidate)
    if min(n_b, n_c) < design.minimum_periods:
        return too_few(
            metric,
            critical,
            f"{metric} over {n_c} / {n_b} periods: fewer than the minimum {design.minimum_periods} periods "
            "per variant: Inconclusive",
            baseline_samples=n_b,
            candidate_samples=n_c,
            statistic_name="U",
            alpha=design.alpha,
            allowed_change=design.allowed_relative_change,
        )
    # Lower is worse: the same one-sided test on the values negated, "worse" being "stochastically smaller".
    sign = 1.0 if design.higher_is_worse else -1.0
    test = mann_whitney_greater([sign * v for v in candidate], [sign * v for v in baseline])
    median_b, median_c = statistics.median(baseline), statistics.median(candidate)
    effect = relative_change(median_b, median_c)
    # A zero baseline median has no ratio: any move the bad way from 0 is beyond every allowed relative change.
    too_large = sign * median_c > sign * median_b if effect is None else sign * effect > design.allowed_relative_change
    change = "from 0" if effect is None else f"{effect:+.1%}"
    significant = test.p_value < design.alpha
    if significant and too_large:
        outcome, rule = Outcome.FAILED, Rule.SIGNIFICANT_INCREASE
        reason = f"p = {test.p_value:.3g} < {design.alpha:g} and the median moved {change}, beyond the allowed"
    elif significant:
        outcome, rule = Outcome.SUCCESSFUL, Rule.INCREASE_WITHIN_ALLOWED_CHANGE
        reason = f"p = {test.p_value:.3g} < {design.alpha:g} but the median moved {change}, within the allowed"
    else:
        outcome, rule = Outcome.SUCCESSFUL, Rule.NO_SIGNIFICANT_INCREASE
        worse = "increase" if design.higher_is_worse else "decrease"
        reason = f"p = {test.p_value:.3g} >= {design.alpha:g}, no significant {worse} (median {change})"
    return MetricVerdict(
        metric=metric,
        outcome=outcome,
        critical=critical,
        evidence=Evidence(
            baseline_samples=n_b,
            candidate_samples=n_c,
            baseline_estimate=median_b,
            candidate_estimate=median_c,
            statistic_name="U",
            statistic=test.u,
            p_value=test.p_value,
            alpha=design.alpha,
            effect_size=effect,
            allowed_change=design.allowed_relative_change,
            rule=rule,
            explanation=(
                f"{metric} median {median_c:,.6g} on the candidate vs {median_b:,.6g} on the baseline over "
                f"{n_c} / {n_b} periods ({'+' if design.higher_is_worse else '-'}"
                f"{design.allowed_relative_change:.0%} allowed): Mann-Whitney U = "
                f"{test.u:g}, z = {test.z:.2f}, {reason}: {outcome.value}"
            ),
        ),
    )
