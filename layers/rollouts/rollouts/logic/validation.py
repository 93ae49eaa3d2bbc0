"""Checking a spec against the endpoint as it is, before anything changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rollouts.aws import alarms, components, endpoints, monitoring
from rollouts.aws import hooks as hook_functions
from rollouts.errors import InvalidRolloutError
from rollouts.models.base import Candidate, format_duration
from rollouts.models.hooks import POINTS, check_allowed
from rollouts.models.spec import RolloutSpec
from rollouts.settings import get_settings
from rollouts.strategies.base import LONGEST_RUN_SECONDS


@dataclass
class _Preflight:
    """The endpoint's facts for a strategy's checks (`rollouts.strategies.base.Preflight`); the model and the alarms
    are looked up only if a strategy asks."""

    endpoint_name: str
    baseline_variant: str
    variants: list[str]
    instance_types: list[str]
    candidate: Candidate
    alarms: list[str] = field(default_factory=list)
    alarm_rules: int = 0
    copy_count: int | None = None

    def candidate_model(self) -> dict[str, Any]:
        return endpoints.describe_model(self.candidate.model_name) or {}


def check_duration(spec: RolloutSpec) -> None:
    """A plan that fits in one execution: the state machines' top-level timeout would end a longer one mid-way (and
    the watchdog roll it back), so it is refused before anything changes."""
    guardrails = spec.guardrails
    pause = guardrails.pause_timeout if guardrails.when_inconclusive == "pause" else 0.0
    run = spec.strategy.longest_run(guardrails.extra_bakes_when_inconclusive, pause)
    if run > LONGEST_RUN_SECONDS:
        raise InvalidRolloutError(
            field="strategy",
            reason=(
                f"this {spec.strategy.title.lower()} can take {format_duration(run)} in one execution (bakes, extra "
                f"bakes, pauses and endpoint updates of 2h each), more than the {format_duration(LONGEST_RUN_SECONDS)}"
                " a rollout's execution may run: shorten the plan"
            ),
        )


def _check_hooks(spec: RolloutSpec) -> None:
    """The hooks name functions the stack may invoke and that exist, at turns the strategy has."""
    listed = {point: spec.hooks.at(point) for point in POINTS}
    if listed["after_step"] and not spec.strategy.planned_steps():
        raise InvalidRolloutError(
            field="hooks.after_step",
            reason=f"after_step hooks run after a canary's steps; a {spec.strategy.title.lower()} has none: use "
            "before_traffic or after_promotion",
        )
    check_allowed(listed, get_settings().hook_function_prefix)
    for point, hooks_at in listed.items():
        gone = hook_functions.missing([hook.function for hook in hooks_at])
        if gone:
            index = [hook.function for hook in hooks_at].index(gone[0])
            raise InvalidRolloutError(
                field=f"hooks.{point}.{index}.function", reason=f"no Lambda function '{gone[0]}' exists"
            )


def _check_guardrails(spec: RolloutSpec) -> None:
    """The guardrails the spec names exist, and none is firing already."""
    # A guardrail that does not exist watches nothing: refuse it before anything changes, whatever the strategy.
    missing = alarms.missing(spec.guardrails.alarms)
    if missing:
        index = spec.guardrails.alarms.index(missing[0])
        raise InvalidRolloutError(
            field=f"guardrails.alarms.{index}",
            reason=f"no CloudWatch alarm named {', '.join(repr(name) for name in missing)} exists",
        )
    # An alarm already in ALARM sends no state change, hence no event: read it now, as each judgement does later.
    firing = alarms.firing(spec.guardrails.alarms)
    if firing:
        first = firing[0]
        raise InvalidRolloutError(
            field=f"guardrails.alarms.{spec.guardrails.alarms.index(first['alarm'])}",
            reason=(
                f"alarm '{first['alarm']}' is in ALARM already ({first['reason'] or 'no reason given'}): the "
                "rollout would be judged failed at once; start it when the alarm is OK"
            ),
        )
    schedules = [guard.schedule_name for guard in spec.guardrails.monitoring_schedules]
    missing = monitoring.missing_schedules(schedules)
    if missing:
        raise InvalidRolloutError(
            field=f"guardrails.monitoring_schedules.{schedules.index(missing[0])}.schedule_name",
            reason=f"no monitoring schedule named {', '.join(repr(name) for name in missing)} exists",
        )


def check_against_endpoint(spec: RolloutSpec) -> dict[str, Any]:
    """What the spec assumes about SageMaker, checked before anything changes. Returns the baseline facts."""
    check_duration(spec)
    endpoint = endpoints.describe_endpoint(spec.endpoint_name)
    if endpoint is None:
        raise InvalidRolloutError(field="endpoint_name", reason=f"no endpoint named '{spec.endpoint_name}' exists")
    paths = ["candidate", *(f"strategy.more_candidates.{i}" for i in range(len(spec.candidates) - 1))]
    for path, candidate in zip(paths, spec.candidates, strict=True):
        if not endpoints.model_exists(candidate.model_name):
            raise InvalidRolloutError(
                field=f"{path}.model_name", reason=f"no model named '{candidate.model_name}' exists"
            )
    _check_guardrails(spec)
    _check_hooks(spec)
    if spec.inference_component_name:
        return _check_component(spec, endpoint)
    config = endpoints.describe_endpoint_config(endpoint["EndpointConfigName"]) or {}
    variants = [v["VariantName"] for v in config.get("ProductionVariants", [])]
    hosting = [v["VariantName"] for v in config.get("ProductionVariants", []) if not v.get("ModelName")]
    if hosting:
        raise InvalidRolloutError(
            field="inference_component_name",
            reason=f"endpoint '{spec.endpoint_name}' hosts inference components (variant {hosting[0]} names no model): "
            "name the component whose model changes, with strategy type 'rolling'",
        )
    if spec.baseline_variant:
        if spec.baseline_variant not in variants:
            raise InvalidRolloutError(
                field="baseline_variant",
                reason=f"'{spec.baseline_variant}' is not a variant of '{spec.endpoint_name}' ({variants})",
            )
        baseline = spec.baseline_variant
    elif len(variants) == 1:
        baseline = variants[0]
    else:
        raise InvalidRolloutError(
            field="baseline_variant", reason=f"the endpoint has variants {variants}; name the baseline"
        )
    strategy = spec.strategy
    for path, candidate in zip(paths, spec.candidates, strict=True):
        if not strategy.replaces_baseline and candidate.resolved_variant_name in variants:
            raise InvalidRolloutError(
                field=f"{path}.variant_name",
                reason=f"'{candidate.resolved_variant_name}' is already a variant of the endpoint",
            )
    if config.get("ShadowProductionVariants"):
        raise InvalidRolloutError(
            field="endpoint_name", reason=f"a {strategy.type} rollout cannot run on an endpoint with shadow variants"
        )
    strategy.check(
        _Preflight(
            endpoint_name=spec.endpoint_name,
            baseline_variant=baseline,
            variants=variants,
            instance_types=[str(v.get("InstanceType", "")) for v in config.get("ProductionVariants", [])],
            candidate=spec.candidate,
            alarms=spec.guardrails.alarms,
            alarm_rules=len(spec.guardrails.alarm_rules),
        )
    )
    return {"baseline_variant": baseline, "original_config": endpoint["EndpointConfigName"]}


def _check_component(spec: RolloutSpec, endpoint: dict[str, Any]) -> dict[str, Any]:
    """The inference component the spec names: on this endpoint, in service, running a model other than the
    candidate. Returns the baseline facts, with the Specification a rollback puts back."""
    name = spec.inference_component_name or ""
    component = components.describe(name)
    if component is None:
        raise InvalidRolloutError(field="inference_component_name", reason=f"no inference component named '{name}'")
    if component.get("EndpointName") != spec.endpoint_name:
        raise InvalidRolloutError(
            field="inference_component_name",
            reason=f"'{name}' runs on endpoint '{component.get('EndpointName')}', not '{spec.endpoint_name}'",
        )
    status = component.get("InferenceComponentStatus")
    if status != "InService":
        raise InvalidRolloutError(
            field="inference_component_name",
            reason=f"'{name}' is {status}: a rollout starts from a component in service",
        )
    if component.get("Specifications"):
        raise InvalidRolloutError(
            field="inference_component_name",
            reason=f"'{name}' runs one Specification per instance type (Specifications): a rollout replaces the model "
            "of a component with a single Specification",
        )
    model = components.model_of(component)
    if model is None:
        raise InvalidRolloutError(
            field="inference_component_name",
            reason=f"'{name}' runs a container of its own, not a SageMaker model (Specification.ModelName): a rollout "
            "replaces a component's model",
        )
    if model == spec.candidate.model_name:
        raise InvalidRolloutError(
            field="candidate.model_name", reason=f"'{name}' runs model '{model}' already: nothing to roll out"
        )
    variant = str(component.get("VariantName") or "")
    spec.strategy.check(
        _Preflight(
            endpoint_name=spec.endpoint_name,
            baseline_variant=variant,
            variants=[variant],
            instance_types=[],
            candidate=spec.candidate,
            alarms=spec.guardrails.alarms,
            alarm_rules=len(spec.guardrails.alarm_rules),
            copy_count=components.copy_count(component),
        )
    )
    return {
        "baseline_variant": variant,
        "original_config": endpoint["EndpointConfigName"],
        "original_component": components.specification(component, model),
    }
