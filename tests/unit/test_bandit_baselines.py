"""The baseline policies the bandit benchmark compares the bandit with: UCB1 and epsilon-greedy."""

from __future__ import annotations

import math
import random

import pytest

from bench.bandit_baselines import epsilon_greedy_choice, epsilon_greedy_weights, ucb1_choice, ucb1_index
from rollouts.bandit.models import ArmStatistics


def arm(variant: str, count: float, successes: float) -> ArmStatistics:
    return ArmStatistics(variant=variant, count=count, reward_sum=successes)


def test_ucb1_serves_an_arm_without_requests_first_then_the_largest_index() -> None:
    assert ucb1_choice([arm("a", 10, 5), arm("b", 0, 0)]) == 1
    arms = [arm("a", 100, 10), arm("b", 10, 1)]
    assert ucb1_index(arms[0], 110) == pytest.approx(0.1 + math.sqrt(2 * math.log(110) / 100))
    assert ucb1_choice(arms) == 1  # same mean, fewer requests: the larger bonus


def test_epsilon_greedy_explores_uniformly_and_exploits_the_best_mean() -> None:
    arms = [arm("a", 100, 5), arm("b", 100, 9), arm("c", 100, 7)]
    assert epsilon_greedy_weights(arms, 0.3) == pytest.approx([0.1, 0.8, 0.1])
    assert epsilon_greedy_weights([arm("a", 0, 0), arm("b", 10, 1)]) == [0.5, 0.5]
    rng = random.Random(3)
    choices = [epsilon_greedy_choice(arms, rng, 0.3) for _ in range(4_000)]
    assert choices.count(1) / 4_000 == pytest.approx(0.8, abs=0.03)
