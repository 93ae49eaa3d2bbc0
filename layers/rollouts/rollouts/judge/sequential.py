"""One-sided group-sequential test of a candidate's error rate against the baseline's, judged at planned looks.

The design. A canary is judged at K planned looks (the Judge steps). Looking K times at a fixed-level test inflates
the false-alarm rate (five looks at z >= 1.645 fail an equal candidate about 14 % of the time, not 5 %). Lan-DeMets
alpha spending fixes it: a spending function alpha(t) says how much of the false-alarm budget may be used by
information fraction t, and the boundary at look k is the z value whose first-crossing probability under the null,
given no crossing before, is alpha(t_k) - alpha(t_{k-1}). The sum over the looks is exactly alpha.

- O'Brien-Fleming type: alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)): very strict early looks, a last boundary close
  to the fixed test's, so the maximum sample barely grows (about 2-3 % for 5 looks). The default.
- Pocock type: alpha(t) = alpha ln(1 + (e - 1) t): nearly constant boundaries, earlier stops on large regressions, a
  larger maximum sample.

The boundaries are computed exactly (to the integration error, below 1e-6) for the canonical joint distribution of
the z statistics, a Gaussian process with independent increments, by the recursive numerical integration of
Armitage, McPherson and Rowe (1969) as laid out in Jennison and Turnbull, "Group Sequential Methods with Applications
to Clinical Trials" (2000), chapter 19: the density of the z statistic on the continuation region at each look, on
a grid of 6r - 1 points dense near the mean with log-spaced tails (r = 18, as gsDesign), Simpson's rule between grid
points. Pure Python; each design costs a few tens of milliseconds once and is cached.

Information is proportional to 1 / (1/n_candidate + 1/n_baseline), which at a fixed traffic split is proportional to
the candidate's request count: the planned fraction of look k is its planned cumulative candidate requests over the
planned maximum. If the realised looks differ from the plan, spending stays valid when the design is rebuilt with
the realised fractions (Lan and DeMets 1983), as long as the look times do not depend on the data.

The statistic at a look, computed on cumulative counts, is one of two (`GroupSequentialDesign.statistic`):

- "exact-conditional", the default. Given the total number of errors t = x_c + x_b, the candidate's share of them
  is, under the null of equal rates, Binomial(t, n_c / (n_c + n_b)): exactly so for Poisson counts, and the limit of
  Fisher's hypergeometric when errors are rare (conditioning removes the unknown common rate). With an allowed
  relative change c the null is a rate ratio of R = 1 + c and the success probability becomes
  n_c R / (n_c R + n_b). The one-sided mid-p, P(X > x_c) + P(X = x_c) / 2, is mapped to the z scale by the inverse
  normal, z = Phi^-1(1 - mid-p), and compared with the same boundaries; the evidence's statistic is that z.

  Computation, pure Python. The term at x_c is computed in log space in Loader's (2000) saddle-point form
  (Stirling's error and the deviance: accurate to about 1e-15 at any count, where differences of lgamma lose digits
  as counts grow); the tail away from the mean is then summed outward from x_c by the ratio of successive terms
  until a term adds less than 1e-17, and z is taken from the logarithm of that tail, so extreme counts neither
  overflow nor round to a p-value of 0 (10^6 errors all on the candidate give z = 1177.4). The sum costs at most
  about 9 standard deviations of terms: 0.2 ms at 10^6 requests per variant and a 1 % error rate, 1 ms at 50 %
  (medians, `bench/judge.py`). When both sides' expected errors under the null, t p and t (1 - p), exceed
  `NORMAL_APPROXIMATION_ABOVE` (10^7: a conditional standard deviation above 2,200 errors, where the sum costs
  about 4 ms), a higher-order normal approximation replaces it, z = r* = r + log(q / r) / r, r the signed root of
  the binomial deviance and q the Wald statistic in the log-odds (Barndorff-Nielsen 1986; for a discrete variable
  it approximates the mid-p, Pierce and Peters 1992). At the switch the two agree to about 1e-6 in z, from the
  centre to 40 standard deviations out.

  Why. The pooled z below is only approximately normal: with few errors on a small arm the candidate's rate is
  right-skewed and the pooled z crosses the boundaries too often. At 10 % canary traffic and a 1 % error rate
  (about 2 expected candidate errors at the first look, 9 at the last) `bench/judge.py` measured false alarms of
  0.0596 for alpha 0.05 with the pooled z and 0.0449 with this statistic; 0.0498 and 0.0479 at a 50/50 split
  (400,000 replications, docs/benchmarks-judge.md). The price is power where the pooled z was liberal: at the
  pooled z's normal-theory maximum the 10 % canary's power is 0.775 instead of 0.80, and the maximum sample must
  grow by 8.7 % (1,026 candidate requests instead of 944) for 0.80; at 50/50 it needs no growth. The benchmark
  sizes the exact statistic's maximum by simulation (bench/judge.py; the normal-theory factor is in
  bench/judge_design.py).

  The binomial conditional treats the error-free requests as unlimited: with frequent errors (a pooled rate p̄) its
  variance is too large by 1 / (1 - p̄), which is conservative (fewer false alarms, and about a share p̄ of the
  efficiency lost: 1 % at a 1 % error rate, 20 % at 20 %). The pooled z suits frequent errors.
- "pooled-z": the two-proportion score z statistic, with the variance taken under the null (pooled). With an allowed
  relative change c the null shifts from p_candidate <= p_baseline to p_candidate <= (1 + c) p_baseline, so that a
  10 % worse candidate (c = 0.1) is not a failure, and the statistic is the Farrington-Manning (1990) score
  statistic for a ratio: z = (p̂_c - R p̂_b) / sqrt(p̃_c (1 - p̃_c) / n_c + R² p̃_b (1 - p̃_b) / n_b), R = 1 + c, where
  p̃ are the maximum likelihood rates under the constraint p̃_c = R p̃_b (the smaller root of a quadratic). At c = 0
  it is the pooled z. Accurate with many errors on both arms; liberal with few (above).

Both statistics grow with the candidate's errors and shrink with the baseline's (tests/unit/test_judge_sequential.py
checks it by property).

Outcomes: Failed when z >= the boundary of the look; Successful at the last look when it did not cross; Inconclusive
before the last look (no evidence of a regression yet: go on to the next step) and whenever either variant has fewer
requests than the design's minimum.

Known limits: the boundaries are exact for the normal process, and neither statistic is exactly that. The exact
conditional z has a nearly exact p-value at each look (the mid-p has mean 1/2 under the null, but is not guaranteed
to be at most alpha with probability alpha) and is discrete, and its joint law over the looks is only approximately
the normal process's; the benchmark measures the false-alarm rate over the looks rather than assuming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import lru_cache, partial
from itertools import pairwise
from statistics import NormalDist
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule, percent, relative_change, too_few

GRID_R = 18  # Jennison and Turnbull's grid parameter: 6r - 1 points per look; gsDesign's default
POWER_GRID_R = 8  # a coarser grid for reported powers
_LOWEST_BOUNDARY, _HIGHEST_BOUNDARY = -10.0, 40.0
_STANDARD_NORMAL = NormalDist()
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
NORMAL_APPROXIMATION_ABOVE = 10_000_000  # expected errors on each side of the conditional binomial, under the null
_NEGLIGIBLE_TERM = 1e-17  # relative to the tail summed so far
_SMALLEST_LOG_TAIL = -700.0  # below, exp underflows soon: invert the normal tail from its logarithm


class Spending(StrEnum):
    """Lan-DeMets spending functions."""

    OBRIEN_FLEMING = "OBrienFleming"
    POCOCK = "Pocock"


_SPENDING_NAMES = {Spending.OBRIEN_FLEMING: "O'Brien-Fleming", Spending.POCOCK: "Pocock"}


class RateStatistic(StrEnum):
    """How the cumulative counts of a look become the z compared with the boundary (see the module's docstring)."""

    EXACT_CONDITIONAL = "exact-conditional"
    POOLED_Z = "pooled-z"


def spent_alpha(spending: Spending, alpha: float, fraction: float) -> float:
    """The cumulative false-alarm probability the design may have used by information fraction `fraction`."""
    if fraction <= 0:
        return 0.0
    if fraction >= 1:
        return alpha
    if spending is Spending.POCOCK:
        return alpha * math.log(1 + (math.e - 1) * fraction)
    return 2 * _upper_tail(_STANDARD_NORMAL.inv_cdf(1 - alpha / 2) / math.sqrt(fraction))


def _upper_tail(x: float) -> float:
    # erfc keeps its relative precision far into the tail, where 1 - cdf would round to 0.
    return 0.5 * math.erfc(x / _SQRT2)


def _grid(mean: float, upper: float, r: int) -> tuple[list[float], list[float]]:
    """Points on (-inf, upper] and their Simpson weights (Jennison and Turnbull, section 19.2.1)."""
    nodes: list[float] = []
    for i in range(1, 6 * r):
        if i < r:
            x = mean - 3 - 4 * math.log(r / i)
        elif i <= 5 * r:
            x = mean - 3 + 3 * (i - r) / (2 * r)
        else:
            x = mean + 3 + 4 * math.log(r / (6 * r - i))
        if x >= upper:
            nodes.append(upper)  # the continuation region ends exactly on the boundary
            break
        nodes.append(x)
    points: list[float] = []
    weights: list[float] = []
    if len(nodes) < 2:
        return points, weights  # the boundary is 15 sd below the mean: no mass continues
    for left, right in pairwise(nodes):
        width = right - left
        if points:
            weights[-1] += width / 6
        else:
            points.append(left)
            weights.append(width / 6)
        points += [(left + right) / 2, right]
        weights += [4 * width / 6, width / 6]
    return points, weights


class _Process:
    """The z statistics at successive looks, with drift E[Z_k] = drift * sqrt(t_k), kept on the continuation region."""

    def __init__(self, drift: float, r: int = GRID_R) -> None:
        self.drift = drift
        self.r = r
        self.fraction = 0.0
        self.points: list[float] = []
        self.density: list[float] = []  # density at each point times its Simpson weight

    def exit_probability(self, boundary: float, fraction: float) -> float:
        """P(no crossing before, Z >= boundary at this look)."""
        mean = self.drift * math.sqrt(fraction)
        if self.fraction == 0.0:
            return _upper_tail(boundary - mean)
        step = fraction - self.fraction
        sd = math.sqrt(step)
        level = boundary * math.sqrt(fraction) - self.drift * step
        previous = math.sqrt(self.fraction)
        return sum(h * _upper_tail((level - z * previous) / sd) for z, h in zip(self.points, self.density, strict=True))

    def advance(self, boundary: float, fraction: float) -> None:
        """Move to the next look, keeping the paths that did not cross `boundary`."""
        mean = self.drift * math.sqrt(fraction)
        points, weights = _grid(mean, boundary, self.r)
        if self.fraction == 0.0:
            pairs = zip(points, weights, strict=True)
            density = [w * _INV_SQRT_2PI * math.exp(-0.5 * (z - mean) ** 2) for z, w in pairs]
        else:
            step = fraction - self.fraction
            sd = math.sqrt(step)
            now, previous = math.sqrt(fraction) / sd, math.sqrt(self.fraction) / sd
            shift = self.drift * step / sd
            scale = math.sqrt(fraction) / sd * _INV_SQRT_2PI
            old = [(z * previous, h) for z, h in zip(self.points, self.density, strict=True)]
            density = []
            for z, w in zip(points, weights, strict=True):
                centre = z * now - shift
                density.append(w * scale * sum(h * math.exp(-0.5 * (centre - y) ** 2) for y, h in old))
        self.points, self.density, self.fraction = points, density, fraction


def _solve_decreasing(function: Callable[[float], float], target: float, low: float, high: float) -> float:
    """x in [low, high] with function(x) = target, for a decreasing function, by bisection."""
    for _ in range(200):
        middle = (low + high) / 2
        if function(middle) > target:
            low = middle
        else:
            high = middle
        if high - low < 1e-10:
            break
    return (low + high) / 2


def _check_fractions(fractions: Sequence[float]) -> None:
    if not fractions or any(not 0 < t <= 1 for t in fractions) or abs(fractions[-1] - 1) > 1e-12:
        raise ValueError(f"information fractions must lie in (0, 1] and end at 1, got {list(fractions)}")
    if any(later <= earlier for earlier, later in pairwise(fractions)):
        raise ValueError(f"information fractions must increase, got {list(fractions)}")


@lru_cache(maxsize=128)
def boundaries(
    alpha: float, fractions: tuple[float, ...], spending: Spending = Spending.OBRIEN_FLEMING
) -> tuple[float, ...]:
    """Upper z boundaries at each look, spending `alpha` (one-sided) by `spending` over the information fractions."""
    _check_fractions(fractions)
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")
    process = _Process(drift=0.0)
    bounds: list[float] = []
    spent = 0.0
    for fraction in fractions:
        target = spent_alpha(spending, alpha, fraction) - spent
        bound = _solve_decreasing(
            partial(process.exit_probability, fraction=fraction), target, _LOWEST_BOUNDARY, _HIGHEST_BOUNDARY
        )
        spent += target
        bounds.append(bound)
        process.advance(bound, fraction)
    return tuple(bounds)


def crossing_probability(bounds: Sequence[float], fractions: Sequence[float], drift: float) -> float:
    """P(Z_k >= bounds[k] at some look), E[Z_k] = drift * sqrt(t_k): the power of the boundaries at that drift.

    The same recursive integration as the boundaries, on a coarser grid (r = 8: about 2 ms for 5 looks, within
    1e-5 of r = 18 on power), since a power is reported, not decided on.
    """
    _check_fractions(fractions)
    process = _Process(drift, r=POWER_GRID_R)
    total = 0.0
    for bound, fraction in zip(bounds, fractions, strict=True):
        total += process.exit_probability(bound, fraction)
        process.advance(bound, fraction)
    return min(1.0, max(0.0, total))


def shifted_power(
    bounds: Sequence[float], fractions: Sequence[float], mean: float, null_sd: float, alternative_sd: float
) -> float | None:
    """The power of z = estimate / null_sd against `bounds` when, at the last look, the estimate is normal with mean
    `mean` and standard deviation `alternative_sd`: the crossing probability of the boundaries scaled by
    null_sd / alternative_sd at drift mean / alternative_sd (at one look, Phi((mean - b null_sd) / alternative_sd),
    the textbook formula). None when a standard deviation is not positive."""
    if not (null_sd > 0 and alternative_sd > 0 and math.isfinite(mean)):
        return None
    ratio = null_sd / alternative_sd
    return crossing_probability([b * ratio for b in bounds], fractions, mean / alternative_sd)


def _check_counts(baseline_errors: int, baseline_requests: int, candidate_errors: int, candidate_requests: int) -> None:
    for errors, requests, variant in (
        (baseline_errors, baseline_requests, "baseline"),
        (candidate_errors, candidate_requests, "candidate"),
    ):
        if requests <= 0 or not 0 <= errors <= requests:
            raise ValueError(f"the {variant} needs requests > 0 and 0 <= errors <= requests, got {errors}/{requests}")


class RateComparison(NamedTuple):
    """The score test of p_candidate <= (1 + change) p_baseline on cumulative counts."""

    baseline_rate: float
    candidate_rate: float
    difference: float  # p̂_c - (1 + change) p̂_b
    standard_error: float  # under the null
    z: float


def compare_rates(
    baseline_errors: int,
    baseline_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    allowed_relative_change: float = 0.0,
) -> RateComparison:
    """Farrington-Manning score statistic; the pooled two-proportion z when `allowed_relative_change` is 0."""
    _check_counts(baseline_errors, baseline_requests, candidate_errors, candidate_requests)
    ratio = 1 + allowed_relative_change
    baseline_rate = baseline_errors / baseline_requests
    candidate_rate = candidate_errors / candidate_requests
    total = baseline_requests + candidate_requests
    errors = baseline_errors + candidate_errors
    # Constrained maximum likelihood p̃_b: a p² + b p + c = 0, smaller root in the form that does not cancel.
    a = total * ratio
    b = -(candidate_errors + ratio * baseline_errors + ratio * candidate_requests + baseline_requests)
    root = math.sqrt(max(b * b - 4 * a * errors, 0.0))
    baseline_null = 2 * errors / (-b + root) if errors else 0.0
    candidate_null = min(ratio * baseline_null, 1.0)
    variance = (
        candidate_null * (1 - candidate_null) / candidate_requests
        + ratio**2 * baseline_null * (1 - baseline_null) / baseline_requests
    )
    difference = candidate_rate - ratio * baseline_rate
    standard_error = math.sqrt(max(variance, 0.0))
    z = difference / standard_error if standard_error > 0 else 0.0
    return RateComparison(baseline_rate, candidate_rate, difference, standard_error, z)


class ConditionalComparison(NamedTuple):
    """The exact conditional test of p_candidate <= (1 + change) p_baseline on cumulative counts."""

    baseline_rate: float
    candidate_rate: float
    total_errors: int  # x_c + x_b, the total the test conditions on
    null_share: float  # n_c R / (n_c R + n_b): the chance, under the null, that an error is the candidate's
    expected_candidate_errors: float  # total_errors * null_share
    mid_p: float  # P(X > x_c) + P(X = x_c) / 2, X ~ Binomial(total_errors, null_share); may underflow to 0
    z: float  # Phi^-1(1 - mid_p), computed from the logarithm of the tail
    exact: bool  # False when both expected counts exceed NORMAL_APPROXIMATION_ABOVE and r* stood in for the sum


def _stirling_error(n: int) -> float:
    """log(n!) - [(n + 1/2) log n - n + log sqrt(2 pi)] for n >= 1: the error of Stirling's formula (Loader 2000)."""
    if n <= 15:
        return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - _LOG_SQRT_2PI
    square = float(n) * n
    if n > 500:
        return (1 / 12 - 1 / 360 / square) / n
    if n > 80:
        return (1 / 12 - (1 / 360 - 1 / 1260 / square) / square) / n
    if n > 35:
        return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / 1680 / square) / square) / square) / n
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / square) / square) / square) / square) / n


def _deviance_part(x: float, mean: float, gap: float) -> float:
    """x log(x / mean) + mean - x, given gap = x - mean, without cancellation near the mean (Loader's bd0)."""
    if x == 0:
        return mean
    if abs(gap) < 0.1 * (x + mean):
        v = gap / (x + mean)
        total = gap * v
        term = 2 * x * v
        for j in range(1, 1000):
            term *= v * v
            following = total + term / (2 * j + 1)
            if following == total:
                break
            total = following
        return total
    return x * math.log(x / mean) + mean - x


def _log_binomial_term(k: int, n: int, share: float) -> float:
    """log P(X = k), X ~ Binomial(n, share), in Loader's (2000) saddle-point form: accurate for any n.

    The textbook lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + ... cancels terms of size n log n, losing
    about log10(n log n) digits; this form adds only terms of the size of the result.
    """
    mean, rest = n * share, n * (1 - share)
    if k == 0:
        return n * math.log1p(-share)
    if k == n:
        return n * math.log(share)
    gap = k - mean
    log_term = (
        _stirling_error(n)
        - _stirling_error(k)
        - _stirling_error(n - k)
        - _deviance_part(k, mean, gap)
        - _deviance_part(n - k, rest, -gap)
    )
    return log_term - 0.5 * (2 * _LOG_SQRT_2PI + math.log(k) + math.log1p(-k / n))


def _exact_mid_p_tail(x: int, n: int, share: float) -> tuple[bool, float]:
    """(upper, log tail) for X ~ Binomial(n, share): the mid-p tail on the side of x away from the mean.

    upper: P(X > x) + P(X = x) / 2, when x >= n share; else the lower P(X < x) + P(X = x) / 2 (one minus the upper).
    From the mean outward the terms only decrease, so the sum, in units of the term at x, stops at the first term
    that no longer counts.
    """
    log_at_x = _log_binomial_term(x, n, share)
    total, term = 0.5, 1.0
    if x >= n * share:
        odds = share / (1 - share)
        for k in range(x, n):
            term *= (n - k) / (k + 1) * odds
            total += term
            if term < _NEGLIGIBLE_TERM * total:
                break
        return True, log_at_x + math.log(total)
    inverse_odds = (1 - share) / share
    for k in range(x, 0, -1):
        term *= k / (n - k + 1) * inverse_odds
        total += term
        if term < _NEGLIGIBLE_TERM * total:
            break
    return False, log_at_x + math.log(total)


def _z_from_log_tail(upper: bool, log_tail: float) -> float:
    """z with P(Z > z) = exp(log_tail) (upper) or P(Z < z) = exp(log_tail) (lower), for a tail of at most 1/2 or so."""
    if log_tail > _SMALLEST_LOG_TAIL:
        tail = min(math.exp(log_tail), 1 - 1e-16)
        z = -_STANDARD_NORMAL.inv_cdf(tail)
    else:
        # log P(Z > z) = -z²/2 - log z - log sqrt(2 pi) + log(1 - 1/z² + 3/z⁴ - ...), solved by fixed point (z > 37).
        z = math.sqrt(-2 * log_tail)
        for _ in range(100):
            series = math.log1p(-1 / z**2 + 3 / z**4)
            following = math.sqrt(-2 * (log_tail + math.log(z) + _LOG_SQRT_2PI - series))
            if abs(following - z) < 1e-12 * following:
                z = following
                break
            z = following
    return z if upper else -z


def _approximate_z(x: int, n: int, share: float) -> float:
    """r* = r + log(q / r) / r for X ~ Binomial(n, share) at 0 < x < n: a higher-order normal approximation."""
    mean, rest = n * share, n * (1 - share)
    gap = x - mean  # one gap for every term, so that q / r is consistent to rounding
    r = math.copysign(math.sqrt(2 * (_deviance_part(x, mean, gap) + _deviance_part(n - x, rest, -gap))), gap)
    if abs(r) < 1e-5:  # r* -> r + skewness / 6 at the mean
        return r + (1 - 2 * share) / (6 * math.sqrt(n * share * (1 - share)))
    q = (math.log1p(gap / mean) - math.log1p(-gap / rest)) * math.sqrt(x * (n - x) / n)
    return r + math.log(q / r) / r


def conditional_z(x: int, n: int, share: float) -> tuple[float, float, bool]:
    """(z, mid-p, exact) for x successes of X ~ Binomial(n, share): z = Phi^-1(1 - P(X > x) - P(X = x) / 2)."""
    if not 0 <= x <= n or not 0 < share < 1:
        raise ValueError(f"need 0 <= x <= n and 0 < share < 1, got x = {x}, n = {n}, share = {share}")
    mean = n * share
    if min(mean, n - mean) > NORMAL_APPROXIMATION_ABOVE and 0 < x < n:
        z = _approximate_z(x, n, share)
        return z, _upper_tail(z), False
    upper, log_tail = _exact_mid_p_tail(x, n, share)
    tail = math.exp(log_tail)
    return _z_from_log_tail(upper, log_tail), (tail if upper else 1 - tail), True


def exact_conditional(
    baseline_errors: int,
    baseline_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    allowed_relative_change: float = 0.0,
) -> ConditionalComparison:
    """The candidate's errors given the total, against Binomial(total, n_c R / (n_c R + n_b)), R = 1 + change."""
    _check_counts(baseline_errors, baseline_requests, candidate_errors, candidate_requests)
    weighted = candidate_requests * (1 + allowed_relative_change)
    share = weighted / (weighted + baseline_requests)
    total = baseline_errors + candidate_errors
    z, mid_p, exact = conditional_z(candidate_errors, total, share)
    return ConditionalComparison(
        baseline_rate=baseline_errors / baseline_requests,
        candidate_rate=candidate_errors / candidate_requests,
        total_errors=total,
        null_share=share,
        expected_candidate_errors=total * share,
        mid_p=mid_p,
        z=z,
        exact=exact,
    )


def binomial_upper_tail(x: int, n: int, share: float) -> float:
    """P(X >= x) for X ~ Binomial(n, share), exactly (the conservative p-value of an exact one-sided test).

    From the mid-p tail summed in log space (`_exact_mid_p_tail`): on the upper side P(X > x) + P(X = x) / 2 plus the
    other half of the term at x; on the lower side one minus the lower mid-p plus that half."""
    if not 0 <= x <= n or not 0 < share < 1:
        raise ValueError(f"need 0 <= x <= n and 0 < share < 1, got x = {x}, n = {n}, share = {share}")
    if x == 0:
        return 1.0
    half_term = 0.5 * math.exp(_log_binomial_term(x, n, share))
    upper, log_tail = _exact_mid_p_tail(x, n, share)
    tail = math.exp(log_tail)
    return min(1.0, tail + half_term if upper else 1.0 - tail + half_term)


def compare_rate_difference(
    baseline_errors: int,
    baseline_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    margin: float = 0.0,
) -> RateComparison:
    """The Farrington-Manning (1990) score test of p_candidate - p_baseline <= margin, an absolute margin.

    z = (p̂_c - p̂_b - margin) / sqrt(p̃_c (1 - p̃_c) / n_c + p̃_b (1 - p̃_b) / n_b), p̃ the maximum likelihood rates under
    the constraint p̃_c - p̃_b = margin: the root of a cubic, in the closed form of Farrington and Manning (their
    equation (3), as in Miettinen and Nurminen 1985 without the n / (n - 1) factor). At margin 0 it is the pooled
    two-proportion z. The evidence's `difference` is p̂_c - p̂_b - margin."""
    _check_counts(baseline_errors, baseline_requests, candidate_errors, candidate_requests)
    if not -1 < margin < 1:
        raise ValueError(f"the margin must lie in (-1, 1), got {margin}")
    n1, n2 = candidate_requests, baseline_requests
    p1, p2 = candidate_errors / n1, baseline_errors / n2
    if margin == 0:
        pooled = (candidate_errors + baseline_errors) / (n1 + n2)
        null_1 = null_2 = pooled
    else:
        theta = n2 / n1
        a = 1 + theta
        b = -(1 + theta + p1 + theta * p2 + margin * (theta + 2))
        c = margin * margin + margin * (2 * p1 + theta + 1) + p1 + theta * p2
        d = -p1 * margin * (1 + margin)
        v = b**3 / (3 * a) ** 3 - b * c / (6 * a * a) + d / (2 * a)
        u = math.copysign(math.sqrt(max(b * b / (3 * a) ** 2 - c / (3 * a), 0.0)), v)
        cosine = max(-1.0, min(1.0, v / u**3)) if u else 0.0
        w = (math.pi + math.acos(cosine)) / 3
        null_1 = min(1.0, max(0.0, 2 * u * math.cos(w) - b / (3 * a)))
        null_2 = min(1.0, max(0.0, null_1 - margin))
    variance = null_1 * (1 - null_1) / n1 + null_2 * (1 - null_2) / n2
    difference = p1 - p2 - margin
    standard_error = math.sqrt(max(variance, 0.0))
    if standard_error > 0:
        z = difference / standard_error
    else:
        z = 0.0 if difference == 0 else math.copysign(_HIGHEST_BOUNDARY, difference)
    return RateComparison(p2, p1, difference, standard_error, z)


class RateAlternative(NamedTuple):
    """The estimate p̂_c - R p̂_b at the projected maximum sample, under the alternative a power is computed against."""

    mean: float  # p1 - R p0
    null_sd: float  # its standard error under the null (Farrington-Manning constrained rates at the expected counts)
    alternative_sd: float  # sqrt(p1 q1 / N_c + R² p0 q0 / N_b)


def rate_alternative(
    baseline_rate: float,
    baseline_requests: float,
    candidate_requests: float,
    allowed_relative_change: float,
    detectable_change: float,
) -> RateAlternative | None:
    """The alternative p1 = (1 + detectable_change) p0 at `baseline_requests` and `candidate_requests` (the projected
    maximum); None without baseline errors to scale the change."""
    if not 0 < baseline_rate < 1 or baseline_requests <= 0 or candidate_requests <= 0:
        return None
    ratio = 1 + allowed_relative_change
    p0 = baseline_rate
    p1 = min((1 + detectable_change) * p0, 1 - 1e-9)
    expected = compare_rates(
        p0 * baseline_requests,  # type: ignore[arg-type]  # expected counts: the formula takes any real
        baseline_requests,  # type: ignore[arg-type]
        p1 * candidate_requests,  # type: ignore[arg-type]
        candidate_requests,  # type: ignore[arg-type]
        allowed_relative_change,
    )
    alternative_sd = math.sqrt(p1 * (1 - p1) / candidate_requests + ratio**2 * p0 * (1 - p0) / baseline_requests)
    return RateAlternative(p1 - ratio * p0, expected.standard_error, alternative_sd)


def rate_power(
    design: GroupSequentialDesign, look: int, baseline_rate: float, baseline_requests: int, candidate_requests: int
) -> float | None:
    """The power against a candidate rate of (1 + design.detectable_change) times the baseline's, by the last look.

    The maximum sample is projected from this look's: n / t_look per variant (t_look the look's planned fraction).
    The statistic is taken as the estimate over its null standard error (`rate_alternative`, `shifted_power`):
    normal theory for either statistic (the exact conditional z is close to the pooled z where power is high).
    None without a detectable change or without baseline errors to scale it."""
    if design.detectable_change is None:
        return None
    fraction = design.fractions[look - 1]
    alternative = rate_alternative(
        baseline_rate,
        baseline_requests / fraction,
        candidate_requests / fraction,
        design.allowed_relative_change,
        design.detectable_change,
    )
    if alternative is None:
        return None
    return shifted_power(design.boundaries, design.fractions, *alternative)


class GroupSequentialDesign(BaseModel):
    """A one-sided group-sequential comparison of error rates, higher is worse."""

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="False-alarm rate over all the looks")
    fractions: tuple[float, ...] = Field(
        default=(0.2, 0.4, 0.6, 0.8, 1.0), description="Planned information fraction of each look; the last is 1"
    )
    spending: Spending = Spending.OBRIEN_FLEMING
    minimum_samples_per_arm: int = Field(default=100, ge=1, description="Below this many requests: Inconclusive")
    allowed_relative_change: float = Field(
        default=0.0, ge=0, description="Tolerated relative increase of the rate: 0.1 tolerates +10 %"
    )
    statistic: RateStatistic = Field(
        default=RateStatistic.EXACT_CONDITIONAL,
        description="exact-conditional (the candidate's share of the errors, mid-p, on the z scale) or pooled-z",
    )
    detectable_change: float | None = Field(
        default=None, gt=0, description="The relative worsening the reported power is computed against; None: none"
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


def power_note(power: float | None, detectable_change: float | None, worse: str = "+") -> str:
    """The explanation's clause on power: ' (power 0.83 against +100 %)', or nothing."""
    if power is None or detectable_change is None:
        return ""
    return f" (power {power:.2f} against {worse}{detectable_change:.0%} by the last look)"


def look_verdict(
    z: float, design: GroupSequentialDesign, look: int, statistic: str
) -> tuple[Outcome, Rule, str, float]:
    """The outcome of a z at one look: Failed at or above the look's boundary; below it, Successful at the last look
    and Inconclusive before (no regression so far); with the rule and a sentence that says so."""
    name = _SPENDING_NAMES[design.spending]
    boundary = design.boundaries[look - 1]
    if z >= boundary:
        return (
            Outcome.FAILED,
            Rule.BOUNDARY_CROSSED,
            f"{statistic} crosses the {name} boundary {boundary:.2f} at look {look} of {design.looks}",
            boundary,
        )
    if look == design.looks:
        return (
            Outcome.SUCCESSFUL,
            Rule.FINAL_LOOK_NOT_CROSSED,
            f"{statistic} stays below the {name} boundary {boundary:.2f} at the last look, {look}",
            boundary,
        )
    return (
        Outcome.INCONCLUSIVE,
        Rule.BOUNDARY_NOT_CROSSED,
        f"{statistic} is below the {name} boundary {boundary:.2f} at look {look} of {design.looks}, "
        "no regression so far",
        boundary,
    )


def judge_sequential(
    metric: str,
    design: GroupSequentialDesign,
    look: int,
    baseline_errors: int,
    baseline_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    critical: bool = False,
) -> MetricVerdict:
    """The verdict at look `look` (1-based) on cumulative counts since the start of the rollout."""
    if not 1 <= look <= design.looks:
        raise ValueError(f"look must be between 1 and {design.looks}, got {look}")
    allowed = f" (+{design.allowed_relative_change:.0%} allowed)" if design.allowed_relative_change else ""
    counts = f"over {candidate_requests:,} / {baseline_requests:,} requests"
    if min(baseline_requests, candidate_requests) < design.minimum_samples_per_arm:
        return too_few(
            metric,
            critical,
            f"{metric} {counts}: fewer than the minimum {design.minimum_samples_per_arm:,} requests per variant "
            f"at look {look} of {design.looks}: Inconclusive",
            baseline_samples=baseline_requests,
            candidate_samples=candidate_requests,
            statistic_name="z",
            alpha=design.alpha,
            allowed_change=design.allowed_relative_change,
            look=look,
            looks=design.looks,
        )

    change = design.allowed_relative_change
    counted = (baseline_errors, baseline_requests, candidate_errors, candidate_requests)
    if design.statistic is RateStatistic.EXACT_CONDITIONAL:
        conditional = exact_conditional(*counted, change)
        baseline_rate, candidate_rate, z = conditional.baseline_rate, conditional.candidate_rate, conditional.z
        method = "exact conditional" if conditional.exact else "conditional binomial, normal approximation r*"
        statistic = (
            f"z = {z:.2f} ({method}: {candidate_errors:,} of the {conditional.total_errors:,} errors on the candidate, "
            f"{conditional.expected_candidate_errors:,.1f} expected under the null, one-sided mid-p "
            f"{conditional.mid_p:.3g})"
        )
    else:
        pooled = compare_rates(*counted, change)
        baseline_rate, candidate_rate, z = pooled.baseline_rate, pooled.candidate_rate, pooled.z
        method = "Farrington-Manning score z" if change else "pooled two-proportion z"
        statistic = f"z = {z:.2f} ({method})"
    outcome, rule, reason, boundary = look_verdict(z, design, look, statistic)
    power = rate_power(design, look, baseline_rate, baseline_requests, candidate_requests)
    evidence = Evidence(
        baseline_samples=baseline_requests,
        candidate_samples=candidate_requests,
        baseline_estimate=baseline_rate,
        candidate_estimate=candidate_rate,
        statistic_name="z",
        statistic=z,
        boundary=boundary,
        alpha=design.alpha,
        effect_size=relative_change(baseline_rate, candidate_rate),
        allowed_change=design.allowed_relative_change,
        look=look,
        looks=design.looks,
        rule=rule,
        power=power,
        detectable_change=design.detectable_change,
        explanation=(
            f"{metric} {percent(candidate_rate)} on the candidate vs {percent(baseline_rate)} "
            f"on the baseline{allowed} {counts}: {reason}: {outcome.value}{power_note(power, design.detectable_change)}"
        ),
    )
    return MetricVerdict(metric=metric, outcome=outcome, critical=critical, evidence=evidence)
