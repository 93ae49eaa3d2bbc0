"""The strategies as units: one registry, one protocol, a state machine each, and no branch on a type elsewhere."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rollouts.bandit.models import ArmStatistics, Streak
from rollouts.errors import InvalidRolloutError
from rollouts.judge.outcome import AbVerdict, Outcome
from rollouts.logic.validation import check_duration
from rollouts.models.base import Candidate
from rollouts.models.spec import RolloutSpec
from rollouts.strategies import STRATEGIES, Strategy, StrategySpec
from rollouts.strategies.ab_test import AbTestState
from rollouts.strategies.bandit import BanditState
from rollouts.strategies.base import EXECUTION_TIMEOUT_SECONDS, LONGEST_RUN_SECONDS
from rollouts.strategies.blue_green import BlueGreenStrategy
from rollouts.strategies.canary import CanaryStrategy
from rollouts.strategies.shadow import ShadowStrategy
from sandbox.template import load

LAYER = Path(__file__).resolve().parents[2] / "layers" / "rollouts" / "rollouts"
SAMPLES: dict[str, dict[str, Any]] = {
    "canary": {"steps": [{"weight": 10, "bake": "1m"}]},
    "rolling": {"maximum_batch_size": {"type": "instance-count", "value": 1}},
}


def sample(kind: str) -> StrategySpec:
    return STRATEGIES[kind].model_validate(SAMPLES.get(kind, {}))


@dataclass
class Preflight:
    """The endpoint's facts as a strategy's checks read them, without AWS."""

    candidate: Candidate
    endpoint_name: str = "churn-predictor"
    baseline_variant: str = "v1"
    variants: list[str] = field(default_factory=lambda: ["v1"])
    instance_types: list[str] = field(default_factory=lambda: ["ml.m5.large"])
    alarms: list[str] = field(default_factory=list)
    alarm_rules: int = 0
    copy_count: int | None = None
    model: dict[str, Any] = field(default_factory=dict)

    def candidate_model(self) -> dict[str, Any]:
        return self.model


def candidate(**changes: Any) -> Candidate:
    return Candidate.model_validate({"model_name": "churn-xgb-v2", "instance_type": "ml.m5.large", **changes})


def test_the_registry_holds_the_six_strategies_by_their_spec_type() -> None:
    assert sorted(STRATEGIES) == ["ab-test", "bandit", "blue-green", "canary", "rolling", "shadow"]
    assert all(kind.model_fields["type"].default == name for name, kind in STRATEGIES.items())


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_every_strategy_meets_the_protocol(kind: str) -> None:
    assert isinstance(sample(kind), Strategy)


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_every_strategy_has_a_state_machine_named_after_its_type(kind: str) -> None:
    # The API starts `<prefix><type>`: a strategy without such a machine could not be started.
    names = [
        resource["Properties"].get("Name")
        for resource in load()["Resources"].values()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    ]

    assert {"Fn::Sub": f"${{AWS::StackName}}-{kind}"} in names


def test_only_a_canary_has_planned_traffic_steps() -> None:
    assert {kind: sample(kind).step_count() for kind in STRATEGIES} == {
        "ab-test": None,
        "bandit": None,
        "blue-green": None,
        "canary": 1,
        "rolling": None,
        "shadow": None,
    }


def test_a_blue_green_deployment_refuses_inf1_before_any_change() -> None:
    strategy = BlueGreenStrategy()

    with pytest.raises(InvalidRolloutError, match=r"candidate\.instance_type: .*Inf1"):
        strategy.check(Preflight(candidate=candidate(instance_type="ml.inf1.xlarge")))


def test_a_shadow_needs_a_single_production_variant_and_checks_its_promotion_only_if_it_promotes() -> None:
    inf1 = Preflight(candidate=candidate(instance_type="ml.inf1.xlarge"))

    with pytest.raises(InvalidRolloutError, match="single production variant"):
        ShadowStrategy().check(Preflight(candidate=candidate(), variants=["v1", "v2"]))
    with pytest.raises(InvalidRolloutError, match="Inf1"):
        ShadowStrategy().check(inf1)
    ShadowStrategy(on_success="remove-shadow").check(inf1)


def test_a_shadow_config_keeps_production_and_adds_the_challenger_as_its_shadow() -> None:
    production = [{"VariantName": "v1", "ModelName": "churn-xgb-v1", "InitialVariantWeight": 1.0}]

    variants, shadows = ShadowStrategy(sampling_percentage=25).new_variants(production, "v1", [candidate()])

    assert variants == production
    assert [(s["VariantName"], s["InitialVariantWeight"]) for s in shadows] == [("churn-xgb-v2", 0.25)]


def test_a_weighted_config_brings_every_candidate_in_at_zero() -> None:
    production = [{"VariantName": "v1", "ModelName": "churn-xgb-v1", "InitialVariantWeight": 0.5}]

    variants, shadows = CanaryStrategy.model_validate(SAMPLES["canary"]).new_variants(production, "v1", [candidate()])

    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in variants] == [("v1", 1.0), ("churn-xgb-v2", 0.0)]
    assert shadows == []


def _outside_strategies() -> list[Path]:
    return [path for path in LAYER.rglob("*.py") if "strategies" not in path.relative_to(LAYER).parts]


def test_nothing_outside_the_strategies_branches_on_a_strategy_type() -> None:
    spec_classes = {kind.__name__ for kind in STRATEGIES.values()}
    found = []
    for path in _outside_strategies():
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(LAYER)}:{getattr(node, 'lineno', 0)}"
            # A type's name compared with something (==, in) is a branch on the type.
            for side in [node.left, *node.comparators] if isinstance(node, ast.Compare) else []:
                for constant in ast.walk(side):
                    if isinstance(constant, ast.Constant) and constant.value in STRATEGIES:
                        found.append(f"{where} branches on {constant.value!r}")
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "type" and "strategy" in ast.unparse(side.value)
                for side in [node.left, *node.comparators]
            ):
                found.append(f"{where} compares a strategy's type")
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "isinstance"
                and {getattr(name, "id", None) for name in ast.walk(node.args[1])} & spec_classes
            ):
                found.append(f"{where} tests for a strategy's spec class")

    assert found == []


# Imports inside a function, each for a cold-start reason written beside it; none dodges an import cycle.
COLD_START_IMPORTS = {
    ("aws/store.py", "rollouts.models.rollout"),
    # The policy model builds the whole spec model: only the API and the approval handler read policies.
    ("aws/store.py", "rollouts.models.policy"),
    ("logic/signals.py", "rollouts.monitoring.violations"),
    ("logic/feedback.py", "rollouts.logic.bandit"),
    ("http.py", "rollouts.models.api"),  # on the first error only: feedback_api and ab_invoke need no rollout models
    # The monitor layer (numpy) loads only in RunMonitorFunction, and only for a rollout with monitors.
    ("logic/monitor_runs.py", "rollouts_monitor"),
    ("logic/monitor_runs.py", "rollouts_monitor.records"),
    # A run puts its result down the signal path, which imports the monitor's module in turn.
    ("logic/monitor_runs.py", "rollouts.logic.signals"),
}


def test_imports_inside_functions_are_only_the_documented_cold_start_ones() -> None:
    found = set()
    for path in LAYER.rglob("*.py"):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module:
                    found.add((str(path.relative_to(LAYER)), node.module))

    assert found == COLD_START_IMPORTS


def test_a_bandit_and_an_ab_test_keep_typed_state_and_still_read_what_older_rollouts_stored() -> None:
    stored = BanditState.model_validate(
        {"updates": 2, "arms": [{"variant": "v1", "count": 10, "reward_sum": 3}], "streak": {"leader": "v1"}}
    )
    assert stored.arms == [ArmStatistics(variant="v1", count=10, reward_sum=3)]
    assert stored.streak == Streak(leader="v1", updates=0)
    assert BanditState.model_validate({"arms": [], "streak": {}}).streak == Streak()
    assert AbTestState.model_validate({"looks": 0, "verdict": {}}).verdict is None

    look = {
        "winner": "baseline",
        "baseline": {"count": 500, "mean": 0.12},
        "candidate": {"count": 500, "mean": 0.08},
        "difference": -0.04,
        "relative_change": -1 / 3,
        "interval": [-0.07, -0.01],
        "likelihood_ratio": 40.0,
        "p_value": 0.025,
        "running_p_value": 0.025,
        "alpha": 0.05,
        "reason": "the baseline is better",
    }
    state = AbTestState.model_validate({"looks": 3, "verdict": look})
    assert isinstance(state.verdict, AbVerdict)
    assert state.verdict.outcome is Outcome.FAILED
    assert AbTestState.model_validate_json(state.model_dump_json()) == state


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_every_default_plan_fits_in_one_execution(kind: str) -> None:
    # Each state machine ends an execution at its TimeoutSeconds: a plan must fit, with the lifecycle around it.
    run = sample(kind).longest_run(extra_bakes=0, pause_seconds=0)

    assert 0 < run <= LONGEST_RUN_SECONDS < EXECUTION_TIMEOUT_SECONDS


def test_a_canary_too_long_for_one_execution_is_refused_naming_the_strategy() -> None:
    # 20 steps of a day, each baked again up to twice, each with its update: 61d 16h, past an execution's end.
    spec = RolloutSpec.model_validate(
        {
            "endpoint_name": "churn-predictor",
            "candidate": {"model_name": "churn-xgb-v2", "instance_type": "ml.m5.large"},
            "strategy": {"type": "canary", "steps": [{"weight": 5 * (i + 1), "bake": "1d"} for i in range(20)]},
            "guardrails": {"extra_bakes_when_inconclusive": 2},
        }
    )

    with pytest.raises(InvalidRolloutError) as refused:
        check_duration(spec)

    assert refused.value.field == "strategy"
    assert "61d 16h in one execution" in refused.value.reason and "21d" in refused.value.reason


def test_looping_strategies_fit_however_long_they_run() -> None:
    # An A/B test of a year continues as a new execution every week, so each execution fits.
    ab = STRATEGIES["ab-test"].model_validate({"max_duration": "365d", "check_every": "7d"})

    assert ab.longest_run(extra_bakes=5, pause_seconds=7 * 86400) == 14 * 86400 + 7200
    with pytest.raises(ValueError, match="check_every"):
        STRATEGIES["ab-test"].model_validate({"check_every": "8d"})


def component_rolling(**changes: Any) -> StrategySpec:
    return STRATEGIES["rolling"].model_validate(
        {"maximum_batch_size": {"type": "copy-count", "value": 1}, "wait_interval": "5m", **changes}
    )


def test_a_components_rolling_update_moves_copies_within_sagemakers_bounds() -> None:
    component = Candidate.model_validate({"model_name": "churn-xgb-v2"})
    strategy = component_rolling()

    strategy.check(Preflight(candidate=component, copy_count=4))
    assert strategy.deployment_config(["abort"])["RollingUpdatePolicy"]["MaximumBatchSize"] == {  # type: ignore[attr-defined]
        "Type": "COPY_COUNT",
        "Value": 1,
    }
    with pytest.raises(InvalidRolloutError, match="at least 2") as single:
        strategy.check(Preflight(candidate=component, copy_count=1))
    assert single.value.field == "inference_component_name"
    with pytest.raises(InvalidRolloutError, match="1 to 2 copy") as too_many:
        component_rolling(maximum_batch_size={"type": "copy-count", "value": 3}).check(
            Preflight(candidate=component, copy_count=4)
        )
    assert too_many.value.field == "strategy.maximum_batch_size"


def test_a_batch_counted_in_the_other_unit_is_refused_naming_its_type() -> None:
    with pytest.raises(InvalidRolloutError, match="moves copies") as instances:
        component_rolling(maximum_batch_size={"type": "instance-count", "value": 1}).check(
            Preflight(candidate=Candidate.model_validate({"model_name": "churn-xgb-v2"}), copy_count=4)
        )
    assert instances.value.field == "strategy.maximum_batch_size.type"
    with pytest.raises(InvalidRolloutError, match="moves instances") as copies:
        component_rolling().check(Preflight(candidate=candidate(initial_instance_count=4)))
    assert copies.value.field == "strategy.maximum_batch_size.type"
