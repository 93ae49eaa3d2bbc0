"""The batch schedule and the stopping rule."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bandit import batch_schedule, deployed_schedule
from rollouts.bandit.models import BanditDesign, Streak
from rollouts.bandit.schedule import advance_streak, batch_size, winner


def test_batches_start_small_and_grow_geometrically_to_the_maximum() -> None:
    assert [batch_size(k) for k in range(6)] == [100, 200, 400, 500, 500, 500]
    design = BanditDesign(initial_batch=50, batch_growth=1.5, maximum_batch=300)
    assert [batch_size(k, design) for k in range(7)] == [50, 75, 112, 169, 253, 300, 300]
    assert batch_size(10_000) == 500


def test_a_growth_of_one_keeps_batches_fixed() -> None:
    design = BanditDesign(initial_batch=600, batch_growth=1.0, maximum_batch=600)
    assert batch_schedule(2_000, design) == [600, 600, 600, 200]


def test_the_benchmarks_rollout_schedule_holds_each_batch_to_one_minimum_update_interval() -> None:
    """At 10 requests per second a 30 s interval is 300 requests: the first two batches of 100 and 200 grow to it."""
    sizes = deployed_schedule(BanditDesign())

    assert sizes[:5] == [300, 300, 400, 500, 500]
    assert (sum(sizes), len(sizes)) == (100_000, 201)


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
