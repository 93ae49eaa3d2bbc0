"""One-sided tests for a shadow's comparisons with production: fail only on evidence, at a stated false-alarm rate.

A shadow challenger answers a copy of production's requests; after the shadowing, Judge Shadow compares the two
once. Each comparison is a one-sided test whose null is "the challenger is within the tolerance", so an acceptable
challenger is rejected with probability at most the test's alpha, instead of a fixed margin that a noisy figure
crosses by chance (`rollouts.logic.shadow`):

- agreement of labels: the disagreements D among n matched requests are, at the null's boundary (agreement exactly
  `min_agreement`), Binomial(n, 1 - min_agreement); the exact one-sided p-value is P(X >= D) (summed in log space,
  `rollouts.judge.sequential.binomial_upper_tail`), conservative: at most alpha under the null at any n.
- mean score distance: the one-sided z test of mean |difference| <= max_mean_distance, z = (mean - max) / (s /
  sqrt(n)) with the sample standard deviation s (normal theory: the matched pairs are hundreds at least).
- 5XX rate: the Farrington-Manning score test of p_challenger - p_production <= margin (an absolute margin,
  `rollouts.judge.sequential.compare_rate_difference`); the pooled two-proportion z at margin 0.
- latency: the rank test of `rollouts.judge.rank` on per-period values (one look).

Each returns the test's name, its statistic on the z scale (for the binomial test, the normal score of its mid-p),
its p-value and its alpha; it fails when p <= alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist, fmean, stdev
from typing import NamedTuple

from rollouts.judge.sequential import binomial_upper_tail, compare_rate_difference, conditional_z

_STANDARD_NORMAL = NormalDist()
_SQRT2 = math.sqrt(2.0)


class OneSidedTest(NamedTuple):
    """A one-sided test's result, as a shadow check's evidence states it."""

    test: str  # the test, named
    z: float | None  # the statistic on the z scale (positive: worse than the tolerance)
    p_value: float
    alpha: float

    @property
    def failed(self) -> bool:
        return self.p_value <= self.alpha

    def sentence(self) -> str:
        """'<test> z = 2.51, p = 0.006 <= alpha 0.0167' (or '>'), for a reason."""
        z = "" if self.z is None or not math.isfinite(self.z) else f" z = {self.z:.2f},"
        relation = "<=" if self.failed else ">"
        return f"{self.test}:{z} p = {self.p_value:.3g} {relation} alpha {self.alpha:.3g}"


def _z_of(p_value: float) -> float:
    if p_value <= 0:
        return math.inf
    if p_value >= 1:
        return -math.inf
    return -_STANDARD_NORMAL.inv_cdf(p_value)


def label_agreement_test(agreeing: int, pairs: int, min_agreement: float, alpha: float) -> OneSidedTest:
    """Exact binomial test of agreement >= min_agreement on `agreeing` of `pairs` matched requests."""
    if not 0 <= agreeing <= pairs or pairs <= 0:
        raise ValueError(f"need 0 <= agreeing <= pairs and pairs > 0, got {agreeing} of {pairs}")
    disagreeing = pairs - agreeing
    share = 1.0 - min_agreement
    name = f"one-sided exact binomial test of agreement >= {min_agreement:g} ({disagreeing:,} disagreements)"
    if share <= 0:  # every label must agree: one disagreement is impossible under the null
        p_value = 0.0 if disagreeing else 1.0
    elif share >= 1:  # nothing is required
        p_value = 1.0
    else:
        p_value = binomial_upper_tail(disagreeing, pairs, share)
        # For reading, the normal score of the mid-p (finite however far out, computed from its logarithm); the
        # decision is on the exact p-value.
        return OneSidedTest(name, conditional_z(disagreeing, pairs, share)[0], p_value, alpha)
    return OneSidedTest(name, _z_of(p_value), p_value, alpha)


def mean_distance_test(distances: Sequence[float], max_mean_distance: float, alpha: float) -> OneSidedTest:
    """One-sided z test of mean distance <= max_mean_distance."""
    if not distances:
        raise ValueError("no distances to test")
    mean = fmean(distances)
    spread = stdev(distances) if len(distances) > 1 else 0.0
    gap = mean - max_mean_distance
    if spread > 0:
        z = gap / (spread / math.sqrt(len(distances)))
        p_value = 0.5 * math.erfc(z / _SQRT2)
    else:  # every distance the same: no sampling noise left
        z = math.copysign(math.inf, gap) if gap else 0.0
        p_value = 0.0 if gap > 0 else 1.0
    name = f"one-sided z test of mean |score difference| <= {max_mean_distance:g}"
    return OneSidedTest(name, z, p_value, alpha)


def rate_difference_test(
    baseline_errors: int,
    baseline_requests: int,
    candidate_errors: int,
    candidate_requests: int,
    margin: float,
    alpha: float,
) -> OneSidedTest:
    """Farrington-Manning score test of p_candidate - p_baseline <= margin (a margin of 1 allows anything)."""
    if margin >= 1:
        return OneSidedTest("no test: a margin of 100 points allows any rate", None, 1.0, alpha)
    comparison = compare_rate_difference(
        baseline_errors, baseline_requests, candidate_errors, candidate_requests, margin
    )
    p_value = 0.5 * math.erfc(comparison.z / _SQRT2)
    name = (
        f"one-sided Farrington-Manning score test of a difference <= {margin:.3%}"
        if margin
        else "one-sided pooled two-proportion z test"
    )
    return OneSidedTest(name, comparison.z, p_value, alpha)
