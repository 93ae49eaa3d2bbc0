"""The batch schedule, the stopping rule and the baseline policies."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.bandit import (
    ArmStatistics,
    BanditDesign,
    Streak,
    advance_streak,
    batch_schedule,
    batch_size,
    epsilon_greedy_choice,
    epsilon_greedy_weights,
    ucb1_choice,
    ucb1_index,
    winner,
)


def arm(variant: str, count: float, successes: float) -> ArmStatistics:
    return ArmStatistics(variant=variant, count=count, reward_sum=successes)


def test_batches_start_small_and_grow_geometrically_to_the_maximum() -> None:
    assert [batch_size(k) for k in range(6)] == [100, 200, 400, 500, 500, 500]
    design = BanditDesign(initial_batch=50, batch_growth=1.5, maximum_batch=300)
    assert [batch_size(k, design) for k in range(7)] == [50, 75, 112, 169, 253, 300, 300]
    assert batch_size(10_000) == 500


def test_a_growth_of_one_keeps_batches_fixed() -> None:
    design = BanditDesign(initial_batch=600, batch_growth=1.0, maximum_batch=600)
    assert batch_schedule(2_000, design) == [600, 600, 600, 200]


def test_a_negative_batch_index_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 0"):
        batch_size(-1)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=200_000),
    st.integers(min_value=20, max_value=500),
    st.floats(min_value=1.0, max_value=4.0),
    st.integers(min_value=500, max_value=5_000),
)
def test_the_schedule_covers_the_requests_with_nondecreasing_batches(
    total: int, initial: int, growth: float, maximum: int
) -> None:
    design = BanditDesign(initial_batch=initial, batch_growth=growth, maximum_batch=maximum)
    sizes = batch_schedule(total, design)
    assert sum(sizes) == total
    assert all(size >= 1 for size in sizes)
    assert all(size <= maximum for size in sizes)
    assert all(a <= b for a, b in pairwise(sizes[:-1]))  # the last one is cut to fit


def test_a_leader_above_the_threshold_for_three_updates_wins() -> None:
    streak = Streak()
    for probabilities in ({"a": 0.96, "b": 0.04}, {"a": 0.97, "b": 0.03}):
        streak = advance_streak(streak, probabilities)
        assert winner(streak) is None
    streak = advance_streak(streak, {"a": 0.99, "b": 0.01})
    assert streak == Streak(leader="a", updates=3)
    assert winner(streak) == "a"


def test_a_dip_below_the_threshold_restarts_the_streak() -> None:
    streak = advance_streak(advance_streak(Streak(), {"a": 0.96, "b": 0.04}), {"a": 0.96, "b": 0.04})
    streak = advance_streak(streak, {"a": 0.94, "b": 0.06})
    assert streak == Streak()
    assert winner(advance_streak(streak, {"a": 0.99, "b": 0.01})) is None


def test_a_new_leader_starts_its_own_streak() -> None:
    streak = Streak(leader="a", updates=2)
    assert advance_streak(streak, {"a": 0.01, "b": 0.99}) == Streak(leader="b", updates=1)


def test_the_threshold_and_length_come_from_the_design() -> None:
    design = BanditDesign(stop_probability=0.8, stop_updates=1)
    streak = advance_streak(Streak(), {"a": 0.85, "b": 0.15}, design.stop_probability)
    assert winner(streak, design) == "a"


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
