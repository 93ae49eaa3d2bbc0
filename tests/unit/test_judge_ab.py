"""The A/B test's judge: which model wins on mean reward, its always-valid interval, and its error rates over looks."""

from __future__ import annotations

import math
import random
from statistics import NormalDist, fmean, variance

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.judge.ab import AbDesign, judge_ab, two_sided_log_likelihood_ratio
from rollouts.judge.means import MeanStats

NORMAL = NormalDist()
DESIGN = AbDesign(effect_size=0.01)  # tuned to 10 % -> 11 % conversion
LOOKS, PER_LOOK = 28, 2_000  # four weeks of daily looks, 2,000 rewards per arm per day


def conversions(converted: int, rewards: int) -> MeanStats:
    return MeanStats(count=rewards, total=converted, total_sq=converted)


def rewards(values: list[float]) -> MeanStats:
    return MeanStats(count=len(values), total=sum(values), total_sq=sum(v * v for v in values))


def test_a_clearly_better_candidate_is_named_the_winner_with_the_figures() -> None:
    verdict = judge_ab(DESIGN, conversions(1_000, 10_000), conversions(1_200, 10_000))
    assert (verdict.winner, verdict.decided) == ("candidate", True)
    assert verdict.baseline == {"count": 10_000, "mean": pytest.approx(0.10)}
    assert verdict.candidate == {"count": 10_000, "mean": pytest.approx(0.12)}
    assert verdict.difference == pytest.approx(0.02)
    assert verdict.relative_change == pytest.approx(0.20)
    assert verdict.interval is not None and 0 < verdict.interval[0] < 0.02 < verdict.interval[1]
    assert verdict.likelihood_ratio >= 1 / DESIGN.alpha
    assert verdict.p_value == pytest.approx(1 / verdict.likelihood_ratio)
    assert verdict.reason.startswith(
        "Candidate wins: mean reward 0.12 on the candidate vs 0.1 on the baseline (+20.0 %) over 10,000 / 10,000"
    )
    assert "excludes 0" in verdict.reason


def test_a_clearly_worse_candidate_names_the_baseline() -> None:
    verdict = judge_ab(DESIGN, conversions(1_200, 10_000), conversions(1_000, 10_000))
    assert (verdict.winner, verdict.decided) == ("baseline", True)
    assert verdict.interval is not None and verdict.interval[1] < 0
    assert verdict.reason.startswith("Baseline wins")


def test_equal_arms_name_no_winner() -> None:
    verdict = judge_ab(DESIGN, conversions(1_000, 10_000), conversions(1_000, 10_000))
    assert (verdict.winner, verdict.decided) == (None, False)
    assert verdict.p_value == 1.0
    assert verdict.interval is not None and verdict.interval[0] < 0 < verdict.interval[1]
    assert verdict.reason.startswith("No winner yet")


def test_too_few_rewards_in_either_arm_is_no_decision_and_says_how_many() -> None:
    verdict = judge_ab(DESIGN, conversions(30, 150), conversions(100, 5_000))
    assert (verdict.winner, verdict.decided, verdict.interval) == (None, False, None)
    assert (verdict.likelihood_ratio, verdict.p_value) == (1.0, 1.0)
    assert verdict.reason == (
        "No decision yet: the candidate has 5,000 and the baseline 150 of the minimum 200 rewards per arm"
    )


def test_real_valued_rewards_are_judged_on_their_means() -> None:
    # Given revenue per request of about 5.0 on the baseline and 5.5 on the candidate, spread 3
    rng = random.Random(7)
    baseline = [max(0.0, rng.gauss(5.0, 3.0)) for _ in range(2_000)]
    candidate = [max(0.0, rng.gauss(5.5, 3.0)) for _ in range(2_000)]
    # When judged by a test tuned to a difference of 0.5
    verdict = judge_ab(AbDesign(effect_size=0.5), rewards(baseline), rewards(candidate))
    # Then the candidate wins, on the sample means, with the sample variances in the interval's width
    assert verdict.winner == "candidate"
    assert verdict.difference == pytest.approx(fmean(candidate) - fmean(baseline))
    spread = variance(candidate) / 2_000 + variance(baseline) / 2_000
    assert verdict.likelihood_ratio == pytest.approx(
        math.exp(two_sided_log_likelihood_ratio(verdict.difference, spread, 0.5)), rel=1e-9
    )


def test_the_likelihood_ratio_is_the_normal_mixture_by_independent_quadrature() -> None:
    # Lambda = ∫ exp(theta x / V - theta² / (2 V)) phi(theta / tau) / tau dtheta over the whole line.
    estimate, spread, tau = 0.006, 2 * 0.09 / 8_000, 0.01
    steps, top = 40_000, 12 * tau
    width = 2 * top / steps
    total = 0.0
    for i in range(steps + 1):
        theta = -top + i * width
        term = math.exp(theta * estimate / spread - theta**2 / (2 * spread)) * NORMAL.pdf(theta / tau) / tau
        total += term * (0.5 if i in (0, steps) else 1.0)
    assert math.exp(two_sided_log_likelihood_ratio(estimate, spread, tau)) == pytest.approx(total * width, rel=1e-6)


@settings(max_examples=300, deadline=None)
@given(
    baseline_converted=st.integers(0, 3_000),
    candidate_converted=st.integers(0, 3_000),
    baseline_rewards=st.integers(3_000, 30_000),
    candidate_rewards=st.integers(3_000, 30_000),
    alpha=st.sampled_from([0.01, 0.05, 0.2]),
)
def test_the_interval_excludes_zero_exactly_when_a_winner_is_named(
    baseline_converted: int, candidate_converted: int, baseline_rewards: int, candidate_rewards: int, alpha: float
) -> None:
    design = AbDesign(alpha=alpha, effect_size=0.01)
    verdict = judge_ab(
        design, conversions(baseline_converted, baseline_rewards), conversions(candidate_converted, candidate_rewards)
    )
    assert verdict.interval is not None
    low, high = verdict.interval
    assert verdict.decided == (low > 0 or high < 0) == (verdict.p_value <= alpha)
    assert verdict.winner == (None if not verdict.decided else "candidate" if low > 0 else "baseline")


def test_at_the_interval_ends_the_likelihood_ratio_is_one_over_alpha() -> None:
    baseline, candidate = conversions(1_000, 10_000), conversions(1_100, 10_000)
    verdict = judge_ab(DESIGN, baseline, candidate)
    spread = candidate.variance / candidate.count + baseline.variance / baseline.count
    assert verdict.interval is not None
    for end in verdict.interval:
        log_ratio = two_sided_log_likelihood_ratio(verdict.difference - end, spread, DESIGN.effect_size)
        assert log_ratio == pytest.approx(math.log(1 / DESIGN.alpha), rel=1e-9)


def test_constant_rewards_with_equal_means_are_no_evidence_without_dividing_by_zero() -> None:
    verdict = judge_ab(DESIGN, conversions(0, 1_000), conversions(0, 1_000))
    assert (verdict.winner, verdict.likelihood_ratio, verdict.p_value) == (None, 0.0, 1.0)
    assert verdict.relative_change is None
    assert verdict.reason.startswith("No winner: every reward is 0 in both arms")


def test_constant_rewards_that_differ_only_by_rounding_are_equal() -> None:
    tenths = AbDesign(effect_size=0.01, minimum_samples_per_arm=3)
    verdict = judge_ab(tenths, rewards([0.1, 0.1, 0.1]), rewards([0.1] * 10))
    assert verdict.winner is None


def test_constant_rewards_with_different_means_name_a_winner_with_a_capped_ratio() -> None:
    verdict = judge_ab(DESIGN, conversions(0, 5_000), conversions(5_000, 5_000))
    assert verdict.winner == "candidate"
    assert math.isfinite(verdict.likelihood_ratio) and verdict.p_value > 0
    assert verdict.interval == (1.0, 1.0)


def test_a_huge_likelihood_ratio_is_capped_not_an_overflow() -> None:
    verdict = judge_ab(DESIGN, conversions(1_000, 1_000_000), conversions(500_000, 1_000_000))
    assert verdict.winner == "candidate"
    assert math.isfinite(verdict.likelihood_ratio) and 0 < verdict.p_value < 1e-300


def test_the_running_p_value_keeps_an_earlier_crossing_while_the_look_decides_on_its_own() -> None:
    verdict = judge_ab(DESIGN, conversions(1_000, 10_000), conversions(1_010, 10_000), previous_p_value=0.01)
    assert (verdict.winner, verdict.p_value, verdict.running_p_value) == (None, 1.0, 0.01)
    assert verdict.reason.endswith("; an earlier look reached p = 0.01")


def _converted(rng: random.Random, rate: float) -> int:
    """Conversions among a look's rewards: the binomial by its normal approximation (n = 2,000)."""
    draw = round(rng.gauss(PER_LOOK * rate, math.sqrt(PER_LOOK * rate * (1 - rate))))
    return min(PER_LOOK, max(0, draw))


def _first_winner(rng: random.Random, baseline_rate: float, candidate_rate: float) -> str | None:
    """A rollout judged daily that stops at its first winner, or after the last look without one."""
    baseline = candidate = 0
    for look in range(1, LOOKS + 1):
        baseline += _converted(rng, baseline_rate)
        candidate += _converted(rng, candidate_rate)
        rewards_so_far = look * PER_LOOK
        verdict = judge_ab(DESIGN, conversions(baseline, rewards_so_far), conversions(candidate, rewards_so_far))
        if verdict.decided:
            return verdict.winner
    return None


def test_four_weeks_of_daily_looks_name_a_false_winner_less_often_than_alpha_and_find_a_real_lift() -> None:
    # Given 1,000 simulated A/B tests of 28 daily looks of 2,000 rewards per arm
    replications = 1_000
    rng = random.Random(20_260_503)
    # When both arms convert at 10 %, any winner named is a false one
    false_winners = sum(_first_winner(rng, 0.10, 0.10) is not None for _ in range(replications))
    # Then that happens in fewer than alpha of the tests, however many times each was looked at
    standard_error = math.sqrt(DESIGN.alpha * (1 - DESIGN.alpha) / replications)
    assert false_winners / replications <= DESIGN.alpha + 2 * standard_error
    # And when the candidate converts at 12 %, it is named in most tests and the baseline almost never
    winners = [_first_winner(rng, 0.10, 0.12) for _ in range(replications)]
    assert winners.count("candidate") / replications >= 0.95
    assert winners.count("baseline") / replications <= 0.01
