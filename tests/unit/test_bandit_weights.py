"""Weights: floors and caps by rescaling, and the posterior summary a "Bandit Reweighted" decision carries."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rollouts.bandit.models import ArmStatistics, BanditDesign, RewardKind
from rollouts.bandit.posterior import probability_best
from rollouts.bandit.weights import constrain_weights, summarize
from tests.unit.bandit_arms import arm, traffic_weights


def test_floors_lift_the_losers_and_the_winner_pays() -> None:
    assert constrain_weights([0.98, 0.01, 0.01], [0.05] * 3, [1.0] * 3) == pytest.approx([0.9, 0.05, 0.05])


def test_a_cap_holds_the_winner_and_the_others_keep_their_proportions() -> None:
    weights = constrain_weights([0.6, 0.3, 0.1], [0.0] * 3, [0.5] * 3)
    assert weights == pytest.approx([0.5, 0.375, 0.125])
    assert weights[1] / weights[2] == pytest.approx(3.0)


def test_weights_within_their_bounds_are_only_normalised() -> None:
    assert constrain_weights([2.0, 1.0, 1.0], [0.1] * 3, [0.9] * 3) == pytest.approx([0.5, 0.25, 0.25])


def test_floors_that_sum_to_one_are_the_weights() -> None:
    assert constrain_weights([1.0, 0.0], [0.5, 0.5], [1.0, 1.0]) == pytest.approx([0.5, 0.5])


def test_an_arm_with_no_probability_takes_what_the_capped_arms_leave() -> None:
    assert constrain_weights([1.0, 0.0, 0.0], [0.0] * 3, [0.6, 0.3, 0.1]) == pytest.approx([0.6, 0.3, 0.1])


@pytest.mark.parametrize(
    ("floors", "caps", "message"),
    [
        ([0.6, 0.6], [1.0, 1.0], "floors sum"),
        ([0.0, 0.0], [0.4, 0.4], "caps sum"),
        ([0.5, 0.0], [0.4, 1.0], "floor <= cap"),
    ],
)
def test_constraints_that_cannot_be_met_are_rejected(floors: list[float], caps: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        constrain_weights([0.5, 0.5], floors, caps)


@st.composite
def constrained(draw: st.DrawFn) -> tuple[list[float], list[float], list[float]]:
    size = draw(st.integers(min_value=1, max_value=6))
    unit = st.floats(min_value=0.0, max_value=1.0)
    weights = [draw(unit) for _ in range(size)]
    assume(sum(weights) > 1e-9)
    floors = [draw(st.floats(min_value=0.0, max_value=1.0 / size)) for _ in range(size)]
    caps = [max(lower, draw(unit)) for lower in floors]
    assume(sum(caps) >= 1.0)
    return weights, floors, caps


@settings(max_examples=200, deadline=None)
@given(constrained())
# An arm capped at 0 and the other reaching its cap only within rounding: the rest once divided by zero.
@example(([0.28125, 0.6785397340672005], [0.0, 0.0], [0.0, 1.0]))
def test_constrained_weights_sum_to_one_within_their_floors_and_caps(
    case: tuple[list[float], list[float], list[float]],
) -> None:
    weights, floors, caps = case
    result = constrain_weights(weights, floors, caps)
    assert sum(result) == pytest.approx(1.0, abs=1e-9)
    for value, lower, upper in zip(result, floors, caps, strict=True):
        assert lower - 1e-12 <= value <= upper + 1e-12


@settings(max_examples=200, deadline=None)
@given(constrained())
def test_arms_away_from_their_bounds_keep_their_proportions(
    case: tuple[list[float], list[float], list[float]],
) -> None:
    weights, floors, caps = case
    result = constrain_weights(weights, floors, caps)
    free = [
        (value, weight)
        for value, weight, lower, upper in zip(result, weights, floors, caps, strict=True)
        if lower + 1e-9 < value < upper - 1e-9
    ]
    for (value, weight), (other_value, other_weight) in pairwise(free):
        assert value * other_weight == pytest.approx(other_value * weight, abs=1e-9)


def test_thompson_weights_are_probability_best_without_floors() -> None:
    arms = [arm("v1", 1_000, 50), arm("v2", 1_000, 65), arm("v3", 1_000, 45)]
    assert traffic_weights(arms, BanditDesign(information_share=0.0)) == pytest.approx(probability_best(arms))


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"floor": 0.05}, [0.05, 0.95]),
        ({"floors": {"baseline": 0.2}}, [0.2, 0.8]),
        ({"caps": {"candidate": 0.7}}, [0.3, 0.7]),
    ],
)
def test_design_floor_and_per_variant_overrides_apply(bounds: dict[str, Any], expected: list[float]) -> None:
    arms = [arm("baseline", 10_000, 500), arm("candidate", 10_000, 900)]
    design = BanditDesign.model_validate({"information_share": 0.0, **bounds})
    assert traffic_weights(arms, design) == pytest.approx(expected)


def test_summary_carries_counts_means_intervals_probabilities_and_weights() -> None:
    # Given two variants after 1,000 requests each, 5.0 % and 7.0 % conversions
    arms = [arm("v1", 1_000, 50), arm("v2", 1_000, 70)]
    # When summarised with a 5 % floor
    summary = summarize(arms, BanditDesign(floor=0.05))
    # Then each arm has its posterior, P(best) and weight, and v2 leads
    first, second = summary.arms
    assert summary.leader == "v2"
    assert summary.reward_kind is RewardKind.CONVERSION
    assert first.count == 1_000
    assert first.mean == pytest.approx(51 / 1_002)
    assert first.lower is not None and first.upper is not None
    assert first.lower < 0.05 < first.upper
    assert first.probability_best + second.probability_best == pytest.approx(1.0)
    assert second.probability_best > 0.9
    assert summary.weights == pytest.approx({"v1": 0.05, "v2": 0.95})
    assert summary.probabilities_best["v2"] == second.probability_best
    assert not summary.warm_up
    assert summary.model_dump(mode="json")["arms"][1]["variant"] == "v2"


def test_summary_of_real_rewards_in_warm_up_has_equal_weights_and_no_interval() -> None:
    arms = [
        ArmStatistics(variant="v1", count=1, reward_sum=3.0, reward_sum_of_squares=9.0),
        ArmStatistics(variant="v2", count=5, reward_sum=10.0, reward_sum_of_squares=22.0),
    ]
    summary = summarize(arms, BanditDesign(reward_kind=RewardKind.REAL))
    assert summary.warm_up
    assert summary.weights == pytest.approx({"v1": 0.5, "v2": 0.5})
    assert summary.arms[0].mean is None
    assert summary.arms[1].mean == pytest.approx(2.0)
    assert summary.leader == "v1"  # a tie goes to the first


def test_a_summary_cannot_be_changed() -> None:
    summary = summarize([arm("v1", 10, 1), arm("v2", 10, 2)])
    with pytest.raises(ValueError, match="frozen"):
        summary.leader = "v1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"floor": 0.6, "cap": 0.5}, "above the cap"),
        ({"initial_batch": 500, "maximum_batch": 100}, "larger than the largest"),
        ({"floors": {"v1": 1.5}}, "not from 0 to 1"),
    ],
)
def test_inconsistent_designs_are_rejected(settings_: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BanditDesign.model_validate(settings_)
