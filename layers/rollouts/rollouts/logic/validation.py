"""Checking a spec against the endpoint as it is, before anything changes."""

from __future__ import annotations

from typing import Any

from rollouts.aws import endpoints
from rollouts.errors import InvalidRolloutError
from rollouts.models.spec import BlueGreenStrategy, RolloutSpec, ShadowStrategy


def check_against_endpoint(spec: RolloutSpec) -> dict[str, Any]:
    """What the spec assumes about SageMaker, checked before anything changes. Returns the baseline facts."""
    endpoint = endpoints.describe_endpoint(spec.endpoint_name)
    if endpoint is None:
        raise InvalidRolloutError(field="endpoint_name", reason=f"no endpoint named '{spec.endpoint_name}' exists")
    paths = ["candidate", *(f"strategy.more_candidates.{i}" for i in range(len(spec.candidates) - 1))]
    for path, candidate in zip(paths, spec.candidates, strict=True):
        if not endpoints.model_exists(candidate.model_name):
            raise InvalidRolloutError(
                field=f"{path}.model_name", reason=f"no model named '{candidate.model_name}' exists"
            )
    config = endpoints.describe_endpoint_config(endpoint["EndpointConfigName"]) or {}
    variants = [v["VariantName"] for v in config.get("ProductionVariants", [])]
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
    blue_green = isinstance(spec.strategy, BlueGreenStrategy)
    for path, candidate in zip(paths, spec.candidates, strict=True):
        if not blue_green and candidate.resolved_variant_name in variants:
            raise InvalidRolloutError(
                field=f"{path}.variant_name",
                reason=f"'{candidate.resolved_variant_name}' is already a variant of the endpoint",
            )
    if config.get("ShadowProductionVariants"):
        raise InvalidRolloutError(
            field="endpoint_name",
            reason=f"a {spec.strategy.type} rollout cannot run on an endpoint with shadow variants",
        )
    if isinstance(spec.strategy, ShadowStrategy):
        _check_shadow(spec, variants, [str(v.get("InstanceType", "")) for v in config.get("ProductionVariants", [])])
    if blue_green:
        _check_blue_green(
            spec, baseline, [str(v.get("InstanceType", "")) for v in config.get("ProductionVariants", [])]
        )
    return {"baseline_variant": baseline, "original_config": endpoint["EndpointConfigName"]}


def _check_blue_green(spec: RolloutSpec, baseline: str, instance_types: list[str]) -> None:
    """A blue/green deployment replaces the baseline's model under the baseline's own variant name."""
    if spec.candidate.variant_name not in (None, baseline):
        raise InvalidRolloutError(
            field="candidate.variant_name",
            reason=f"a blue/green deployment keeps the variant's name, as SageMaker requires; leave it out or set it "
            f"to '{baseline}', not '{spec.candidate.variant_name}'",
        )
    # The checks of SageMaker's own exclusions and limits load only for a blue/green spec.
    from rollouts.logic.bluegreen import check_blue_green

    model = endpoints.describe_model(spec.candidate.model_name) or {}
    check_blue_green(
        spec.guardrails.alarms, len(spec.guardrails.alarm_rules), spec.candidate.instance_type, instance_types, model
    )


def _check_shadow(spec: RolloutSpec, variants: list[str], instance_types: list[str]) -> None:
    """SageMaker puts a shadow variant beside a single production variant; a challenger that passes is promoted
    through a blue/green deployment, whose exclusions are checked now rather than after the shadowing."""
    if len(variants) != 1:
        raise InvalidRolloutError(
            field="endpoint_name",
            reason=f"SageMaker allows a shadow variant only beside a single production variant; "
            f"'{spec.endpoint_name}' has {len(variants)} ({variants})",
        )
    if isinstance(spec.strategy, ShadowStrategy) and spec.strategy.on_success == "promote":
        from rollouts.logic.bluegreen import check_blue_green

        model = endpoints.describe_model(spec.candidate.model_name) or {}
        check_blue_green(
            spec.guardrails.alarms,
            len(spec.guardrails.alarm_rules),
            spec.candidate.instance_type,
            instance_types,
            model,
        )
