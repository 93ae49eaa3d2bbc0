"""Mann-Whitney U test on per-period latency statistics of the candidate vs the baseline, with an effect-size gate.

What it does, as Kayenta's NetflixACAJudge does: each variant contributes one value per period (a CloudWatch extended
statistic such as p99 ModelLatency per minute); the candidate fails only if its values are stochastically larger
(one-sided Mann-Whitney U, normal approximation with tie correction and continuity correction, the same p-value as
`scipy.stats.mannwhitneyu(candidate, baseline, alternative="greater", method="asymptotic")`) AND the median of its
values exceeds the baseline's by more than the allowed relative change. The gate keeps a statistically clear but
harmless shift (+2 % on p99 over many periods) from failing a rollout.

Repeated looks. A canary judges the test at every step on the growing window, and a fixed-sample test looked at
five times fails an equal candidate more often than alpha (as Kayenta does). So the test is group-sequential: its
alpha is spent over the planned looks like the rate checks' (`rollouts.judge.sequential`, O'Brien-Fleming-type by
default) and the candidate's z is compared with the look's boundary, not with the fixed test's z_{1-alpha}. This is
valid because the Mann-Whitney statistic on nested samples is asymptotically the canonical process of group-
sequential theory: by Hajek's projection, U - n_c n_b / 2 is a sum of independent terms per period, so the
standardised U at successive looks behaves like a normalised random walk whose information grows with
n_c n_b / (n_c + n_b + 1), proportional to the periods judged when each variant contributes one value a period; the
information fraction of a look is then its share of the planned time (`rollouts.logic.judging`). With one look
(`fractions=(1.0,)`, the default) it is the fixed test: fail when p < alpha.

Known weaknesses, to read before trusting a verdict:
- The spending is exact for the normal limit; with few periods the normal approximation of U is rough (below), and
  O'Brien-Fleming's early boundaries are out of reach of a handful of periods: early looks rarely fail.
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

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule, relative_change, too_few
from rollouts.judge.sequential import Spending, _check_fractions, boundaries, power_note, shifted_power

_SQRT2 = math.sqrt(2.0)
_SPENDING_NAMES = {Spending.OBRIEN_FLEMING: "O'Brien-Fleming", Spending.POCOCK: "Pocock"}


class RankDesign(BaseModel):
    """A one-sided rank comparison of per-period values, higher is worse."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    allowed_relative_change: float = Field(
        default=0.1, ge=0, description="Tolerated relative worsening of the median: 0.1 tolerates 10 % worse"
    )
    minimum_periods: int = Field(default=8, ge=2, description="Per variant; below it the verdict is Inconclusive")
    higher_is_worse: bool = Field(default=True, description="False for a metric where lower is worse (a conversion)")
    fractions: tuple[float, ...] = Field(
        default=(1.0,), description="Planned information fraction (share of the time) of each look; the last is 1"
    )
    spending: Spending = Spending.OBRIEN_FLEMING
    detectable_change: float | None = Field(
        default=None, gt=0, description="The relative worsening of the values the reported power is against"
    )

    @field_validator("fractions")
    @classmethod
    def _valid_fractions(cls, fractions: tuple[float, ...]) -> tuple[float, ...]:
        _check_fractions(fractions)
        return fractions

    @property
    def looks(self) -> int:
        return len(self.fractions)

    @property
    def boundaries(self) -> tuple[float, ...]:
        return boundaries(self.alpha, self.fractions, self.spending)


class MannWhitney(NamedTuple):
    u: float  # U of the candidate: the number of (candidate, baseline) pairs where the candidate is larger, ties 1/2
    z: float
    p_value: float  # one-sided: the candidate is stochastically larger


def mann_whitney_greater(candidate: Sequence[float], baseline: Sequence[float]) -> MannWhitney:
    """One-sided Mann-Whitney U test that `candidate` is stochastically larger than `baseline`."""
    n_c, n_b = len(candidate), len(baseline)
    if not n_c or not n_b:
        raise ValueError("both samples need at least one value")
    if any(map(math.isnan, candidate)) or any(map(math.isnan, baseline)):
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


def scaled_pairs_share(values: Sequence[float], factor: float, higher_is_worse: bool) -> float | None:
    """P(factor * Y_i is worse than Y_j) over the pairs i != j of `values`, ties counted 1/2: the Mann-Whitney
    effect (P(candidate worse than baseline)) of a candidate whose values are the baseline's times `factor`.
    None with fewer than two values or a value at or below 0, where scaling is not a relative change."""
    if len(values) < 2 or min(values) <= 0:
        return None
    ordered = sorted(values)
    n = len(ordered)
    worse = 0.0
    for value in ordered:
        scaled = factor * value
        below, at_or_below = bisect.bisect_left(ordered, scaled), bisect.bisect_right(ordered, scaled)
        if higher_is_worse:
            worse += below + 0.5 * (at_or_below - below)
        else:
            worse += (n - at_or_below) + 0.5 * (at_or_below - below)
    # The pair (i, i): scaled by factor > 1 (higher worse) or < 1 (lower worse) it always counts 1; by 1, 1/2.
    diagonal = 0.5 if factor == 1 else 1.0
    return (worse - n * diagonal) / (n * (n - 1))


def rank_power(design: RankDesign, look: int, baseline: Sequence[float], n_b: int, n_c: int) -> float | None:
    """The power against a candidate whose values are the baseline's worse by `design.detectable_change` (times
    1 + change, or 1 - change when lower is worse), by the last look.

    The effect theta = P(candidate value worse than a baseline value) is estimated from the baseline's own values
    (`scaled_pairs_share`); at the projected maximum (N = n / t_look periods per variant) U - N_c N_b / 2 has mean
    N_c N_b (theta - 1/2), and its null standard deviation sqrt(N_c N_b (N_c + N_b + 1) / 12) stands for both. The
    power of the rank test alone: the median gate lowers it when the change is close to allowed_relative_change
    (and makes it about 0 below). None without a detectable change or with values at or below 0."""
    if design.detectable_change is None:
        return None
    factor = 1 + design.detectable_change if design.higher_is_worse else 1 - design.detectable_change
    if factor <= 0:
        return None
    theta = scaled_pairs_share(baseline, factor, design.higher_is_worse)
    if theta is None:
        return None
    fraction = design.fractions[look - 1]
    big_b, big_c = n_b / fraction, n_c / fraction
    sd = math.sqrt(big_c * big_b * (big_c + big_b + 1) / 12)
    return shifted_power(design.boundaries, design.fractions, big_c * big_b * (theta - 0.5), sd, sd)


def judge_rank(
    metric: str,
    design: RankDesign,
    baseline: Sequence[float],
    candidate: Sequence[float],
    critical: bool = False,
    look: int | None = None,
) -> MetricVerdict:
    """The verdict at look `look` (1-based; the design's last by default) on one value per period for each variant
    since the candidate got traffic (periods with no data left out by the caller)."""
    look = design.looks if look is None else look
    if not 1 <= look <= design.looks:
        raise ValueError(f"look must be between 1 and {design.looks}, got {look}")
    n_b, n_c = len(baseline), len(candidate)
    if min(n_b, n_c) < design.minimum_periods:
        return too_few(
            metric,
            critical,
            f"{metric} over {n_c} / {n_b} periods: fewer than the minimum {design.minimum_periods} periods "
            f"per variant{_at_look(look, design)}: Inconclusive",
            baseline_samples=n_b,
            candidate_samples=n_c,
            statistic_name="U",
            alpha=design.alpha,
            allowed_change=design.allowed_relative_change,
            look=look,
            looks=design.looks,
        )
    # Lower is worse: the same one-sided test on the values negated, "worse" being "stochastically smaller".
    sign = 1.0 if design.higher_is_worse else -1.0
    test = mann_whitney_greater([sign * v for v in candidate], [sign * v for v in baseline])
    median_b, median_c = statistics.median(baseline), statistics.median(candidate)
    effect = relative_change(median_b, median_c)
    # A zero baseline median has no ratio: any move the bad way from 0 is beyond every allowed relative change.
    too_large = sign * median_c > sign * median_b if effect is None else sign * effect > design.allowed_relative_change
    change = "from 0" if effect is None else f"{effect:+.1%}"
    boundary = design.boundaries[look - 1]
    level = 0.5 * math.erfc(boundary / _SQRT2)  # the look's nominal level: p <= it exactly when z >= the boundary
    significant = test.z >= boundary
    name = _SPENDING_NAMES[design.spending]
    at = _at_look(look, design)
    against = (
        f"p = {test.p_value:.3g} < {design.alpha:g}"
        if design.looks == 1
        else f"z = {test.z:.2f} >= the {name} boundary {boundary:.2f}{at}"
        f" (p = {test.p_value:.3g} <= the look's level {level:.3g} of alpha {design.alpha:g})"
    )
    not_against = (
        f"p = {test.p_value:.3g} >= {design.alpha:g}"
        if design.looks == 1
        else f"z = {test.z:.2f} < the {name} boundary {boundary:.2f}{at}"
        f" (p = {test.p_value:.3g}, the look's level {level:.3g} of alpha {design.alpha:g})"
    )
    if significant and too_large:
        outcome, rule = Outcome.FAILED, Rule.SIGNIFICANT_INCREASE
        reason = f"{against} and the median moved {change}, beyond the allowed"
    elif significant:
        outcome, rule = Outcome.SUCCESSFUL, Rule.INCREASE_WITHIN_ALLOWED_CHANGE
        reason = f"{against} but the median moved {change}, within the allowed"
    else:
        outcome, rule = Outcome.SUCCESSFUL, Rule.NO_SIGNIFICANT_INCREASE
        worse = "increase" if design.higher_is_worse else "decrease"
        reason = f"{not_against}, no significant {worse} (median {change})"
    power = rank_power(design, look, baseline, n_b, n_c)
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
            boundary=boundary,
            p_value=test.p_value,
            alpha=design.alpha,
            effect_size=effect,
            allowed_change=design.allowed_relative_change,
            look=look,
            looks=design.looks,
            rule=rule,
            power=power,
            detectable_change=design.detectable_change,
            explanation=(
                f"{metric} median {median_c:,.6g} on the candidate vs {median_b:,.6g} on the baseline over "
                f"{n_c} / {n_b} periods ({'+' if design.higher_is_worse else '-'}"
                f"{design.allowed_relative_change:.0%} allowed): Mann-Whitney U = "
                f"{test.u:g}, z = {test.z:.2f}, {reason}: {outcome.value}"
                f"{power_note(power, design.detectable_change, '+' if design.higher_is_worse else '-')}"
            ),
        ),
    )


def _at_look(look: int, design: RankDesign) -> str:
    return "" if design.looks == 1 else f" at look {look} of {design.looks}"
