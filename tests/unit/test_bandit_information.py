"""Information-directed sampling: the best arm's moments, the allocation, and the weights a rollout sets."""

from __future__ import annotations

import math
from itertools import product
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings

from rollouts.bandit.models import ArmStatistics, BanditDesign, RewardKind
from rollouts.bandit.posterior import (
    BestArmMoments,
    BetaPosterior,
    NormalPosterior,
    best_arm_moments,
    posterior,
    probability_best,
)
from rollouts.bandit.weights import information_directed_weights, summarize
from rollouts.strategies.bandit import BanditStrategy
from tests.unit.bandit_arms import arm, conversion_arms, traffic_weights

NORMAL = NormalDist()


def midpoint_moments(params: list[tuple[float, float]], top: float, steps: int = 200_000) -> BestArmMoments:
    """P(A* = m) and E[(mu_k - E mu_k) 1{A* = m}] by a plain midpoint rule with lgamma-normalised Beta densities."""
    width = top / steps
    x = (np.arange(steps) + 0.5) * width
    log_betas = [math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b) for a, b in params]
    densities = np.array(
        [
            np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - log_beta)
            for (a, b), log_beta in zip(params, log_betas, strict=True)
        ]
    )
    cdfs = np.cumsum(densities, axis=1) * width - 0.5 * densities * width
    means = [a / (a + b) for a, b in params]
    count = len(params)
    chance, deviations = [], [[0.0] * count for _ in range(count)]
    for m in range(count):
        others = np.prod([cdfs[j] for j in range(count) if j != m], axis=0)
        chance.append(float((densities[m] * others).sum() * width))
        for k in range(count):
            # Partial expectation of (mu_k - E mu_k) below x, for k != m; (x - E mu_m) itself for k == m.
            if k == m:
                factor = x - means[m]
            else:
                factor = np.cumsum((x - means[k]) * densities[k]) * width - 0.5 * (x - means[k]) * densities[k] * width
            rest = np.prod([cdfs[j] for j in range(count) if j not in (k, m)] or [np.ones(steps)], axis=0)
            deviations[k][m] = float((densities[m] * factor * rest).sum() * width)
    return BestArmMoments(chance, deviations, means)


@pytest.mark.parametrize(
    ("params", "top"),
    [
        ([(51.0, 951.0), (61.0, 941.0), (46.0, 956.0)], 0.13),  # three conversion rates near 5 %, 1,000 requests each
        ([(6.0, 96.0), (8.0, 94.0), (3.0, 99.0)], 0.35),  # 100 requests each
        ([(501.0, 9_501.0), (7.0, 95.0)], 0.25),  # a well-measured arm against a young one
    ],
)
def test_beta_moments_match_an_independent_midpoint_rule(params: list[tuple[float, float]], top: float) -> None:
    # Given Beta posteriors whose mass lies below `top`
    expected = midpoint_moments(params, top)
    # When the package computes the best arm's moments
    moments = best_arm_moments([BetaPosterior(a, b) for a, b in params])
    # Then P(A* = m) and every deviation agree
    assert moments.probabilities == pytest.approx(expected.probabilities, abs=2e-6)
    for row, expected_row in zip(moments.deviations, expected.deviations, strict=True):
        assert row == pytest.approx(expected_row, rel=1e-4, abs=1e-9)


@pytest.mark.parametrize(
    ("m1", "s1", "m2", "s2"), [(0.0, 1.0, 0.5, 1.0), (10.0, 0.3, 10.1, 0.05), (3.0, 2.0, 1.0, 0.5)]
)
def test_two_normal_arms_match_the_closed_forms(m1: float, s1: float, m2: float, s2: float) -> None:
    # For jointly normal X1, X2: E[(X1 - m1) 1{X1 > X2}] = s1² phi(d / t) / t, d = m1 - m2, t = sqrt(s1² + s2²)
    spread = math.hypot(s1, s2)
    z = (m1 - m2) / spread
    first_best = s1 * s1 * NORMAL.pdf(z) / spread
    second_best = s2 * s2 * NORMAL.pdf(z) / spread
    moments = best_arm_moments([NormalPosterior(m1, s1), NormalPosterior(m2, s2)])
    assert moments.probabilities == pytest.approx([NORMAL.cdf(z), NORMAL.cdf(-z)], abs=1e-7)
    assert moments.deviations[0] == pytest.approx([first_best, -first_best], abs=1e-7 * s1)
    assert moments.deviations[1] == pytest.approx([-second_best, second_best], abs=1e-7 * s2)


@settings(max_examples=100, deadline=None)
@given(conversion_arms())
def test_deviations_of_every_arm_sum_to_zero_and_probabilities_match_probability_best(
    arms: list[ArmStatistics],
) -> None:
    moments = best_arm_moments([posterior(a) for a in arms])
    assert moments.probabilities == pytest.approx(probability_best(arms), abs=1e-9)
    # Up to about 1.2e-4 sd at 33 nodes per arm, on arms that converted on every request (Beta(a, 1), whose density
    # is largest at 1, where its window ends); the quadrature's error falls about 40-fold as the nodes per arm double.
    for k, row in enumerate(moments.deviations):
        assert sum(row) == pytest.approx(0.0, abs=5e-4 * posterior(arms[k]).sd + 1e-12)


def information_ratio(weights: tuple[float, ...], moments: BestArmMoments) -> float:
    """(sum pi Delta)² / (sum pi v), straight from the definitions."""
    chance, deviations, means = moments.probabilities, moments.deviations, moments.means
    best_mean = sum(deviations[m][m] + means[m] * chance[m] for m in range(len(chance)))
    regret = sum(w * (best_mean - mean) for w, mean in zip(weights, means, strict=True))
    gain = sum(
        w * sum(d * d / p for d, p in zip(row, chance, strict=True) if p > 1e-15)
        for w, row in zip(weights, deviations, strict=True)
    )
    return regret * regret / gain


@pytest.mark.parametrize(
    "arms",
    [
        [arm("a", 1_000, 50), arm("b", 1_000, 60), arm("c", 300, 13)],
        [arm("a", 100, 5), arm("b", 60, 4), arm("c", 20, 0)],
        [arm("a", 20_000, 1_000), arm("b", 200, 14), arm("c", 5_000, 240)],
    ],
)
def test_the_allocation_minimises_the_information_ratio_over_a_grid_of_the_simplex(arms: list[ArmStatistics]) -> None:
    moments = best_arm_moments([posterior(a) for a in arms])
    weights = information_directed_weights(moments)
    assert sum(weights) == pytest.approx(1.0)
    assert sum(1 for w in weights if w > 0) <= 2
    chosen = information_ratio(tuple(weights), moments)
    steps = 100
    pairs = [(i, j) for i, j in product(range(steps + 1), repeat=2) if i + j <= steps]
    grid = [(i / steps, j / steps, (steps - i - j) / steps) for i, j in pairs]
    assert chosen <= min(information_ratio(point, moments) for point in grid) * (1 + 1e-9)


def test_a_settled_winner_takes_all_of_the_information_directed_share() -> None:
    moments = best_arm_moments([posterior(a) for a in [arm("a", 50_000, 2_500), arm("b", 50_000, 3_500)]])
    assert information_directed_weights(moments) == pytest.approx([0.0, 1.0])


def test_information_directed_sampling_explores_the_arm_that_teaches_more() -> None:
    # Two arms as likely to beat the leader: the one with few requests is the one worth a request.
    arms = [arm("leader", 20_000, 1_200), arm("measured", 20_000, 1_170), arm("young", 300, 17)]
    chance = probability_best(arms)
    weights = information_directed_weights(best_arm_moments([posterior(a) for a in arms]))
    assert chance[1] > 0.1 and chance[2] > 0.1
    assert weights[1] == 0.0
    assert weights[2] > 0.0


def test_default_weights_are_half_probability_best_and_half_information_directed() -> None:
    arms = [arm("a", 1_000, 50), arm("b", 1_000, 60), arm("c", 300, 13)]
    chance = probability_best(arms)
    directed = information_directed_weights(best_arm_moments([posterior(a) for a in arms]))
    expected = [0.5 * p + 0.5 * d for p, d in zip(chance, directed, strict=True)]
    assert traffic_weights(arms) == pytest.approx(expected)
    assert summarize(arms).weights == pytest.approx(dict(zip("abc", expected, strict=True)))
    assert summarize(arms).probabilities_best == pytest.approx(dict(zip("abc", chance, strict=True)))


def test_a_share_of_zero_is_thompson_sampling_and_one_is_information_directed_sampling() -> None:
    arms = [arm("a", 1_000, 50), arm("b", 1_000, 60), arm("c", 300, 13)]
    assert traffic_weights(arms, BanditDesign(information_share=0.0)) == pytest.approx(probability_best(arms))
    directed = information_directed_weights(best_arm_moments([posterior(a) for a in arms]))
    assert traffic_weights(arms, BanditDesign(information_share=1.0)) == pytest.approx(directed)


def test_arms_nothing_tells_apart_get_equal_weights() -> None:
    for count, successes in [(0, 0), (500, 30)]:
        weights = traffic_weights([arm(f"v{i}", count, successes) for i in range(3)])
        assert weights == pytest.approx([1 / 3] * 3)


def test_real_rewards_are_weighted_equally_in_warm_up_and_by_both_parts_after() -> None:
    design = BanditDesign(reward_kind=RewardKind.REAL)
    young = [
        ArmStatistics(variant="a", count=1, reward_sum=2.0, reward_sum_of_squares=4.0),
        ArmStatistics(variant="b", count=10, reward_sum=8.0, reward_sum_of_squares=7.0),
    ]
    assert traffic_weights(young, design) == pytest.approx([0.5, 0.5])
    grown = [
        ArmStatistics(variant="a", count=40, reward_sum=42.0, reward_sum_of_squares=60.0),
        ArmStatistics(variant="b", count=40, reward_sum=38.0, reward_sum_of_squares=50.0),
    ]
    weights = traffic_weights(grown, design)
    assert sum(weights) == pytest.approx(1.0)
    assert weights[0] > probability_best(grown, RewardKind.REAL)[0]


def test_floors_and_caps_apply_to_the_mixed_weights() -> None:
    arms = [arm("a", 5_000, 250), arm("b", 5_000, 320), arm("c", 5_000, 200)]
    weights = traffic_weights(arms, BanditDesign(floor=0.05, caps={"b": 0.8}))
    assert min(weights) >= 0.05 - 1e-12
    assert weights[1] == pytest.approx(0.8)
    assert sum(weights) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(conversion_arms())
def test_every_arm_keeps_at_least_half_its_probability_best(arms: list[ArmStatistics]) -> None:
    # The P(best) half is what keeps an unlucky arm explored: IDS alone may give it nothing.
    chance = probability_best(arms)
    weights = traffic_weights(arms)
    assert sum(weights) == pytest.approx(1.0)
    for p, w in zip(chance, weights, strict=True):
        assert w >= 0.5 * p - 1e-9


def test_the_spec_sets_the_share_of_information_directed_sampling() -> None:
    from rollouts.logic.bandit import design_of

    assert design_of(BanditStrategy()).information_share == 0.5
    assert design_of(BanditStrategy(information_share=0)).information_share == 0.0
    with pytest.raises(ValueError, match="information_share"):
        BanditStrategy(information_share=1.5)
