"""The canary planner: which weight and bake each step gets, and how a weight splits traffic between variants."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.models.spec import RolloutSpec
from rollouts.strategies.canary import CanaryStep, CanaryStrategy, PlannedStep, plan, split, step_at
from sandbox.scenarios import spec


def canary(*steps: tuple[float, object]) -> CanaryStrategy:
    return CanaryStrategy.model_validate({"steps": [{"weight": w, "bake": b} for w, b in steps]})


# --- plan -------------------------------------------------------------------------------------------------------


def test_plan_of_the_demo_spec_is_two_five_minute_steps_then_promotion() -> None:
    strategy = RolloutSpec.model_validate(spec()).strategy
    assert isinstance(strategy, CanaryStrategy)

    assert plan(strategy) == [
        PlannedStep(index=0, weight=10, bake_seconds=300, is_last=False),
        PlannedStep(index=1, weight=50, bake_seconds=300, is_last=True),
    ]


def test_plan_keeps_the_order_and_weights_of_the_spec() -> None:
    steps = plan(canary((1, "1m"), (5, "2m"), (25, "10m"), (100, "1h")))

    assert [s.index for s in steps] == [0, 1, 2, 3]
    assert [s.weight for s in steps] == [1, 5, 25, 100]
    assert [s.bake_seconds for s in steps] == [60, 120, 600, 3600]
    assert [s.is_last for s in steps] == [False, False, False, True]


def test_plan_of_a_single_step_makes_it_the_last() -> None:
    assert plan(canary((20, "90s"))) == [PlannedStep(index=0, weight=20, bake_seconds=90, is_last=True)]


@pytest.mark.parametrize(("bake", "seconds"), [(90.4, 90), (90.6, 91), ("1500ms", 2), (1.2, 1), ("1.5m", 90)])
def test_plan_bakes_whole_seconds(bake: object, seconds: int) -> None:
    (step,) = plan(canary((10, bake)))

    assert step.bake_seconds == seconds
    assert isinstance(step.bake_seconds, int)  # Step Functions' TimeoutSecondsPath takes an integer


# --- step_at ----------------------------------------------------------------------------------------------------


def test_step_at_returns_the_planned_step_of_that_index() -> None:
    strategy = canary((10, "5m"), (50, "10m"))

    assert step_at(strategy, 0) == PlannedStep(index=0, weight=10, bake_seconds=300, is_last=False)
    assert step_at(strategy, 1) == PlannedStep(index=1, weight=50, bake_seconds=600, is_last=True)


@pytest.mark.parametrize("index", [2, 3, -1])
def test_step_at_refuses_an_index_outside_the_plan(index: int) -> None:
    strategy = canary((10, "5m"), (50, "10m"))

    with pytest.raises(IndexError, match=rf"step {index} is outside the plan of 2 steps"):
        step_at(strategy, index)


# --- split ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "weights"),
    [
        (10, {"v1": 90, "churn-xgb-v2": 10}),
        (50, {"v1": 50, "churn-xgb-v2": 50}),
        (0, {"v1": 100, "churn-xgb-v2": 0}),
        (100, {"v1": 0, "churn-xgb-v2": 100}),
        (12.5, {"v1": 87.5, "churn-xgb-v2": 12.5}),
    ],
)
def test_split_gives_the_candidate_its_percent_and_the_baseline_the_rest(
    percent: float, weights: dict[str, float]
) -> None:
    assert split(percent, "v1", "churn-xgb-v2") == weights


@pytest.mark.parametrize(("percent", "candidate"), [(150, 100), (100.0001, 100), (-5, 0), (-0.1, 0)])
def test_split_clamps_the_candidate_to_0_to_100_percent(percent: float, candidate: float) -> None:
    weights = split(percent, "v1", "canary")

    assert weights == {"v1": 100 - candidate, "canary": candidate}


@given(st.floats(min_value=-1000, max_value=1000, allow_nan=False))
def test_split_always_sums_to_100_with_no_negative_weight(percent: float) -> None:
    weights = split(percent, "v1", "canary")

    assert sum(weights.values()) == pytest.approx(100.0)
    assert all(0 <= value <= 100 for value in weights.values())


# --- a property of every valid canary ---------------------------------------------------------------------------

increasing_weights = st.lists(
    st.floats(min_value=0.01, max_value=100, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=20,
    unique=True,
).map(sorted)


@given(weights=increasing_weights, bake=st.floats(min_value=1, max_value=7 * 24 * 3600))
def test_plan_of_any_increasing_weights_increases_and_ends_with_the_only_last_step(
    weights: list[float], bake: float
) -> None:
    strategy = CanaryStrategy(steps=[CanaryStep(weight=w, bake=bake) for w in weights])

    steps = plan(strategy)

    assert [s.weight for s in steps] == weights
    assert all(before.weight < after.weight for before, after in pairwise(steps))
    assert [s.is_last for s in steps] == [False] * (len(weights) - 1) + [True]
    assert [s.index for s in steps] == list(range(len(weights)))
    assert all(s.bake_seconds >= 1 for s in steps)
