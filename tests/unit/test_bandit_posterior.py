"""P(best) and credible intervals: against closed forms, an independent quadrature, and by property."""

from __future__ import annotations

import math
import time
from statistics import NormalDist, median

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.bandit.models import ArmStatistics, RewardKind
from rollouts.bandit.posterior import (
    BetaPosterior,
    NormalPosterior,
    credible_interval,
    posterior,
    probability_best,
    probability_best_of,
)
from tests.unit.bandit_arms import arm, conversion_arms

NORMAL = NormalDist()


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def beta_beats_beta(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X2 > X1), X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), a2 an integer: Evan Miller's closed form."""
    return sum(
        math.exp(_log_beta(a1 + i, b1 + b2) - math.log(b2 + i) - _log_beta(1 + i, b2) - _log_beta(a1, b1))
        for i in range(a2)
    )


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2"),
    [
        (1, 1, 1, 1),
        (1, 1, 2, 1),
        (3, 7, 5, 5),
        (2, 30, 3, 28),
        (1, 200, 2, 150),
        (1, 1, 1, 5_000),
        (51, 951, 61, 941),
        (10, 20, 1_000, 2_000),
        (501, 9_501, 601, 9_401),
        (20_001, 80_001, 20_201, 79_801),
        (5_001, 95_001, 5_101, 94_901),
    ],
)
def test_two_beta_arms_match_the_closed_form(a1: int, b1: int, a2: int, b2: int) -> None:
    probabilities = probability_best_of([BetaPosterior(a1, b1), BetaPosterior(a2, b2)])
    assert probabilities[1] == pytest.approx(beta_beats_beta(a1, b1, a2, b2), abs=1e-6)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("m1", "s1", "m2", "s2"),
    [
        (0.0, 1.0, 0.5, 1.0),
        (0.0, 1.0, 0.0, 0.01),
        (0.0, 0.001, 0.01, 1.0),
        (0.0, 1.0, 3.0, 0.5),
        (1.0, 1e-4, 1.0002, 1e-4),
    ],
)
def test_two_normal_arms_match_phi_of_the_standardised_difference(m1: float, s1: float, m2: float, s2: float) -> None:
    probabilities = probability_best_of([NormalPosterior(m1, s1), NormalPosterior(m2, s2)])
    assert probabilities[1] == pytest.approx(NORMAL.cdf((m2 - m1) / math.hypot(s1, s2)), abs=1e-7)


def test_three_beta_arms_match_an_independent_fine_quadrature() -> None:
    # Given three conversion arms, P(best) by a plain midpoint rule on 40,000 points with lgamma-normalised densities
    # (their mass is within 0.13: means 0.05 to 0.06, standard deviations about 0.007)
    params = [(51.0, 951.0), (61.0, 941.0), (46.0, 956.0)]
    steps, top = 40_000, 0.13
    width = top / steps
    cdfs = [0.0, 0.0, 0.0]
    expected = [0.0, 0.0, 0.0]
    for k in range(steps):
        x = (k + 0.5) * width
        densities = [math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - _log_beta(a, b)) for a, b in params]
        middle = [c + 0.5 * f * width for c, f in zip(cdfs, densities, strict=True)]
        for i in range(3):
            expected[i] += densities[i] * width * math.prod(middle[j] for j in range(3) if j != i)
        cdfs = [c + f * width for c, f in zip(cdfs, densities, strict=True)]
    # When P(best) is computed by the package
    arms = [arm(f"v{i}", a + b - 2, a - 1) for i, (a, b) in enumerate(params)]
    # Then they agree
    assert probability_best(arms) == pytest.approx(expected, abs=2e-6)


def test_identical_arms_get_equal_probabilities() -> None:
    for count, successes in [(0, 0), (10, 3), (100_000, 5_000)]:
        probabilities = probability_best([arm(f"v{i}", count, successes) for i in range(3)])
        assert probabilities == pytest.approx([1 / 3] * 3, abs=1e-9)


def test_a_clearly_better_arm_has_probability_best_near_one() -> None:
    probabilities = probability_best([arm("v1", 10_000, 1_000), arm("v2", 10_000, 2_000), arm("v3", 10_000, 950)])
    assert probabilities[1] > 1 - 1e-12
    assert probabilities[0] < 1e-12
    assert probabilities[2] < 1e-12


def test_one_arm_is_best_with_certainty() -> None:
    assert probability_best([arm("v1", 5, 1)]) == [1.0]


def test_an_arm_without_requests_keeps_a_share_against_a_known_one() -> None:
    # Beta(1, 1) against a well-measured 10 % arm: P(uniform > 0.1) is about 0.9.
    probabilities = probability_best([arm("new", 0, 0), arm("old", 100_000, 10_000)])
    assert probabilities[0] == pytest.approx(1 - 0.1, abs=2e-3)


def test_three_arms_at_100000_requests_each_take_well_under_10_ms() -> None:
    arms = [arm("v1", 100_000, 5_000), arm("v2", 100_000, 6_000), arm("v3", 100_000, 4_500)]
    close = [arm("v1", 100_000, 5_000), arm("v2", 100_000, 5_050), arm("v3", 100_000, 4_980)]
    for case in (arms, close):
        seconds = []
        for _ in range(15):
            began = time.perf_counter()
            probability_best(case)
            seconds.append(time.perf_counter() - began)
        assert median(seconds) < 0.01


def test_large_counts_agree_with_the_closed_form() -> None:
    # 100,000 requests per arm: Beta(5001, 95001) vs Beta(5101, 94901), about 2.3 standard errors apart.
    probabilities = probability_best([arm("a", 100_000, 5_000), arm("b", 100_000, 5_100)])
    assert probabilities[1] == pytest.approx(beta_beats_beta(5_001, 95_001, 5_101, 94_901), abs=1e-6)


def test_real_rewards_use_a_normal_posterior_of_the_mean() -> None:
    # Rewards 1, 2, 3, 4: mean 2.5, sample variance 5/3, posterior sd sqrt(5/3 / 4).
    stats = ArmStatistics(variant="v", count=4, reward_sum=10, reward_sum_of_squares=30)
    dist = posterior(stats, RewardKind.REAL)
    assert isinstance(dist, NormalPosterior)
    assert dist.mean == pytest.approx(2.5)
    assert dist.sd == pytest.approx(math.sqrt(5 / 3 / 4))
    other = ArmStatistics(variant="w", count=4, reward_sum=12, reward_sum_of_squares=38)  # 2, 3, 3, 4
    expected = NORMAL.cdf(0.5 / math.hypot(dist.sd, math.sqrt(2 / 3 / 4)))
    assert probability_best([stats, other], RewardKind.REAL)[1] == pytest.approx(expected, abs=1e-7)


def test_real_rewards_are_in_warm_up_until_every_arm_has_two_requests() -> None:
    arms = [ArmStatistics(variant="v", count=1, reward_sum=3, reward_sum_of_squares=9), arm("w", 50, 10)]
    assert probability_best(arms, RewardKind.REAL) == [0.5, 0.5]


def test_constant_real_rewards_still_rank_the_arms() -> None:
    same = ArmStatistics(variant="v", count=10, reward_sum=10, reward_sum_of_squares=10)
    higher = ArmStatistics(variant="w", count=10, reward_sum=20, reward_sum_of_squares=40)
    assert probability_best([same, higher], RewardKind.REAL) == pytest.approx([0.0, 1.0])
    assert probability_best([same, same], RewardKind.REAL) == pytest.approx([0.5, 0.5], abs=1e-9)


def test_conversions_above_the_count_are_rejected() -> None:
    with pytest.raises(ValueError, match="a conversion is from 0 to 1"):
        probability_best([arm("v", 10, 11), arm("w", 10, 1)])


@pytest.mark.parametrize(("count", "successes"), [(0, 0), (99, 0), (0, 0), (4, 4)])
def test_credible_intervals_match_closed_form_quantiles(count: int, successes: int) -> None:
    # Beta(1, b): F(x) = 1 - (1 - x)^b; Beta(a, 1): F(x) = x^a.
    a, b = 1 + successes, 1 + count - successes
    lower, upper = credible_interval(arm("v", count, successes), level=0.9)
    beta_1_b = (1 - 0.95 ** (1 / b), 1 - 0.05 ** (1 / b))
    expected = beta_1_b if a == 1 else (0.05 ** (1 / a), 0.95 ** (1 / a))
    assert (lower, upper) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_credible_interval_of_a_large_count_is_close_to_the_normal_one() -> None:
    lower, upper = credible_interval(arm("v", 100_000, 5_000))
    dist = BetaPosterior(5_001, 95_001)
    assert lower == pytest.approx(dist.mean - 1.959964 * dist.sd, abs=2e-5)
    assert upper == pytest.approx(dist.mean + 1.959964 * dist.sd, abs=2e-5)
    assert lower < 0.05 < upper


def test_credible_interval_of_real_rewards_is_the_normal_one() -> None:
    stats = ArmStatistics(variant="v", count=4, reward_sum=10, reward_sum_of_squares=30)
    half = 1.959964 * math.sqrt(5 / 3 / 4)
    assert credible_interval(stats, RewardKind.REAL) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(conversion_arms())
def test_probabilities_are_a_distribution(arms: list[ArmStatistics]) -> None:
    probabilities = probability_best(arms)
    assert all(0 <= p <= 1 for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(conversion_arms(), st.integers(min_value=1, max_value=5_000), st.booleans())
def test_more_successes_never_lower_an_arms_probability_best(
    arms: list[ArmStatistics], extra: int, as_new_requests: bool
) -> None:
    # More successes: either new successful requests, or failures turned into successes.
    first = arms[0]
    if as_new_requests:
        better = arm(first.variant, first.count + extra, first.reward_sum + extra)
    else:
        better = arm(first.variant, first.count, min(first.count, first.reward_sum + extra))
    before = probability_best(arms)[0]
    after = probability_best([better, *arms[1:]])[0]
    assert after >= before - 2e-6


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2", "expected"),
    [
        # P(X2 > X1) by mpmath 1.3.0 at 20 digits: quad of betainc(a1, b1, 0, x) times the Beta(a2, b2) density.
        (1.5, 10.0, 2.0, 9.0, 0.6440704711968765),
        (1.2, 50.0, 1.7, 40.0, 0.6947813004614982),
        (1.5, 1.5, 1.1, 1.3, 0.4533291192707578),
        (30.0, 1.4, 25.0, 1.9, 0.3236258669676668),
    ],
)
def test_fractional_beta_parameters_are_as_accurate(
    a1: float, b1: float, a2: float, b2: float, expected: float
) -> None:
    # A parameter between 1 and 2 (less than one success after discounting) has an infinite derivative at 0 or 1.
    assert probability_best_of([BetaPosterior(a1, b1), BetaPosterior(a2, b2)])[1] == pytest.approx(expected, abs=1e-6)
