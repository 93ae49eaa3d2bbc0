"""The bandit's tunables in its spec: defaults that are the benchmark's design, bounds, and the design they set."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from rollouts.bandit import models
from rollouts.bandit.models import ArmStatistics, BanditDesign, RewardKind
from rollouts.bandit.weights import probabilities_and_weights
from rollouts.errors import field_errors
from rollouts.logic.bandit import design_of
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RolloutSpec
from rollouts.strategies.bandit import BanditStrategy
from sandbox.scenarios import spec

TUNABLES = ("floor", "cap", "discount", "change_threshold", "initial_batch", "batch_growth", "maximum_batch")
THIRD = {"model_name": "churn-xgb-v3", "instance_type": "ml.m5.large"}


def bandit(**strategy: Any) -> dict[str, Any]:
    body = spec()
    body["strategy"] = {"type": "bandit", **strategy}
    return body


def strategy_of(**strategy: Any) -> BanditStrategy:
    parsed = RolloutSpec.model_validate(bandit(**strategy)).strategy
    assert isinstance(parsed, BanditStrategy)
    return parsed


def errors_of(**strategy: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        RolloutSpec.model_validate(bandit(**strategy))
    return field_errors(caught.value)


def test_each_tunable_defaults_to_the_benchmarks_constant() -> None:
    fields = BanditStrategy.model_fields
    defaults = {name: fields[name].default for name in TUNABLES}

    assert defaults == {
        "floor": models.DEFAULT_FLOOR,
        "cap": models.DEFAULT_CAP,
        "discount": models.DEFAULT_DISCOUNT,
        "change_threshold": models.DEFAULT_CHANGE_THRESHOLD,
        "initial_batch": models.DEFAULT_INITIAL_BATCH,
        "batch_growth": models.DEFAULT_BATCH_GROWTH,
        "maximum_batch": models.DEFAULT_MAXIMUM_BATCH,
    }
    # The values make bench-bandit measured (docs/benchmarks.md section 5), and BanditDesign's own defaults.
    assert defaults == {
        "floor": 0.0,
        "cap": 1.0,
        "discount": 1.0,
        "change_threshold": 4.0,
        "initial_batch": 100,
        "batch_growth": 2.0,
        "maximum_batch": 500,
    }
    assert defaults == {name: getattr(BanditDesign(), name) for name in TUNABLES}
    for name in TUNABLES:
        description = fields[name].description or ""
        assert "the benchmark's" in description and "bench/bandit.py" in description, name


def test_a_spec_without_tunables_runs_the_benchmarks_design() -> None:
    assert design_of(strategy_of()) == BanditDesign()


def test_a_rollout_stored_before_the_tunables_existed_loads_with_the_defaults() -> None:
    # Given a bandit rollout's item as it was stored before the spec had the tunables
    stored = json.loads(
        Rollout(rollout_id="r-0123456789ab", spec=RolloutSpec.model_validate(bandit())).model_dump_json()
    )
    for name in TUNABLES:
        del stored["spec"]["strategy"][name]

    # When it is read
    rollout = Rollout.model_validate_json(json.dumps(stored))

    # Then its bandit runs as it did: the benchmark's design
    assert design_of(rollout.strategy_as(BanditStrategy)) == BanditDesign()


def test_the_spec_sets_every_tunable_of_the_design() -> None:
    strategy = strategy_of(
        reward="real",
        floor=0.05,
        cap=0.9,
        discount=0.98,
        change_threshold=3,
        initial_batch=50,
        batch_growth=1.5,
        maximum_batch=2_000,
        information_share=0.0,
        stop_probability=0.99,
        stop_after_updates=5,
    )

    design = design_of(strategy)

    assert design == BanditDesign(
        reward_kind=RewardKind.REAL,
        floor=0.05,
        cap=0.9,
        discount=0.98,
        change_threshold=3.0,
        initial_batch=50,
        batch_growth=1.5,
        maximum_batch=2_000,
        information_share=0.0,
        stop_probability=0.99,
        stop_updates=5,
    )


def test_a_null_change_threshold_switches_the_detector_off() -> None:
    assert design_of(strategy_of(change_threshold=None)).change_threshold is None


def test_the_weights_keep_within_the_specs_floor_and_cap() -> None:
    arms = [
        ArmStatistics(variant="v1", count=1_000, reward_sum=100),
        ArmStatistics(variant="v2", count=1_000, reward_sum=200),
    ]

    assert probabilities_and_weights(arms, design_of(strategy_of()))[1] == pytest.approx([0.0, 1.0], abs=1e-6)
    assert probabilities_and_weights(arms, design_of(strategy_of(floor=0.2)))[1] == pytest.approx([0.2, 0.8])
    assert probabilities_and_weights(arms, design_of(strategy_of(cap=0.6)))[1] == pytest.approx([0.4, 0.6])


def test_when_removed_arms_leave_the_cap_unfillable_the_arms_in_play_share_the_traffic() -> None:
    # Given three arms capped at 40 %, and a guardrail that removed one of them
    strategy = strategy_of(cap=0.4, more_candidates=[THIRD])
    arms = [
        ArmStatistics(variant="v1", count=1_000, reward_sum=100),
        ArmStatistics(variant="v2", count=1_000, reward_sum=200),
    ]

    # Then the two left cannot keep the cap: it rises to a half, and the update still sets weights
    assert design_of(strategy, 3).cap == 0.4
    assert design_of(strategy, 2).cap == 0.5
    assert probabilities_and_weights(arms, design_of(strategy, 2))[1] == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize(
    "strategy",
    [
        {"floor": 0.5},  # two arms at half each: the most a floor can be
        {"floor": 1 / 3, "more_candidates": [THIRD]},
        {"cap": 0.5},
        {"cap": 1 / 3, "more_candidates": [THIRD]},
        {"floor": 0.2, "cap": 0.6},
        {"discount": 0.5},
        {"change_threshold": 2},
        {"change_threshold": None},
        {"initial_batch": 500, "batch_growth": 1, "maximum_batch": 500},
        {"initial_batch": 1, "batch_growth": 10, "maximum_batch": 1_000_000},
    ],
)
def test_tunables_at_their_bounds_are_accepted(strategy: dict[str, Any]) -> None:
    strategy_of(**strategy)


@pytest.mark.parametrize(
    ("strategy", "field", "reason"),
    [
        ({"floor": 0.6}, "strategy.bandit", "floor (0.6) x 2 arms is 1.2, more than all the traffic"),
        ({"floor": 0.34, "more_candidates": [THIRD]}, "strategy.bandit", "floor must be at most 1/3 (0.333333)"),
        ({"floor": 1}, "strategy.bandit.floor", "Input should be less than 1"),
        ({"floor": -0.01}, "strategy.bandit.floor", "Input should be greater than or equal to 0"),
        ({"floor": 0.5, "cap": 0.5}, "strategy.bandit", "floor (0.5) must be below cap (0.5)"),
        ({"cap": 0.3, "more_candidates": [THIRD]}, "strategy.bandit", "cap (0.3) x 3 arms is 0.9, less than all"),
        ({"cap": 0.3333, "more_candidates": [THIRD]}, "strategy.bandit", "cap must be at least 1/3 (0.333333)"),
        ({"cap": 0}, "strategy.bandit.cap", "Input should be greater than 0"),
        ({"cap": 1.5}, "strategy.bandit.cap", "Input should be less than or equal to 1"),
        ({"discount": 0.4}, "strategy.bandit.discount", "Input should be greater than or equal to 0.5"),
        ({"discount": 1.01}, "strategy.bandit.discount", "Input should be less than or equal to 1"),
        ({"change_threshold": 1.5}, "strategy.bandit.change_threshold", "Input should be greater than or equal to 2"),
        ({"change_threshold": "4"}, "strategy.bandit.change_threshold", "a valid number"),
        ({"initial_batch": 0}, "strategy.bandit.initial_batch", "Input should be greater than or equal to 1"),
        ({"initial_batch": 50.5}, "strategy.bandit.initial_batch", "valid integer"),
        ({"batch_growth": 0.9}, "strategy.bandit.batch_growth", "Input should be greater than or equal to 1"),
        ({"batch_growth": 11}, "strategy.bandit.batch_growth", "Input should be less than or equal to 10"),
        ({"maximum_batch": 2_000_000}, "strategy.bandit.maximum_batch", "less than or equal to 1000000"),
        ({"initial_batch": 600}, "strategy.bandit", "initial_batch (600) must not exceed maximum_batch (500)"),
        ({"flor": 0.1}, "strategy.bandit.flor", "Extra inputs are not permitted"),
    ],
)
def test_a_tunable_out_of_bounds_is_refused_naming_it(strategy: dict[str, Any], field: str, reason: str) -> None:
    [error] = errors_of(**strategy)

    assert error["field"] == field
    assert reason in error["reason"]
