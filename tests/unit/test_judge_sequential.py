"""The group-sequential rate test: boundaries against published values, verdicts, and invariants."""

from __future__ import annotations

import math
import random
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.judge import (
    GroupSequentialDesign,
    Outcome,
    Rule,
    Spending,
    boundaries,
    compare_rates,
    crossing_probabilities,
    drift_for_power,
    equal_fractions,
    fixed_horizon_sample_size,
    judge_sequential,
    spent_alpha,
)

FIVE = equal_fractions(5)
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


def test_power_of_a_single_look_is_the_closed_form_and_the_inflation_of_one_look_is_one() -> None:
    bound = NORMAL.inv_cdf(0.95)
    (power,) = crossing_probabilities([bound], (1.0,), drift=2.0)
    assert power == pytest.approx(1 - NORMAL.cdf(bound - 2.0), abs=1e-12)
    assert drift_for_power([bound], (1.0,), 0.8) == pytest.approx(bound + NORMAL.inv_cdf(0.8), abs=1e-6)
    assert GroupSequentialDesign(fractions=(1.0,)).inflation_factor(0.8) == pytest.approx(1.0, abs=1e-6)


def test_five_obrien_fleming_looks_cost_a_few_percent_more_maximum_sample() -> None:
    inflation = GroupSequentialDesign().inflation_factor(0.8)
    assert 1.0 < inflation < 1.06


def test_fixed_horizon_sample_size_matches_the_closed_form_anchors() -> None:
    # performance-anchors.md 2.3: one-sided 1 % -> 2 %, alpha 0.05, power 0.8: 1,826 per arm at 50/50; at 10 %
    # canary traffic 912 canary requests (and 9 times as many on the baseline).
    assert fixed_horizon_sample_size(0.01, 0.02, 0.05, 0.8) == (1826, 1826)
    candidate, baseline = fixed_horizon_sample_size(0.01, 0.02, 0.05, 0.8, baseline_per_candidate=9)
    assert candidate == 912
    assert baseline == pytest.approx(9 * 912, abs=9)


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
@given(baseline=counts, candidate=counts, look=st.integers(1, 5), change=st.sampled_from([0.0, 0.1, 0.5]))
def test_more_candidate_errors_never_make_the_candidate_look_better(
    baseline: tuple[int, int], candidate: tuple[int, int], look: int, change: float
) -> None:
    design = GroupSequentialDesign(allowed_relative_change=change, minimum_samples_per_arm=1)
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
