"""The Mann-Whitney judge: textbook examples, the tie correction, the effect-size gate."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.judge.outcome import Outcome, Rule
from rollouts.judge.rank import RankDesign, judge_rank, mann_whitney_greater


def test_u_and_p_value_match_the_diabetes_ages_example() -> None:
    # Shier, "Statistics: 2.3 The Mann-Whitney U Test" (Mathematics Learning Support Centre, 2004), reproduced in the
    # scipy.stats.mannwhitneyu docs: U_M = 17, U_F = 3; the two-sided normal approximation with continuity
    # correction is p = 0.11134688653314041, so the one-sided p that males are older is half of it.
    males, females = [19, 22, 16, 29, 24], [20, 11, 17, 12]
    result = mann_whitney_greater(males, females)
    assert result.u == 17
    assert result.p_value == pytest.approx(0.11134688653314041 / 2, rel=1e-12)
    assert mann_whitney_greater(females, males).u == 3


def test_u_counts_pairs_as_in_the_tortoise_and_hare_example() -> None:
    # Wikipedia, "Mann-Whitney U test", illustration: a race finishing T H H H H H T T T T T H gives U_T = 11 and
    # U_H = 25 (ranks by finishing position; a larger U here means finishing later).
    order = "THHHHHTTTTTH"
    tortoises = [position for position, runner in enumerate(order, start=1) if runner == "T"]
    hares = [position for position, runner in enumerate(order, start=1) if runner == "H"]
    assert mann_whitney_greater(hares, tortoises).u == 11
    assert mann_whitney_greater(tortoises, hares).u == 25


def test_tie_corrected_variance_is_the_exact_permutation_variance() -> None:
    # Under the null every split of the pooled values is equally likely; the variance of U over all splits, with
    # midranks, is what the tie-corrected formula claims. Recover the formula's variance from z.
    candidate, baseline = [3.0, 3.0, 5.0, 7.0], [1.0, 3.0, 5.0, 5.0, 2.0]
    pooled = candidate + baseline
    us = [
        mann_whitney_greater([pooled[i] for i in chosen], [pooled[i] for i in range(9) if i not in chosen]).u
        for chosen in itertools.combinations(range(9), 4)
    ]
    exact_variance = statistics.pvariance(us)
    result = mann_whitney_greater(candidate, baseline)
    formula_sd = (result.u - 4 * 5 / 2 - 0.5) / result.z
    assert formula_sd**2 == pytest.approx(exact_variance, rel=1e-12)
    assert statistics.mean(us) == pytest.approx(10.0)


def test_all_tied_values_are_no_evidence() -> None:
    result = mann_whitney_greater([5.0] * 10, [5.0] * 10)
    assert (result.u, result.p_value) == (50.0, 1.0)


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        mann_whitney_greater([1.0, float("nan")], [1.0])


BASELINE = [100.0, 102.0, 98.0, 101.0, 99.0, 103.0, 97.0, 100.0, 102.0, 98.0]


def test_a_large_significant_increase_fails_with_an_explanation() -> None:
    candidate = [value * 1.5 for value in BASELINE]
    verdict = judge_rank("ModelLatency p99", RankDesign(), BASELINE, candidate, critical=True)
    assert verdict.outcome is Outcome.FAILED
    evidence = verdict.evidence
    assert evidence.rule is Rule.SIGNIFICANT_INCREASE
    assert evidence.statistic == 100  # every candidate period above every baseline period
    assert evidence.effect_size == pytest.approx(0.5)
    assert evidence.p_value is not None and evidence.p_value < 0.05
    assert evidence.explanation.startswith("ModelLatency p99 median 150 on the candidate vs 100 on the baseline")
    assert evidence.explanation.endswith(": Failed")


def test_a_significant_but_small_increase_passes_the_gate() -> None:
    candidate = [value + 5 for value in BASELINE]  # +5 %: clear, but within the allowed +10 %
    verdict = judge_rank("ModelLatency p99", RankDesign(), BASELINE, candidate)
    assert verdict.evidence.p_value is not None and verdict.evidence.p_value < 0.05
    assert (verdict.outcome, verdict.evidence.rule) == (Outcome.SUCCESSFUL, Rule.INCREASE_WITHIN_ALLOWED_CHANGE)


def test_an_equal_candidate_passes() -> None:
    verdict = judge_rank("ModelLatency p99", RankDesign(), BASELINE, list(reversed(BASELINE)))
    assert (verdict.outcome, verdict.evidence.rule) == (Outcome.SUCCESSFUL, Rule.NO_SIGNIFICANT_INCREASE)


def test_an_increase_from_a_zero_median_is_beyond_any_allowed_change() -> None:
    verdict = judge_rank("Invocation5XXErrors", RankDesign(), [0.0] * 10, [1.0] * 10)
    assert verdict.evidence.effect_size is None
    assert verdict.outcome is Outcome.FAILED


def test_few_periods_are_inconclusive() -> None:
    verdict = judge_rank("ModelLatency p99", RankDesign(minimum_periods=8), BASELINE[:7], BASELINE[:9])
    assert (verdict.outcome, verdict.evidence.rule) == (Outcome.INCONCLUSIVE, Rule.BELOW_MINIMUM_SAMPLE)


values = st.lists(st.integers(1, 50).map(float), min_size=8, max_size=20)
distinct = st.lists(st.floats(1, 1_000, allow_nan=False), min_size=8, max_size=20, unique=True)


@settings(max_examples=100, deadline=None)
@given(baseline=values, candidate=values, index=st.integers(0, 19), bump=st.integers(1, 30))
def test_raising_a_candidate_period_never_lowers_u_or_the_median(
    baseline: list[float], candidate: list[float], index: int, bump: int
) -> None:
    raised = list(candidate)
    raised[index % len(raised)] += bump
    assert mann_whitney_greater(raised, baseline).u >= mann_whitney_greater(candidate, baseline).u
    assert statistics.median(raised) >= statistics.median(candidate)


@settings(max_examples=100, deadline=None)
@given(baseline=distinct, candidate=distinct, index=st.integers(0, 19), bump=st.floats(0.001, 100))
def test_without_ties_raising_a_candidate_period_never_turns_a_failure_into_a_pass(
    baseline: list[float], candidate: list[float], index: int, bump: float
) -> None:
    # With ties the p-value can move either way at equal U, because the tie correction changes the variance (see
    # the module docstring); without them it is a function of U alone.
    raised = list(candidate)
    raised[index % len(raised)] += bump
    if len({*raised, *baseline}) < len(raised) + len(baseline):
        return
    before, after = mann_whitney_greater(candidate, baseline), mann_whitney_greater(raised, baseline)
    assert after.p_value <= before.p_value + 1e-12
    if judge_rank("latency", RankDesign(), baseline, candidate).outcome is Outcome.FAILED:
        assert judge_rank("latency", RankDesign(), baseline, raised).outcome is Outcome.FAILED


def test_lower_is_worse_fails_a_candidate_whose_values_drop_and_passes_one_whose_values_rise() -> None:
    # Given a conversion-like metric, per period, where lower is worse
    design = RankDesign(higher_is_worse=False, minimum_periods=8)
    baseline = [0.10, 0.11, 0.09, 0.10, 0.12, 0.10, 0.11, 0.10, 0.09, 0.11]

    # When the candidate converts a third less, or a third more
    worse = judge_rank("conversion", design, baseline, [v * 0.66 for v in baseline])
    better = judge_rank("conversion", design, baseline, [v * 1.33 for v in baseline])

    # Then only the drop fails, and the evidence shows the real medians and the signed change
    assert worse.outcome == Outcome.FAILED
    assert worse.evidence.candidate_estimate == pytest.approx(0.066)
    assert worse.evidence.effect_size == pytest.approx(-0.34)
    assert "(-10% allowed)" in worse.evidence.explanation
    assert better.outcome == Outcome.SUCCESSFUL
    assert "no significant decrease" in better.evidence.explanation


FIVE_LOOKS = (0.2, 0.4, 0.6, 0.8, 1.0)


def test_a_rank_test_spent_over_five_looks_compares_z_with_the_looks_boundary() -> None:
    # Every candidate period above every baseline period: z = 3.74 over 10 / 10 periods
    candidate = [value * 1.5 for value in BASELINE]
    design = RankDesign(fractions=FIVE_LOOKS)

    early = judge_rank("ModelLatency p99", design, BASELINE, candidate, critical=True, look=1)
    last = judge_rank("ModelLatency p99", design, BASELINE, candidate, critical=True, look=5)

    # The first look's O'Brien-Fleming boundary (4.23) is out of reach of 10 periods; the last one's (1.74) is not
    assert early.outcome is Outcome.SUCCESSFUL and early.evidence.rule is Rule.NO_SIGNIFICANT_INCREASE
    assert early.evidence.boundary == pytest.approx(4.229, abs=1e-3)
    assert "< the O'Brien-Fleming boundary 4.23 at look 1 of 5" in early.evidence.explanation
    assert last.outcome is Outcome.FAILED
    assert (last.evidence.look, last.evidence.looks) == (5, 5)
    assert ">= the O'Brien-Fleming boundary 1.74 at look 5 of 5" in last.evidence.explanation


def test_one_look_is_the_fixed_test_and_its_boundary_is_the_normal_quantile() -> None:
    verdict = judge_rank("ModelLatency p99", RankDesign(alpha=0.05), BASELINE, [v * 1.5 for v in BASELINE])

    assert verdict.evidence.boundary == pytest.approx(1.6449, abs=1e-4)
    assert (verdict.evidence.look, verdict.evidence.looks) == (1, 1)


def test_a_look_beyond_the_design_is_refused() -> None:
    with pytest.raises(ValueError, match="look must be between 1 and 5"):
        judge_rank("latency", RankDesign(fractions=FIVE_LOOKS), BASELINE, BASELINE, look=6)


def test_an_equal_candidate_judged_at_every_look_fails_about_alpha_not_more() -> None:
    # Five looks at 8, 16, .. 40 periods a variant: the spent test stays near alpha where the fixed test does not
    rng = random.Random(11)
    runs, alpha = 1_500, 0.05
    spent = fixed = 0
    for _ in range(runs):
        baseline = [rng.lognormvariate(0, 0.1) for _ in range(40)]
        candidate = [rng.lognormvariate(0, 0.1) for _ in range(40)]
        looks = [(baseline[: 8 * k], candidate[: 8 * k], k) for k in range(1, 6)]
        spent_design = RankDesign(alpha=alpha, allowed_relative_change=0.0, fractions=FIVE_LOOKS)
        fixed_design = RankDesign(alpha=alpha, allowed_relative_change=0.0)
        spent += any(judge_rank("l", spent_design, b, c, look=k).outcome is Outcome.FAILED for b, c, k in looks)
        fixed += any(judge_rank("l", fixed_design, b, c).outcome is Outcome.FAILED for b, c, _ in looks)

    error = (alpha * (1 - alpha) / runs) ** 0.5
    assert spent / runs <= alpha + 2 * error
    assert fixed / runs > alpha + 4 * error
