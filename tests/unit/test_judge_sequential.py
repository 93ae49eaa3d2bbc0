"""The group-sequential rate test: boundaries against published values, verdicts, and invariants."""

from __future__ import annotations

import math
import random
import time
from fractions import Fraction
from statistics import NormalDist, median

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.judge_design import crossing_probabilities
from rollouts.judge.outcome import Outcome, Rule
from rollouts.judge.sequential import (
    NORMAL_APPROXIMATION_ABOVE,
    GroupSequentialDesign,
    RateStatistic,
    Spending,
    _approximate_z,
    _exact_mid_p_tail,
    _z_from_log_tail,
    boundaries,
    compare_rates,
    conditional_z,
    exact_conditional,
    judge_sequential,
    spent_alpha,
)

FIVE = (0.2, 0.4, 0.6, 0.8, 1.0)
NORMAL = NormalDist()


def test_obrien_fleming_boundaries_match_published_values_for_one_sided_alpha_0_025() -> None:
    # gsDesign::gsDesign(k = 5, test.type = 1, alpha = 0.025, sfu = sfLDOF)$upper$bound, the Lan-DeMets
    # O'Brien-Fleming-type bounds for five equally spaced looks (also Jennison & Turnbull 2000, ch. 7); the values
    # are the ones the issue quotes. Independently checked below: by Monte Carlo and by textbook constants.
    assert boundaries(0.025, FIVE) == pytest.approx((4.877, 3.357, 2.680, 2.290, 2.031), abs=1e-3)


def test_obrien_fleming_boundaries_at_two_looks_match_the_bivariate_normal_by_independent_quadrature() -> None:
    # Two looks at t = 0.5 and 1: Z1 and Z2 are bivariate normal with correlation sqrt(0.5). Integrate
    # P(Z1 < b1, Z2 < b2) = ∫_{-inf}^{b1} phi(x) Phi((b2 - rho x) / sqrt(1 - rho²)) dx by the trapezoid rule.
    b1, b2 = boundaries(0.025, (0.5, 1.0))
    assert (b1, b2) == pytest.approx((2.963, 1.969), abs=1e-3)  # gsDesign sfLDOF, k = 2, alpha = 0.025
    rho = math.sqrt(0.5)
    steps = 40_000
    low = -12.0
    width = (b1 - low) / steps
    inside = 0.0
    for i in range(steps + 1):
        x = low + i * width
        term = NORMAL.pdf(x) * NORMAL.cdf((b2 - rho * x) / math.sqrt(1 - rho * rho))
        inside += term * (0.5 if i in (0, steps) else 1.0)
    assert 1 - inside * width == pytest.approx(0.025, abs=1e-6)
    assert 1 - NORMAL.cdf(b1) == pytest.approx(spent_alpha(Spending.OBRIEN_FLEMING, 0.025, 0.5), rel=1e-6)


def test_one_sided_alpha_0_05_boundaries_spend_alpha_by_independent_monte_carlo() -> None:
    # No published table found for one-sided 0.05 at five looks: simulate the z statistics of five equal looks as a
    # random walk (independent of the numerical integration) and count first crossings.
    bounds = boundaries(0.05, FIVE)
    rng = random.Random(20240517)
    paths, crossed = 120_000, 0
    for _ in range(paths):
        total = 0.0
        for k, bound in enumerate(bounds, start=1):
            total += rng.gauss(0.0, 1.0)
            if total / math.sqrt(k) >= bound:
                crossed += 1
                break
    rate = crossed / paths
    standard_error = math.sqrt(0.05 * 0.95 / paths)
    assert abs(rate - 0.05) < 3 * standard_error  # 3 standard errors: 0.0019
    assert sum(crossing_probabilities(bounds, FIVE)) == pytest.approx(0.05, abs=1e-6)
    assert bounds == pytest.approx(sorted(bounds, reverse=True))  # O'Brien-Fleming: strict early, lenient late


@pytest.mark.parametrize(("constant", "name"), [(2.413, "Pocock"), (2.040, "O'Brien-Fleming")])
def test_crossing_probability_of_textbook_constant_boundaries_is_alpha(constant: float, name: str) -> None:
    # Jennison & Turnbull (2000) Tables 2.1 and 2.3: for K = 5 equal looks and two-sided alpha 0.05, Pocock's
    # constant is C_P = 2.413 and O'Brien-Fleming's C_B = 2.040 (boundary C_B sqrt(K / k)). One side of each then
    # has crossing probability 0.025 (the chance of crossing both sides is negligible).
    bounds = [constant] * 5 if name == "Pocock" else [constant * math.sqrt(5 / k) for k in range(1, 6)]
    assert sum(crossing_probabilities(bounds, FIVE)) == pytest.approx(0.025, abs=1e-4)


@pytest.mark.parametrize(("alpha", "quantile"), [(0.05, 1.645), (0.025, 1.960), (0.01, 2.326)])
def test_a_single_look_gives_the_fixed_z_quantile(alpha: float, quantile: float) -> None:
    (bound,) = boundaries(alpha, (1.0,))
    assert bound == pytest.approx(quantile, abs=5e-4)
    assert bound == pytest.approx(NORMAL.inv_cdf(1 - alpha), abs=1e-8)


def test_pocock_spending_gives_nearly_flat_boundaries_that_spend_alpha() -> None:
    bounds = boundaries(0.025, FIVE, Spending.POCOCK)
    assert max(bounds) - min(bounds) < 0.1
    assert sum(crossing_probabilities(bounds, FIVE)) == pytest.approx(0.025, abs=1e-6)
    assert bounds[0] < boundaries(0.025, FIVE)[0]


def test_spending_at_unequal_fractions_uses_the_spending_function_at_each_look() -> None:
    fractions = (0.1, 0.35, 1.0)
    bounds = boundaries(0.05, fractions)
    spent = [spent_alpha(Spending.OBRIEN_FLEMING, 0.05, t) for t in fractions]
    increments = [spent[0], spent[1] - spent[0], spent[2] - spent[1]]
    assert crossing_probabilities(bounds, fractions) == pytest.approx(increments, rel=1e-5, abs=1e-9)


def test_pooled_z_matches_the_textbook_formula() -> None:
    result = compare_rates(100, 10_000, 150, 10_000)
    pooled = 250 / 20_000
    expected = (0.015 - 0.01) / math.sqrt(pooled * (1 - pooled) * (2 / 10_000))
    assert result.z == pytest.approx(expected, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    baseline_requests=st.integers(1, 5_000),
    candidate_requests=st.integers(1, 5_000),
    baseline_share=st.floats(0, 1),
    candidate_share=st.floats(0, 1),
    change=st.sampled_from([0.1, 0.25, 1.0]),
)
def test_shifted_null_rates_maximise_the_constrained_likelihood(
    baseline_requests: int, candidate_requests: int, baseline_share: float, candidate_share: float, change: float
) -> None:
    # The Farrington-Manning rates solve d/dp log L(R p, p) = 0: find that root by bisection on the score and
    # compare the standard errors it implies.
    xb, xc = round(baseline_share * baseline_requests), round(candidate_share * candidate_requests)
    result = compare_rates(xb, baseline_requests, xc, candidate_requests, change)
    ratio = 1 + change

    def score(p: float) -> float:
        q = ratio * p
        return xc / p - (candidate_requests - xc) * ratio / (1 - q) + xb / p - (baseline_requests - xb) / (1 - p)

    if xb + xc == 0 or ratio * (xb + xc) / (baseline_requests + candidate_requests) >= 0.99:
        return
    low, high = 1e-12, (1 - 1e-12) / ratio
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if score(middle) > 0 else (low, middle)
    p = (low + high) / 2
    variance = ratio * p * (1 - ratio * p) / candidate_requests + ratio**2 * p * (1 - p) / baseline_requests
    assert result.standard_error == pytest.approx(math.sqrt(variance), rel=1e-6)


def test_a_candidate_exactly_at_the_allowed_change_is_not_a_regression() -> None:
    result = compare_rates(100, 10_000, 110, 10_000, allowed_relative_change=0.1)
    assert result.z == pytest.approx(0.0, abs=1e-12)
    assert compare_rates(100, 10_000, 110, 10_000).z > 0.5


def test_a_doubled_error_rate_fails_at_an_interim_look_with_an_explanation() -> None:
    verdict = judge_sequential("5XX rate", GroupSequentialDesign(), 3, 216, 21_600, 50, 2_400, critical=True)
    assert verdict.outcome is Outcome.FAILED
    assert verdict.critical
    evidence = verdict.evidence
    assert evidence.rule is Rule.BOUNDARY_CROSSED
    assert (evidence.candidate_samples, evidence.baseline_samples, evidence.look, evidence.looks) == (2400, 21600, 3, 5)
    assert evidence.statistic is not None and evidence.boundary is not None
    assert evidence.statistic >= evidence.boundary
    assert evidence.effect_size == pytest.approx(50 / 2400 / 0.01 - 1)
    assert evidence.explanation.startswith(
        "5XX rate 2.1 % on the candidate vs 1.0 % on the baseline over 2,400 / 21,600 requests: z = "
    )
    assert (
        f"crosses the O'Brien-Fleming boundary {evidence.boundary:.2f} at look 3 of 5: Failed" in evidence.explanation
    )
    assert "(exact conditional: 50 of the 266 errors on the candidate, 26.6 expected under the null" in (
        evidence.explanation
    )


def test_an_equal_candidate_is_inconclusive_before_the_last_look_and_successful_at_it() -> None:
    design = GroupSequentialDesign()
    early = judge_sequential("5XX rate", design, 2, 40, 4_000, 40, 4_000)
    last = judge_sequential("5XX rate", design, 5, 100, 10_000, 101, 10_000)
    assert (early.outcome, early.evidence.rule) == (Outcome.INCONCLUSIVE, Rule.BOUNDARY_NOT_CROSSED)
    assert (last.outcome, last.evidence.rule) == (Outcome.SUCCESSFUL, Rule.FINAL_LOOK_NOT_CROSSED)
    assert last.evidence.explanation.endswith(": Successful")


def test_a_look_outside_the_design_is_refused() -> None:
    with pytest.raises(ValueError, match="look must be between 1 and 5"):
        judge_sequential("5XX rate", GroupSequentialDesign(), 6, 1, 1_000, 1, 1_000)


def test_fractions_must_increase_and_end_at_one() -> None:
    with pytest.raises(ValueError, match="increase"):
        GroupSequentialDesign(fractions=(0.5, 0.5, 1.0))
    with pytest.raises(ValueError, match="end at 1"):
        GroupSequentialDesign(fractions=(0.5, 0.8))


counts = st.integers(1, 20_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=300, deadline=None)
@given(
    baseline=counts,
    candidate=counts,
    look=st.integers(1, 5),
    change=st.sampled_from([0.0, 0.1, 0.5]),
    statistic=st.sampled_from(list(RateStatistic)),
)
def test_more_candidate_errors_never_make_the_candidate_look_better(
    baseline: tuple[int, int], candidate: tuple[int, int], look: int, change: float, statistic: RateStatistic
) -> None:
    design = GroupSequentialDesign(allowed_relative_change=change, minimum_samples_per_arm=1, statistic=statistic)
    (xb, nb), (xc, nc) = baseline, candidate
    if xc == nc:
        return
    before = judge_sequential("errors", design, look, xb, nb, xc, nc)
    after = judge_sequential("errors", design, look, xb, nb, xc + 1, nc)
    assert before.evidence.statistic is not None and after.evidence.statistic is not None
    assert after.evidence.statistic >= before.evidence.statistic - 1e-12
    if before.outcome is Outcome.FAILED:
        assert after.outcome is Outcome.FAILED
    if xb > 0:
        fewer_baseline_errors = judge_sequential("errors", design, look, xb - 1, nb, xc, nc)
        assert fewer_baseline_errors.evidence.statistic is not None
        assert fewer_baseline_errors.evidence.statistic >= before.evidence.statistic - 1e-12


@settings(max_examples=200, deadline=None)
@given(baseline=counts, candidate=counts, look=st.integers(1, 5), minimum=st.integers(2, 5_000))
def test_outcome_is_inconclusive_below_the_minimum_sample(
    baseline: tuple[int, int], candidate: tuple[int, int], look: int, minimum: int
) -> None:
    design = GroupSequentialDesign(minimum_samples_per_arm=minimum)
    (xb, nb), (xc, nc) = baseline, candidate
    verdict = judge_sequential("errors", design, look, xb, nb, xc, nc)
    if min(nb, nc) < minimum:
        assert verdict.outcome is Outcome.INCONCLUSIVE
        assert verdict.evidence.rule is Rule.BELOW_MINIMUM_SAMPLE
    else:
        assert verdict.evidence.rule is not Rule.BELOW_MINIMUM_SAMPLE


# The exact conditional statistic (the default).


def _rational_mid_p(x: int, total: int, share: Fraction) -> Fraction:
    """P(X > x) + P(X = x) / 2 for X ~ Binomial(total, share), in exact rational arithmetic."""
    terms = [math.comb(total, k) * share**k * (1 - share) ** (total - k) for k in range(total + 1)]
    return sum(terms[x + 1 :], Fraction(0)) + terms[x] / 2


def test_the_exact_conditional_statistic_matches_a_hand_computed_example() -> None:
    # 3 of 5 errors on the candidate at a 50/50 split: X ~ Binomial(5, 1/2), P(X > 3) = (5 + 1) / 32 and
    # P(X = 3) = 10 / 32, so the mid-p is 6/32 + 5/32 = 11/32 and z = Phi^-1(21/32) = 0.40225.
    result = exact_conditional(2, 1_000, 3, 1_000)
    assert (result.total_errors, result.null_share, result.expected_candidate_errors) == (5, 0.5, 2.5)
    assert result.mid_p == pytest.approx(11 / 32, rel=1e-12)
    assert result.z == pytest.approx(0.40225, abs=1e-5)
    assert result.z == pytest.approx(NORMAL.inv_cdf(21 / 32), abs=1e-12)
    assert result.exact


def test_the_exact_conditional_statistic_matches_a_hand_computed_example_with_an_allowed_change() -> None:
    # 10 % canary (100 / 900 requests), +50 % allowed: the null share is 100 * 1.5 / (100 * 1.5 + 900) = 1/7.
    # 3 of 7 errors on the candidate: P(X = k) = C(7, k) 6^(7-k) / 7^7, 7^7 = 823,543; P(X = 3) = 35 * 6^4 = 45,360,
    # P(X > 3) = 35 * 6^3 + 21 * 6^2 + 7 * 6 + 1 = 8,359; mid-p = (8,359 + 22,680) / 823,543 = 0.0376896, z = 1.77815.
    result = exact_conditional(4, 900, 3, 100, allowed_relative_change=0.5)
    assert result.null_share == pytest.approx(1 / 7, rel=1e-15)
    assert result.mid_p == pytest.approx(31_039 / 823_543, rel=1e-12)
    assert result.z == pytest.approx(1.77815, abs=1e-5)
    verdict = judge_sequential("5XX rate", GroupSequentialDesign(allowed_relative_change=0.5), 5, 4, 900, 3, 100)
    assert verdict.outcome is Outcome.FAILED  # 1.778 >= the last boundary, 1.740
    assert verdict.evidence.statistic == pytest.approx(result.z)
    assert "(+50% allowed)" in verdict.evidence.explanation
    assert "exact conditional: 3 of the 7 errors on the candidate, 1.0 expected under the null, one-sided mid-p " in (
        verdict.evidence.explanation
    )


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 150),
    position=st.floats(0, 1),
    requests=st.tuples(st.integers(1, 10_000), st.integers(1, 10_000)),
    change=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_the_exact_conditional_z_equals_the_mid_p_of_rational_arithmetic(
    total: int, position: float, requests: tuple[int, int], change: float
) -> None:
    nc, nb = requests
    xc = round(position * total)
    share = nc * (1 + change) / (nc * (1 + change) + nb)
    z, mid_p, exact = conditional_z(xc, total, share)
    above = _rational_mid_p(xc, total, Fraction(share))
    assert exact
    assert mid_p == pytest.approx(float(above), rel=1e-11, abs=1e-300)
    tail = min(above, 1 - above)
    if float(tail) > 1e-300:  # beyond, the float tail underflows; the statistic is taken from its logarithm
        expected = -NORMAL.inv_cdf(float(above)) if above <= Fraction(1, 2) else NORMAL.inv_cdf(float(1 - above))
        assert z == pytest.approx(expected, abs=1e-9)


def test_the_statistic_stays_finite_and_ordered_where_the_p_value_underflows() -> None:
    # 10^6 errors all on the candidate: the mid-p is 2^-10^6 / 2, far below the smallest float; z = 1177.4 from
    # log mid-p = -(10^6 + 1) log 2 by the normal tail's asymptotic series.
    everything = exact_conditional(0, 1_000_000, 1_000_000, 1_000_000)
    assert everything.mid_p == 0.0
    assert everything.z == pytest.approx(1177.4, abs=0.1)
    assert exact_conditional(1, 1_000_000, 999_999, 1_000_000).z < everything.z
    assert exact_conditional(1_000_000, 1_000_000, 0, 1_000_000).z == pytest.approx(-everything.z)
    # Both sides of the switch from the ordinary inverse to the series (a tail of e^-700, z near 37.4) agree.
    assert _z_from_log_tail(True, -700.0 + 1e-9) == pytest.approx(_z_from_log_tail(True, -700.0 - 1e-9), abs=1e-8)


def test_no_errors_at_all_is_no_evidence() -> None:
    result = exact_conditional(0, 5_000, 0, 5_000)
    assert (result.total_errors, result.mid_p, result.z) == (0, 0.5, 0.0)
    assert judge_sequential("5XX rate", GroupSequentialDesign(), 5, 0, 5_000, 0, 5_000).outcome is Outcome.SUCCESSFUL


def test_a_candidate_exactly_at_the_allowed_change_is_not_a_regression_for_the_exact_statistic() -> None:
    at_the_allowed_change = exact_conditional(100, 10_000, 110, 10_000, allowed_relative_change=0.1)
    assert at_the_allowed_change.expected_candidate_errors == pytest.approx(110)
    assert abs(at_the_allowed_change.z) < 0.05
    assert exact_conditional(100, 10_000, 110, 10_000).z > 0.5


@pytest.mark.parametrize("share", [0.5, 0.1, 0.013, 0.9])
def test_the_normal_approximation_agrees_with_the_exact_sum_where_it_takes_over(share: float) -> None:
    # At the threshold the conditional standard deviation is 2,200 to 3,200 errors: r* agrees to about 1e-6 in z,
    # from the centre to 40 standard deviations out, and the switch keeps the statistic ordered.
    n = math.floor(NORMAL_APPROXIMATION_ABOVE / min(share, 1 - share))
    sd = math.sqrt(n * share * (1 - share))
    for u in (-40, -4, -1, 0, 0.5, 1, 2, 4, 40):
        x = round(n * share + u * sd)
        exact = _z_from_log_tail(*_exact_mid_p_tail(x, n, share))
        assert _approximate_z(x, n, share) == pytest.approx(exact, abs=1e-5)
        here = conditional_z(x, n, share)[0]
        for larger in (n + 1, n + 2):  # one or two more candidate errors, across the switch
            assert conditional_z(x + larger - n, larger, share)[0] >= here - 1e-12
            assert conditional_z(x, larger, share)[0] <= here + 1e-12  # one or two more baseline errors
    assert not conditional_z(round(n * share) + 10, n + 20, share)[2]
    assert conditional_z(round(n * share), n - 20, share)[2]


def test_one_verdict_takes_well_under_50_ms_at_a_million_requests() -> None:
    # The hardest cases for the exact sum are counts near the mean (about 9 standard deviations of terms).
    cases = [
        (10_000, 1_000_000, 10_000, 1_000_000),
        (500_000, 1_000_000, 500_000, 1_000_000),
        (90_000, 9_000_000, 10_000, 1_000_000),
        (1_000_000, 1_000_000, 1_000_000, 1_000_000),
    ]
    design = GroupSequentialDesign()
    for counts in cases:
        seconds = []
        for _ in range(5):
            began = time.perf_counter()
            judge_sequential("errors", design, 5, *counts)
            seconds.append(time.perf_counter() - began)
        assert median(seconds) < 0.05


def test_the_pooled_z_is_still_available_and_is_the_score_statistic() -> None:
    assert GroupSequentialDesign().statistic is RateStatistic.EXACT_CONDITIONAL
    design = GroupSequentialDesign(statistic="pooled-z")
    assert design.statistic is RateStatistic.POOLED_Z
    verdict = judge_sequential("5XX rate", design, 3, 216, 21_600, 50, 2_400)
    assert verdict.evidence.statistic == pytest.approx(compare_rates(216, 21_600, 50, 2_400).z, rel=1e-12)
    assert "(pooled two-proportion z) crosses the O'Brien-Fleming boundary" in verdict.evidence.explanation
    shifted = GroupSequentialDesign(statistic=RateStatistic.POOLED_Z, allowed_relative_change=0.1)
    verdict = judge_sequential("5XX rate", shifted, 5, 100, 10_000, 130, 10_000)
    assert verdict.evidence.statistic == pytest.approx(compare_rates(100, 10_000, 130, 10_000, 0.1).z, rel=1e-12)
    assert "(Farrington-Manning score z)" in verdict.evidence.explanation
    with pytest.raises(ValueError, match="statistic"):
        GroupSequentialDesign(statistic="t-test")


def test_with_few_errors_on_the_small_arm_the_exact_statistic_is_more_cautious_than_the_pooled_z() -> None:
    # 10 % canary, 1 % baseline: 5 candidate errors in 189 requests against 17 in 1,701. The pooled z treats the
    # skewed candidate rate as normal and reports more evidence than the conditional binomial does.
    exact = exact_conditional(17, 1_701, 5, 189).z
    pooled = compare_rates(17, 1_701, 5, 189).z
    assert pooled > exact > 0
