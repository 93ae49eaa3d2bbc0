"""The canary state machine's tasks: one function per task, each safe to run again after a retry."""

from __future__ import annotations

import json
from typing import Any

from rollouts import clock
from rollouts.aws import alarms, endpoints, store, workflows
from rollouts.aws.store import ALARM_GUARD, SCHEDULE_GUARD
from rollouts.errors import (
    EndpointUpdatingError,
    GuardrailBreachedError,
    InvalidRolloutError,
)
from rollouts.logic.decisions import record
from rollouts.logic.endpoint_wait import BUSY, endpoint_of
from rollouts.logic.pending import raise_pending
from rollouts.logic.validation import check_against_endpoint
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.models.spec import (
    AbTestStrategy,
    BanditStrategy,
    CanaryStrategy,
    Candidate,
    ShadowStrategy,
    format_duration,
)
from rollouts.settings import get_settings
from rollouts.strategies import canary


def _config_name(rollout: Rollout, suffix: str) -> str:
    return f"{rollout.endpoint_name[:44]}-{rollout.rollout_id}-{suffix}"[:63]


def lock_rollout(rollout_id: str, execution_arn: str | None = None) -> dict[str, Any]:
    """Validate And Lock: check the spec against the endpoint as it is now and hold the endpoint's lock."""
    rollout = store.get_rollout(rollout_id)
    store.acquire_lock(rollout.endpoint_name, rollout_id)
    if rollout.original_config is None:
        facts = check_against_endpoint(rollout.spec)
    else:  # a retried task: the facts were taken before the endpoint changed
        facts = {"baseline_variant": rollout.baseline_variant, "original_config": rollout.original_config}
    schedules = [guard.schedule_name for guard in rollout.spec.guardrails.monitoring_schedules]
    store.put_guards(rollout_id, ALARM_GUARD, rollout.spec.guardrails.alarms)
    store.put_guards(rollout_id, SCHEDULE_GUARD, schedules)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                **facts,
                "status": RolloutStatus.PROGRESSING,
                "execution_arn": execution_arn or r.execution_arn,
                "weights": {facts["baseline_variant"]: 100.0},
            }
        ),
    )
    strategy = rollout.spec.strategy
    if isinstance(strategy, CanaryStrategy):
        plan = f"{len(strategy.steps)} steps"
    elif isinstance(strategy, BanditStrategy):
        plan = f"a bandit reweighting every {strategy.update_every:g} s on {strategy.reward}s"
    elif isinstance(strategy, ShadowStrategy):
        plan = (
            f"a shadow of {strategy.sampling_percentage} % of production's requests for "
            f"{format_duration(strategy.duration)}, then "
            + (
                "promotion through SageMaker's blue/green deployment if it passes"
                if strategy.on_success == "promote"
                else "a verdict without promotion"
            )
        )
    elif isinstance(strategy, AbTestStrategy):
        plan = (
            f"an A/B test on {strategy.reward}s with {strategy.candidate_weight:g} % for the candidate, "
            f"{format_duration(strategy.min_duration)} to {format_duration(strategy.max_duration)}"
        )
    else:
        plan = f"a SageMaker blue/green deployment, traffic routing {strategy.traffic_routing}"
    record(
        rollout,
        DecisionKind.ROLLOUT_STARTED,
        ("A/B test" if strategy.type == "ab-test" else strategy.type.capitalize())
        + " of model "
        + " and ".join(f"'{candidate.model_name}'" for candidate in rollout.spec.candidates)
        + f" on endpoint '{rollout.endpoint_name}' started: {plan}, baseline variant '{rollout.baseline_variant}'",
        {
            "baseline_variant": rollout.baseline_variant,
            "candidate_variant": rollout.candidate_variant,
            "candidate_variants": rollout.candidate_variants,
            "original_config": rollout.original_config,
            "steps": [step.model_dump() for step in rollout.spec.canary_steps],
            "guardrails": rollout.spec.guardrails.model_dump(mode="json"),
        },
        dedup_key="started",
    )
    return {"endpoint_name": rollout.endpoint_name, "next_step": 0}


def data_capture(rollout: Rollout, original: dict[str, Any]) -> dict[str, Any] | None:
    """The new config's data capture: the endpoint's own if it captures, else the spec's or the stack's bucket."""
    existing = original.get("DataCaptureConfig")
    if existing and existing.get("EnableCapture"):
        return dict(existing)
    destination = rollout.spec.data_capture.destination_s3_uri or get_settings().data_capture_s3_uri
    if not destination:
        return None
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": rollout.spec.data_capture.sampling_percentage,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }


def original_config_of(rollout: Rollout) -> dict[str, Any]:
    """The endpoint config the rollout started from, which every new config is built on."""
    original = endpoints.describe_endpoint_config(rollout.original_config or "")
    if original is None:
        reason = f"the endpoint's config '{rollout.original_config}' no longer exists"
        raise InvalidRolloutError(field=None, reason=reason)
    return original


def move_to_config(rollout: Rollout, config_name: str, deployment_config: dict[str, Any] | None = None) -> None:
    """UpdateEndpoint to `config_name`, unless a retried task already did it (the endpoint is on it or busy)."""
    endpoint = endpoint_of(rollout)
    if endpoint["EndpointConfigName"] != config_name and endpoint["EndpointStatus"] not in BUSY:
        endpoints.update_endpoint(rollout.endpoint_name, config_name, deployment_config)


def _candidate_variant(candidate: Candidate, weight: float) -> dict[str, Any]:
    return {
        "VariantName": candidate.resolved_variant_name,
        "ModelName": candidate.model_name,
        "InstanceType": candidate.instance_type,
        "InitialInstanceCount": candidate.initial_instance_count,
        "InitialVariantWeight": weight,
    }


def prepare_variants(rollout_id: str) -> dict[str, Any]:
    """Prepare Variants: a config with the baseline and the candidates at weight 0, data capture on, then update."""
    rollout = store.get_rollout(rollout_id)
    if rollout.spec.strategy.type == "shadow":
        # A shadow rollout's challenger is a shadow variant, not a weighted one; its module loads only for it.
        from rollouts.logic.shadow import prepare_shadow

        return prepare_shadow(rollout_id)
    raise_pending(rollout.pending)
    original = original_config_of(rollout)
    baseline = next(v for v in original["ProductionVariants"] if v["VariantName"] == rollout.baseline_variant)
    baseline = {key: value for key, value in baseline.items() if key not in ("CurrentWeight", "DesiredWeight")}
    baseline["InitialVariantWeight"] = 1.0
    config_name = _config_name(rollout, "canary")
    capture = data_capture(rollout, original)
    endpoints.create_endpoint_config(
        config_name,
        [baseline, *(_candidate_variant(candidate, 0.0) for candidate in rollout.spec.candidates)],
        capture,
        {"rollouts:rollout-id": rollout_id},
    )
    watched: dict[str, str] = {}
    for rule in rollout.spec.guardrails.alarm_rules:
        for variant in rollout.candidate_variants:
            name = alarms.alarm_name(rollout_id, rule, None if variant == rollout.candidate_variant else variant)
            alarms.put_variant_alarm(name, rule, rollout.endpoint_name, variant, rollout_id)
            watched[name] = variant
    created = list(watched)
    store.put_guards(rollout_id, ALARM_GUARD, created)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={"canary_config": config_name, "alarm_names": created, "alarm_variants": watched}
        ),
    )
    move_to_config(rollout, config_name)
    record(
        rollout,
        DecisionKind.VARIANTS_PREPARED,
        f"Endpoint '{rollout.endpoint_name}' is updating to config '{config_name}': baseline "
        f"'{rollout.baseline_variant}' at 100 %, "
        + ", ".join(f"candidate '{variant}'" for variant in rollout.candidate_variants)
        + " at 0 %",
        {
            "config": config_name,
            "data_capture": (capture or {}).get("DestinationS3Uri"),
            "alarms_created": created,
        },
        dedup_key="prepared",
    )
    return {"config_name": config_name}


def shift_traffic(rollout_id: str, step_index: int) -> dict[str, Any]:
    """Shift Traffic: give the candidate the step's weight."""
    rollout = store.get_rollout(rollout_id)
    raise_pending(rollout.pending)
    if not isinstance(rollout.spec.strategy, CanaryStrategy):
        raise InvalidRolloutError(field="strategy", reason=f"rollout {rollout_id} has no canary steps to shift to")
    step = canary.step_at(rollout.spec.strategy, step_index)
    weights = canary.split(step.weight, rollout.baseline_variant or "", rollout.candidate_variant)
    endpoints.set_weights(rollout.endpoint_name, weights)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                "step_index": step_index,
                "weights": weights,
                "canary_started_at": r.canary_started_at or clock.now(),
                "extra_bakes": 0 if r.step_index != step_index else r.extra_bakes,
            }
        ),
    )
    record(
        rollout,
        DecisionKind.TRAFFIC_SHIFTED,
        f"Step {step_index + 1}/{len(rollout.spec.canary_steps)}: candidate '{rollout.candidate_variant}' at "
        f"{step.weight:g} % for {step.bake_seconds} s",
        # The verdicts that allowed this step travel with the event that announces it.
        {"step": step_index, "weights": weights, "bake_seconds": step.bake_seconds, "judgement": rollout.judgement},
        dedup_key=f"shift-{step_index}",
    )
    return {"index": step.index, "weight": step.weight, "bake_seconds": step.bake_seconds, "is_last": step.is_last}


def start_bake(rollout_id: str, task_token: str) -> dict[str, Any]:
    """Bake: once the weights are live, leave the task token where a signal can find it, and return."""
    rollout = store.get_rollout(rollout_id)
    if endpoint_of(rollout)["EndpointStatus"] in BUSY:
        raise EndpointUpdatingError(f"endpoint '{rollout.endpoint_name}' is still applying the weights")

    command: list[str | None] = [None]

    def change(r: Rollout) -> Rollout:
        # A signal that came before the token was stored is acted on now, not at the end of the bake or pause.
        raise_pending(r.pending)
        commands = {p.command for p in r.pending} & {"promote", "resume"}
        command[0] = "promote" if "promote" in commands else next(iter(commands), None)
        if command[0]:
            return r.model_copy(update={"pending": [p for p in r.pending if p.command not in commands]})
        return r.model_copy(update={"task_token": task_token})

    store.update_rollout(rollout_id, change)
    if command[0]:
        workflows.succeed_task(task_token, {"command": command[0]})
    return {"baking": command[0] is None}


def promote_candidate(rollout_id: str) -> dict[str, Any]:
    """Promote: the candidate (a bandit's winner) takes all the traffic."""
    rollout = store.get_rollout(rollout_id)
    raise_pending(rollout.pending)
    if rollout.promoted_variant in rollout.bandit.get("removed", []):
        raise GuardrailBreachedError(f"the winner '{rollout.promoted_variant}' was removed by a guardrail")
    weights = dict.fromkeys([rollout.baseline_variant or "", *rollout.candidate_variants], 0.0)
    weights[rollout.promoted_variant] = 100.0
    endpoints.set_weights(rollout.endpoint_name, weights)
    rollout = store.update_rollout(
        rollout_id, lambda r: r.model_copy(update={"status": RolloutStatus.PROMOTING, "weights": weights})
    )
    record(
        rollout,
        DecisionKind.TRAFFIC_SHIFTED,
        f"Candidate '{rollout.promoted_variant}' at 100 %; next, a config with the candidate alone",
        {"weights": weights},
        dedup_key="promote-100",
    )
    return {"weights": weights}


def apply_endpoint_config(rollout_id: str, target: str) -> dict[str, Any]:
    """Finalize Config / Restore Config: move the endpoint to the candidate-only config, or back to the original."""
    rollout = store.get_rollout(rollout_id)
    endpoint = endpoint_of(rollout)
    if endpoint["EndpointStatus"] in BUSY:
        raise EndpointUpdatingError(f"endpoint '{rollout.endpoint_name}' is {endpoint['EndpointStatus']}")
    if target == "final":
        raise_pending(rollout.pending)
        config_name = _config_name(rollout, "final")
        original = endpoints.describe_endpoint_config(rollout.canary_config or "") or {}
        endpoints.create_endpoint_config(
            config_name,
            [_candidate_variant(rollout.promoted_candidate, 1.0)],
            original.get("DataCaptureConfig"),
            {"rollouts:rollout-id": rollout_id},
        )
        store.update_rollout(rollout_id, lambda r: r.model_copy(update={"final_config": config_name}))
    else:
        config_name = rollout.original_config or ""
    if endpoint["EndpointConfigName"] != config_name:
        endpoints.update_endpoint(rollout.endpoint_name, config_name)
    return {"config_name": config_name}


def _reason(state: dict[str, Any]) -> tuple[str, str]:
    error = state.get("error") or {}
    name = str(error.get("Error", "EndpointUpdateFailedError"))
    cause = str(error.get("Cause", ""))
    try:
        parsed = json.loads(cause)
        cause = str(parsed.get("errorMessage", cause)) if isinstance(parsed, dict) else cause
    except ValueError:
        pass
    return name, cause


def roll_back(rollout_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """Roll Back: the baseline takes all the traffic at once; the original config follows if it was replaced."""
    error, cause = _reason(state)
    rollout = store.get_rollout(rollout_id)
    endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
    live = endpoints.live_weights(endpoint) if endpoint else {}
    weights_restored = False
    baseline = rollout.baseline_variant
    # A blue/green candidate runs under the baseline's own variant name: its traffic is the config's, not a weight.
    serving = [variant for variant in rollout.candidate_variants if variant in live and variant != baseline]
    if endpoint.get("EndpointStatus") == "InService" and baseline in live and serving:
        weights = {baseline: 100.0, **dict.fromkeys(serving, 0.0)}
        endpoints.set_weights(rollout.endpoint_name, weights)
        weights_restored = True
    elif baseline in live:
        weights = live
    else:
        weights = {}
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                "status": RolloutStatus.ROLLING_BACK,
                "task_token": None,
                "reason": r.reason or f"{error}: {cause}",
                "weights": weights or r.weights,
            }
        ),
    )
    restore = (
        bool(endpoint)
        and bool(rollout.original_config)
        and (endpoint.get("EndpointConfigName") != rollout.original_config or endpoint.get("EndpointStatus") in BUSY)
    )
    record(
        rollout,
        DecisionKind.ROLLBACK_STARTED,
        f"Rolling back ({error}): {cause}"
        + (f"; baseline '{baseline}' at 100 % now" if weights_restored else "")
        + ("; restoring the original config" if restore else ""),
        {"error": error, "cause": cause, "weights": weights, "restore_config": restore},
        dedup_key="rollback",
    )
    return {"restore": restore, "config_name": rollout.original_config}


def finalize_rollout(rollout_id: str, outcome: str) -> dict[str, Any]:
    """Finalize: remove the rollout's alarms and guards, release the lock, record and publish the outcome."""
    rollout = store.get_rollout(rollout_id)
    if outcome == "promoted":
        # A breach that arrived while the candidate-only config was applied still rolls the candidate back.
        raise_pending(rollout.pending)
    endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
    weights = endpoints.live_weights(endpoint) if endpoint else rollout.weights
    if rollout.alarm_names:
        alarms.delete_alarms(rollout.alarm_names)
    store.delete_guards(rollout_id, ALARM_GUARD, rollout.guard_alarm_names)
    store.delete_guards(
        rollout_id, SCHEDULE_GUARD, [g.schedule_name for g in rollout.spec.guardrails.monitoring_schedules]
    )
    store.release_lock(rollout.endpoint_name, rollout_id)
    promoted = outcome == "promoted"
    status = RolloutStatus.PROMOTED if promoted else RolloutStatus.ROLLED_BACK
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(update={"status": status, "weights": weights, "task_token": None, "pending": []}),
    )
    evidence = {
        "weights": weights,
        "endpoint_config": endpoint.get("EndpointConfigName"),
        "reason": rollout.reason,
        "judgement": rollout.judgement,
    }
    if promoted:
        message = (
            f"Promoted: endpoint '{rollout.endpoint_name}' serves candidate '{rollout.promoted_variant}' alone "
            f"(config '{endpoint.get('EndpointConfigName')}')"
        )
        record(rollout, DecisionKind.ROLLOUT_PROMOTED, message, evidence, dedup_key="final")
    else:
        message = (
            f"Rolled back: endpoint '{rollout.endpoint_name}' serves baseline '{rollout.baseline_variant}' "
            f"(config '{endpoint.get('EndpointConfigName')}'); reason: {rollout.reason}"
        )
        record(rollout, DecisionKind.ROLLOUT_ROLLED_BACK, message, evidence, dedup_key="final")
    return {"status": status.value, "weights": weights}
