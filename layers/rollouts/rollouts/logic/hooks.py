"""Task "<point> Hooks": call the spec's traffic hooks of one turn of the rollout, in order; a failure rolls back.

A hook is a Lambda function the stack allows (`HOOK_FUNCTION_PREFIX`, checked again here: a spec written before a
change of the prefix must not reach past it). Each call is one decision `Hook Called` with the hook's answer; the
first failure, a timeout included, raises `GuardrailBreachedError` with the hook's message, and the state machine
rolls back.
"""

from __future__ import annotations

from typing import Any

from rollouts.aws import hooks, store
from rollouts.errors import GuardrailBreachedError
from rollouts.logic.decisions import record
from rollouts.models.hooks import POINTS, check_allowed, function_name
from rollouts.models.rollout import DecisionKind, Rollout
from rollouts.observability import logger
from rollouts.settings import get_settings


def run_hooks(rollout_id: str, point: str) -> dict[str, Any]:
    if point not in POINTS:
        raise ValueError(f"unknown hook point {point!r}")
    rollout = store.get_rollout(rollout_id)
    listed = rollout.spec.hooks.at(point)
    if not listed:
        return {"called": 0}
    check_allowed({point: listed}, get_settings().hook_function_prefix)
    for index, hook in enumerate(listed):
        status, message = hooks.call(hook.function, _event(rollout, point), hook.timeout)
        name = function_name(hook.function)
        evidence = {"hook": point, "function": hook.function, "status": status, "message": message, "index": index}
        step = f" after step {rollout.step_index + 1}" if point == "after_step" else ""
        if status == "pass":
            record(rollout, DecisionKind.HOOK_CALLED, f"Hook '{name}' ({point}{step}) passed: {message}", evidence)
            continue
        cause = f"hook '{name}' ({point}{step}) failed: {message}"
        logger.warning("A traffic hook failed", extra={"hook": name, "point": point, "reason": message})
        record(rollout, DecisionKind.HOOK_CALLED, f"Hook '{name}' ({point}{step}) failed: {message}", evidence)
        raise GuardrailBreachedError(cause)
    return {"called": len(listed)}


def _event(rollout: Rollout, point: str) -> dict[str, Any]:
    """What a hook gets: enough to test the candidate (its endpoint and variant, or inference component) and to know
    the rollout's turn."""
    candidate = rollout.spec.candidate
    # A component's candidate runs under the component's own variant (InvokeEndpoint's InferenceComponentName).
    variant = rollout.baseline_variant if rollout.component_name else candidate.resolved_variant_name
    return {
        "hook": point,
        "rollout_id": rollout.rollout_id,
        "endpoint_name": rollout.endpoint_name,
        "inference_component_name": rollout.component_name,
        "strategy": rollout.spec.strategy.type,
        "candidate": {"model_name": candidate.model_name, "variant_name": variant},
        "baseline_variant": rollout.baseline_variant,
        "step": rollout.step_index + 1 if rollout.step_index >= 0 else None,
        "weights": rollout.weights,
    }
