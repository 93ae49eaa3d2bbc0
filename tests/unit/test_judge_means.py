"""The feedback judge: Welch's z with a relative margin, under the group-sequential boundaries."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.judge.means import MeanStats, judge_means, mean_z, welch_z
from rollouts.judge.outcome import Outcome, Rule
from rollouts.judge.sequential import GroupSequentialDesign


def conversions(count: int, converted: int) -> MeanStats:
    """0/1 rewards: the sum and the sum of squares are both the number converted."""
    return MeanStats(count, float(converted), float(converted))


def test_welch_z_for_conversions_matches_the_two_proportion_wald_z():
    baseline, candidate = conversions(2000, 200), conversions(1000, 70)  # 10 % and 7 %
    p_b, p_c = 0.10, 0.07
    var_b, var_c = p_b * (1 - p_b) * 2000 / 1999, p_c * (1 - p_c) * 1000 / 999
    expected = (p_b - p_c) / math.sqrt(var_c / 1000 + var_b / 2000)

    assert welch_z(baseline, candidate, 0.0, higher_is_worse=False) == pytest.approx(expected, rel=1e-12)
    assert welch_z(baseline, candidate, 0.0, higher_is_worse=True) == pytest.approx(-expected, rel=1e-12)


def test_a_margin_moves_the_baseline_not_the_candidate():
    baseline, candidate = conversions(4000, 400), conversions(4000, 380)  # 10 % and 9.5 %

    strict = welch_z(baseline, candidate, 0.0, higher_is_worse=False)
    tolerant = welch_z(baseline, candidate, 0.10, higher_is_worse=False)  # anything above 9 % is fine

    assert strict > 0 > tolerant


def test_a_clear_drop_in_conversions_fails_at_the_first_of_three_looks_and_says_why():
    design = GroupSequentialDesign(alpha=0.05, fractions=(1 / 3, 2 / 3, 1.0), minimum_samples_per_arm=200)

    verdict = judge_means("conversion", design, 1, conversions(6000, 600), conversions(3000, 150))

    assert verdict.outcome == Outcome.FAILED
    assert verdict.evidence.rule == Rule.BOUNDARY_CROSSED
    assert verdict.evidence.candidate_estimate == pytest.approx(0.05)
    assert verdict.evidence.effect_size == pytest.approx(-0.5)
    assert "lower is worse" in verdict.evidence.explanation


def test_equal_conversions_are_inconclusive_before_the_last_look_and_successful_at_it():
    design = GroupSequentialDesign(alpha=0.05, fractions=(0.5, 1.0), minimum_samples_per_arm=200)
    baseline, candidate = conversions(5000, 500), conversions(1000, 100)

    assert judge_means("c", design, 1, baseline, candidate).outcome == Outcome.INCONCLUSIVE
    assert judge_means("c", design, 2, baseline, candidate).outcome == Outcome.SUCCESSFUL


def test_too_few_rewards_is_inconclusive_below_the_minimum():
    design = GroupSequentialDesign(fractions=(1.0,), minimum_samples_per_arm=200)

    verdict = judge_means("c", design, 1, conversions(5000, 500), conversions(150, 0))

    assert verdict.outcome == Outcome.INCONCLUSIVE
    assert verdict.evidence.rule == Rule.BELOW_MINIMUM_SAMPLE


def test_real_rewards_use_their_variance():
    # Revenue per order: the same gap is clear with a small spread and not with a large one
    design = GroupSequentialDesign(fractions=(1.0,), minimum_samples_per_arm=100)
    n = 400

    def revenue(mean: float, sd: float) -> MeanStats:
        return MeanStats(n, mean * n, (sd**2 * (n - 1)) + n * mean**2)

    tight = judge_means("revenue", design, 1, revenue(50.0, 5.0), revenue(48.0, 5.0))
    wide = judge_means("revenue", design, 1, revenue(50.0, 60.0), revenue(48.0, 60.0))

    assert tight.outcome == Outcome.FAILED
    assert wide.outcome == Outcome.SUCCESSFUL


@given(
    n=st.integers(min_value=10, max_value=5000),
    converted=st.integers(min_value=0, max_value=5000),
    more=st.integers(min_value=1, max_value=100),
)
def test_more_conversions_never_make_a_candidate_look_worse(n, converted, more):
    converted = min(converted, n)
    baseline = conversions(3000, 300)
    fewer = welch_z(baseline, conversions(n + more, converted), 0.0, higher_is_worse=False)
    better = welch_z(baseline, conversions(n + more, min(converted + more, n + more)), 0.0, higher_is_worse=False)

    assert better <= fewer or math.isclose(better, fewer)


def test_the_standard_error_is_the_larger_of_welchs_and_the_pooled_one():
    # A candidate whose conversions are low by chance has a low variance too: the pooled standard error is larger
    baseline, candidate = conversions(20_000, 2_000), conversions(2_000, 160)  # 10 % and 8 %
    z, which = mean_z(baseline, candidate, 0.0, higher_is_worse=False)

    assert which == "pooled"
    assert 0 < z < welch_z(baseline, candidate, 0.0, higher_is_worse=False)
    pooled = 2_160 / 22_000
    assert z == pytest.approx(0.02 / math.sqrt(pooled * (1 - pooled) * 22_000 / 21_999 * (1 / 2_000 + 1 / 20_000)))

    # Revenue with a wider spread on the candidate's side: Welch's standard error is the larger
    def revenue(n: int, mean: float, sd: float) -> MeanStats:
        return MeanStats(n, mean * n, (sd**2 * (n - 1)) + n * mean**2)

    z, which = mean_z(revenue(20_000, 50.0, 5.0), revenue(2_000, 49.0, 40.0), 0.0, higher_is_worse=False)
    assert which == "Welch's"
    assert z == pytest.approx(welch_z(revenue(20_000, 50.0, 5.0), revenue(2_000, 49.0, 40.0), 0.0, False))


def test_a_verdict_names_the_standard_error_it_used():
    design = GroupSequentialDesign(fractions=(1.0,), minimum_samples_per_arm=100)

    verdict = judge_means("conversion", design, 1, conversions(20_000, 2_000), conversions(2_000, 160))

    assert "(pooled standard error, the larger; lower is worse)" in verdict.evidence.explanation


@given(
    n=st.integers(min_value=10, max_value=5000),
    converted=st.integers(min_value=0, max_value=5000),
    more=st.integers(min_value=1, max_value=100),
)
def test_more_conversions_never_make_a_candidate_look_worse_with_either_standard_error(n, converted, more):
    converted = min(converted, n)
    baseline = conversions(3000, 300)
    fewer, _ = mean_z(baseline, conversions(n + more, converted), 0.0, higher_is_worse=False)
    better, _ = mean_z(baseline, conversions(n + more, min(converted + more, n + more)), 0.0, higher_is_worse=False)

    assert better <= fewer or math.isclose(better, fewer)
