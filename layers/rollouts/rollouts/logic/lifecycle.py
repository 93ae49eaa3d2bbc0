"""The tasks every strategy's state machine shares: lock, prepare, bake, promote, roll back, finalize.

Each asks the rollout's strategy (`rollouts.strategies`) where strategies differ, and is safe to run again after a
retry.
"""

from __future__ import annotations

import json
from typing import Any

from rollouts import clock
from rollouts.aws import alarms, endpoints, store, workflows
from rollouts.aws.store import ALARM_GUARD, MONITOR_GUARD, MONITORED, SCHEDULE_GUARD
from rollouts.errors import (
    AwsError,
    EndpointUpdatingError,
    GuardrailBreachedError,
    InvalidRolloutError,
    PromotionNotServingError,
    RollbackFailedError,
)
from rollouts.logic import components
from rollouts.logic.decisions import deliver, record
from rollouts.logic.endpoint_wait import BUSY, endpoint_of
from rollouts.logic.pending import raise_pending
from rollouts.logic.validation import check_against_endpoint
from rollouts.models.base import format_duration
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.observability import logger
from rollouts.settings import get_settings
from rollouts.strategies.base import CONTINUE_AFTER_SECONDS, candidate_variant, without_variants


def config_name(rollout: Rollout, suffix: str) -> str:
    return f"{rollout.endpoint_name[:44]}-{rollout.rollout_id}-{suffix}"[:63]


def next_wait(rollout: Rollout, plan: dict[str, Any]) -> dict[str, Any]:
    """A strategy's plan to wait again, or to continue as a new execution (`continue`, with the execution's name)
    once this one has waited `loops_per_execution` times, well before Step Functions' history limit, or has run
    `CONTINUE_AFTER_SECONDS`, well before the state machine's timeout."""
    if plan["next"] != "wait":
        return plan
    rollout = store.update_rollout(rollout.rollout_id, lambda r: r.model_copy(update={"loops": r.loops + 1}))
    if rollout.loops < get_settings().loops_per_execution and _execution_age(rollout) < CONTINUE_AFTER_SECONDS:
        return plan
    return {**plan, "next": "continue", "execution_name": f"{rollout.rollout_id}-{rollout.executions + 1}"}


def _execution_age(rollout: Rollout) -> float:
    """Seconds since the current execution began (0 for a rollout stored before this was kept)."""
    began = rollout.execution_started_at
    return (clock.now() - began).total_seconds() if began is not None else 0.0


def resume_rollout(rollout_id: str, execution_arn: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Resume (the first task of an execution started for a running rollout): the rollout follows its new execution;
    the lock and the strategy's state are the rollout's, and carry over. The execution continues the previous one
    (a long rollout), or recovers from its abnormal end (`state["recover"]`: it rolls back next)."""
    rollout = store.get_rollout(rollout_id)
    if store.lock_holder(rollout.spec.lock_name) != rollout_id:
        raise InvalidRolloutError(
            field=None, reason=f"rollout {rollout_id} no longer holds its lock on '{rollout.spec.lock_name}'"
        )
    previous = rollout.execution_arn
    waited, age = rollout.loops, _execution_age(rollout)
    if previous != execution_arn:
        now = clock.now()
        rollout = store.update_rollout(
            rollout_id,
            lambda r: r.model_copy(
                update={
                    "execution_arn": execution_arn,
                    "executions": r.executions + 1,
                    "loops": 0,
                    "execution_started_at": now,
                }
            ),
        )
    recover = (state or {}).get("recover")
    if isinstance(recover, dict):
        why = f"to roll back after the previous one ended: {recover.get('Cause', '')}"
    elif waited >= get_settings().loops_per_execution:
        why = f"the previous one had waited {waited} times"
    else:
        why = f"the previous one had run {format_duration(age)}"
    record(
        rollout,
        DecisionKind.EXECUTION_CONTINUED,
        f"Continued as execution {rollout.executions} ({execution_arn}): {why}",
        {"execution_arn": execution_arn, "previous_execution_arn": previous, "execution": rollout.executions},
        dedup_key=f"execution-{rollout.executions}",
    )
    return {"endpoint_name": rollout.endpoint_name}


def lock_rollout(
    rollout_id: str, execution_arn: str | None = None, resume: bool = False, state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate And Lock: check the spec against the endpoint as it is now and hold the endpoint's lock; Resume
    (`resume`) in an execution started for a running rollout."""
    if resume:
        return resume_rollout(rollout_id, execution_arn or "", state)
    rollout = store.get_rollout(rollout_id)
    store.acquire_lock(rollout.spec.lock_name, rollout_id)
    if rollout.original_config is None:
        facts = check_against_endpoint(rollout.spec)
    else:  # a retried task: the facts were taken before the endpoint changed
        facts = {"baseline_variant": rollout.baseline_variant, "original_config": rollout.original_config}
    schedules = [guard.schedule_name for guard in rollout.spec.guardrails.monitoring_schedules]
    store.put_guards(rollout_id, ALARM_GUARD, rollout.spec.guardrails.alarms)
    store.put_guards(rollout_id, SCHEDULE_GUARD, schedules)
    store.put_guards(rollout_id, MONITOR_GUARD, [MONITORED] if rollout.spec.guardrails.monitors else [])
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                **facts,
                "status": RolloutStatus.PROGRESSING,
                "execution_arn": execution_arn or r.execution_arn,
                "execution_started_at": r.execution_started_at or clock.now(),
                "weights": {facts["baseline_variant"]: 100.0},
            }
        ),
    )
    strategy = rollout.spec.strategy
    record(
        rollout,
        DecisionKind.ROLLOUT_STARTED,
        f"{strategy.title} of model "
        + " and ".join(f"'{candidate.model_name}'" for candidate in rollout.spec.candidates)
        + f" on endpoint '{rollout.endpoint_name}' started: {strategy.summary()}, baseline variant "
        f"'{rollout.baseline_variant}'",
        {
            "baseline_variant": rollout.baseline_variant,
            "candidate_variant": rollout.candidate_variant,
            "candidate_variants": rollout.candidate_variants,
            "original_config": rollout.original_config,
            "strategy": strategy.model_dump(mode="json"),
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
        raise InvalidRolloutError(
            field=None, reason=f"the endpoint's config '{rollout.original_config}' no longer exists"
        )
    return original


def move_to_config(rollout: Rollout, config_name: str, deployment_config: dict[str, Any] | None = None) -> None:
    """UpdateEndpoint to `config_name`, unless a retried task already did it (the endpoint is on it or busy)."""
    endpoint = endpoint_of(rollout)
    if endpoint["EndpointConfigName"] != config_name and endpoint["EndpointStatus"] not in BUSY:
        endpoints.update_endpoint(rollout.endpoint_name, config_name, deployment_config)


def prepare_variants(rollout_id: str) -> dict[str, Any]:
    """Prepare Variants: a config that brings the candidates in as the strategy says (by weight, at 0 at first, or
    as production's shadow), data capture on, the rules' alarms on each candidate's variant; then UpdateEndpoint."""
    rollout = store.get_rollout(rollout_id)
    raise_pending(rollout.pending)
    strategy = rollout.spec.strategy
    original = original_config_of(rollout)
    capture = data_capture(rollout, original)
    if capture is None and strategy.data_capture_needed:
        raise InvalidRolloutError(
            field="data_capture.destination_s3_uri",
            reason=f"{strategy.data_capture_needed}; give a destination or deploy the stack with a data capture bucket",
        )
    production = [
        {key: value for key, value in variant.items() if key not in ("CurrentWeight", "DesiredWeight")}
        for variant in original["ProductionVariants"]
    ]
    baseline = rollout.baseline_variant or ""
    variants, shadows = strategy.new_variants(production, baseline, rollout.spec.candidates)
    name = config_name(rollout, strategy.type)
    endpoints.create_endpoint_config(name, variants, capture, {"rollouts:rollout-id": rollout_id}, shadows or None)
    watched: dict[str, str] = {}
    for rule in rollout.spec.guardrails.alarm_rules:
        for variant in rollout.candidate_variants:
            alarm = alarms.alarm_name(rollout_id, rule, None if variant == rollout.candidate_variant else variant)
            alarms.put_variant_alarm(alarm, rule, rollout.endpoint_name, variant, rollout_id)
            watched[alarm] = variant
    created = list(watched)
    store.put_guards(rollout_id, ALARM_GUARD, created)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(update={"candidate_config": name, "alarm_names": created, "alarm_variants": watched}),
    )
    move_to_config(rollout, name)
    record(
        rollout,
        DecisionKind.VARIANTS_PREPARED,
        f"Endpoint '{rollout.endpoint_name}' is updating to config '{name}': "
        + strategy.describe_variants(baseline, rollout.spec.candidates),
        {
            "config": name,
            "shadow_variants": shadows,
            "data_capture": (capture or {}).get("DestinationS3Uri"),
            "alarms_created": created,
        },
        dedup_key="prepared",
    )
    return {"config_name": name}


def await_signal(rollout_id: str, task_token: str, settled: bool = True) -> dict[str, Any]:
    """A callback wait (a bake, a pause, a wait for feedback or for the next look, a watch): once the weights are
    live, leave the task token where a signal can find it, and return; the signal or the wait's timeout ends it.

    `settled: false` (the wait after a failed rollback) stores the token whatever the endpoint is doing."""
    rollout = store.get_rollout(rollout_id)
    if settled and endpoint_of(rollout)["EndpointStatus"] in BUSY:
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
    if rollout.promoted_variant in rollout.removed_variants:
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
    if target != "final":
        # Roll Back logs the rollback's start; when it failed before that (it could not read the endpoint, say),
        # the restore it fell back to does, with the reason Roll Back stored first. Once either way.
        record(
            rollout,
            DecisionKind.ROLLBACK_STARTED,
            f"Rolling back: {rollout.reason}; Roll Back could not finish, restoring {_restoring(rollout)}",
            {"cause": rollout.reason, "restore_config": True},
            dedup_key="rollback",
        )
        if rollout.component_name:
            return {"config_name": components.restore(rollout), "watch_seconds": 0}
    endpoint = endpoint_of(rollout)
    if endpoint["EndpointStatus"] in BUSY:
        raise EndpointUpdatingError(f"endpoint '{rollout.endpoint_name}' is {endpoint['EndpointStatus']}")
    if target == "final":
        raise_pending(rollout.pending)
        name = config_name(rollout, "final")
        original = endpoints.describe_endpoint_config(rollout.candidate_config or "") or {}
        endpoints.create_endpoint_config(
            name,
            [candidate_variant(rollout.promoted_candidate, 1.0)],
            original.get("DataCaptureConfig"),
            {"rollouts:rollout-id": rollout_id},
        )
        store.update_rollout(rollout_id, lambda r: r.model_copy(update={"final_config": name}))
    else:
        name = rollout.original_config or ""
    if endpoint["EndpointConfigName"] != name:
        endpoints.update_endpoint(rollout.endpoint_name, name)
    # Once the candidate serves alone, the promotion's watch keeps the guardrails armed (the original config stays).
    return {"config_name": name, "watch_seconds": int(rollout.spec.strategy.promotion_watch_seconds())}


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


def _restoring(rollout: Rollout) -> str:
    """What a restore puts back, for a person."""
    if rollout.component_name:
        return f"model '{components.baseline_model(rollout)}' on inference component '{rollout.component_name}'"
    return "the original config"


def roll_back(rollout_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """Roll Back: the baseline takes all the traffic at once; the original config follows if it was replaced.

    The reason is stored before the endpoint is read and the decision logged before the weights call, so that a
    rollback whose reads or weights call fail (and goes on to restore the original config) still says why it
    started.
    """
    error, cause = _reason(state)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                "status": RolloutStatus.ROLLING_BACK,
                "task_token": None,
                "endpoint_token": None,
                "endpoint_wait_since": None,  # the restore's wait has a bound of its own
                "reason": r.reason or f"{error}: {cause}",
            }
        ),
    )
    # An inference component's traffic is its model's, not a weight: only its Specification is put back.
    endpoint = {} if rollout.component_name else endpoints.describe_endpoint(rollout.endpoint_name) or {}
    live = endpoints.live_weights(endpoint) if endpoint else {}
    baseline = rollout.baseline_variant or ""
    # A blue/green candidate runs under the baseline's own variant name: its traffic is the config's, not a weight.
    serving = [variant for variant in rollout.candidate_variants if variant in live and variant != baseline]
    shift = endpoint.get("EndpointStatus") == "InService" and baseline in live and bool(serving)
    weights: dict[str, float] = {}
    if shift:
        weights = {baseline: 100.0, **dict.fromkeys(serving, 0.0)}
    elif baseline in live:
        weights = live
    restore = (
        components.restore_needed(rollout)
        if rollout.component_name
        else bool(endpoint)
        and bool(rollout.original_config)
        and (endpoint.get("EndpointConfigName") != rollout.original_config or endpoint.get("EndpointStatus") in BUSY)
    )
    record(
        rollout,
        DecisionKind.ROLLBACK_STARTED,
        f"Rolling back ({error}): {cause}"
        + (f"; baseline '{baseline}' to 100 % now" if shift else "")
        + (f"; restoring {_restoring(rollout)}" if restore else ""),
        {"error": error, "cause": cause, "weights": weights, "restore_config": restore},
        dedup_key="rollback",
    )
    if shift:
        endpoints.set_weights(rollout.endpoint_name, weights)
    if weights:
        store.update_rollout(rollout_id, lambda r: r.model_copy(update={"weights": weights}))
    original = components.baseline_model(rollout) if rollout.component_name else rollout.original_config
    return {"restore": restore, "config_name": original}


def sole_model(endpoint: dict[str, Any]) -> str | None:
    """The model that takes all of the endpoint's traffic, as DescribeEndpoint shows it; None when the endpoint is
    not InService, copies requests to a shadow, or sends traffic to more than one variant."""
    if endpoint.get("EndpointStatus") != "InService" or endpoint.get("ShadowProductionVariants"):
        return None
    serving = [variant for variant, weight in endpoints.live_weights(endpoint).items() if weight > 0]
    if len(serving) != 1:
        return None
    config = endpoints.describe_endpoint_config(str(endpoint.get("EndpointConfigName", ""))) or {}
    models = {v["VariantName"]: v.get("ModelName") for v in config.get("ProductionVariants", [])}
    return models.get(serving[0])


def _serving(endpoint: dict[str, Any]) -> str:
    """What the endpoint serves, for a person: its status, config and weights."""
    if not endpoint:
        return "the endpoint does not exist"
    weights = ", ".join(f"{v} {w:g} %" for v, w in endpoints.live_weights(endpoint).items())
    shadows = [v.get("VariantName") for v in endpoint.get("ShadowProductionVariants") or []]
    return (
        f"endpoint '{endpoint.get('EndpointName')}' is {endpoint.get('EndpointStatus')} on config "
        f"'{endpoint.get('EndpointConfigName')}' ({weights or 'no variants'})"
        + (f" with shadow variants {', '.join(map(str, shadows))}" if shadows else "")
    )


def _baseline_model(rollout: Rollout) -> str | None:
    original = endpoints.describe_endpoint_config(rollout.original_config or "") or {}
    return next(
        (
            v.get("ModelName")
            for v in original.get("ProductionVariants", [])
            if v["VariantName"] == rollout.baseline_variant
        ),
        None,
    )


def _restored(rollout: Rollout, endpoint: dict[str, Any]) -> bool:
    """Whether DescribeEndpoint shows the state before the rollout: its original config, or the baseline's model
    alone serving. A rollout that failed before it took the endpoint's facts (Validate And Lock) changed nothing."""
    if rollout.original_config is None:
        return True
    if endpoint.get("EndpointStatus") != "InService":
        return False
    if endpoint.get("EndpointConfigName") == rollout.original_config:
        return True
    model = sole_model(endpoint)
    return model is not None and model == _baseline_model(rollout)


def _rollback_failed(rollout: Rollout, endpoint: dict[str, Any], seen: str | None = None) -> None:
    """The rollback did not reach the baseline: say so, keep the lock and the guards, and stop for an operator.
    `seen` says what serves instead, when it is not the endpoint's variants (an inference component's model)."""
    weights = endpoints.live_weights(endpoint) if endpoint else {}
    rollout = store.update_rollout(
        rollout.rollout_id,
        lambda r: r.model_copy(
            update={
                "status": RolloutStatus.ROLLBACK_FAILED,
                "weights": weights,
                "task_token": None,
                "pending": [],
                "rollback_failures": r.rollback_failures + 1,
            }
        ),
    )
    wanted = (
        f"baseline model '{components.baseline_model(rollout)}'"
        if rollout.component_name
        else f"baseline '{rollout.baseline_variant}' alone"
    )
    seen = seen or _serving(endpoint)
    record(
        rollout,
        DecisionKind.ROLLBACK_FAILED,
        f"Rollback failed: {seen}, not {wanted}; the lock on the endpoint stays "
        f"held. Fix the endpoint, then abort the rollout again to retry the restore; reason: {rollout.reason}",
        {
            "weights": weights,
            "endpoint_status": endpoint.get("EndpointStatus"),
            "endpoint_config": endpoint.get("EndpointConfigName"),
            "original_config": rollout.original_config,
            "reason": rollout.reason,
            "attempt": rollout.rollback_failures,
        },
        dedup_key=f"rollback-failed-{rollout.rollback_failures}",
    )
    raise RollbackFailedError(f"rollback of rollout {rollout.rollout_id} not verified: {seen}")


def _check_component_outcome(rollout: Rollout, endpoint: dict[str, Any], promoted: bool) -> None:
    """Finalize's check for an inference component: DescribeInferenceComponent shows the candidate's model (a
    promotion) or the baseline's (a rollback; a rollout that failed before Validate And Lock changed nothing)."""
    component = components.find(rollout)
    if promoted:
        model = rollout.promoted_candidate.model_name
        if component is None or not components.serves(component, model):
            raise PromotionNotServingError(f"{components.serving(rollout, component)}, not candidate model '{model}'")
    elif rollout.original_component is not None and (
        component is None or not components.serves(component, components.baseline_model(rollout))
    ):
        _rollback_failed(rollout, endpoint, components.serving(rollout, component))


def finalize_rollout(rollout_id: str, outcome: str) -> dict[str, Any]:
    """Finalize: check on DescribeEndpoint that the outcome is what serves, then remove the rollout's alarms and
    guards, release the lock, record and publish the outcome.

    A promotion the endpoint does not show (the candidate's model alone serving) raises PromotionNotServingError and
    rolls back; a rollback it does not show ends in RollbackFailed with the lock held (RollbackFailedError).
    """
    rollout = store.get_rollout(rollout_id)
    if outcome == "promoted":
        # A breach that arrived while the candidate-only config was applied still rolls the candidate back.
        raise_pending(rollout.pending)
    endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
    promoted = outcome == "promoted"
    if rollout.component_name:
        _check_component_outcome(rollout, endpoint, promoted)
    elif promoted and (not endpoint or sole_model(endpoint) != rollout.promoted_candidate.model_name):
        raise PromotionNotServingError(
            f"{_serving(endpoint)}, not candidate model '{rollout.promoted_candidate.model_name}' alone"
        )
    elif not promoted and not _restored(rollout, endpoint):
        _rollback_failed(rollout, endpoint)
    weights = {rollout.baseline_variant or "": 100.0} if rollout.component_name else endpoints.live_weights(endpoint)
    alarms_left: list[str] = []
    if rollout.alarm_names:
        try:
            alarms.delete_alarms(rollout.alarm_names)
        except AwsError as error:
            # The end is verified; alarms left behind only notify a finished rollout, which ignores them. They are
            # named in the decision so that they can be deleted by hand.
            logger.warning(
                "Could not delete the rollout's alarms", extra={"alarms": rollout.alarm_names, "error": str(error)}
            )
            alarms_left = list(rollout.alarm_names)
    store.delete_guards(rollout_id, ALARM_GUARD, rollout.guard_alarm_names)
    store.delete_guards(
        rollout_id, SCHEDULE_GUARD, [g.schedule_name for g in rollout.spec.guardrails.monitoring_schedules]
    )
    store.delete_guards(rollout_id, MONITOR_GUARD, [MONITORED] if rollout.spec.guardrails.monitors else [])
    store.release_lock(rollout.spec.lock_name, rollout_id)
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
        **({"alarms_left": alarms_left} if alarms_left else {}),
    }
    component = f"inference component '{rollout.component_name}' of " if rollout.component_name else ""
    if promoted:
        message = f"Promoted: {component}endpoint '{rollout.endpoint_name}' serves " + (
            f"model '{rollout.promoted_candidate.model_name}'"
            if component
            else f"candidate '{rollout.promoted_variant}' alone (config '{endpoint.get('EndpointConfigName')}')"
        )
        record(rollout, DecisionKind.ROLLOUT_PROMOTED, message, evidence, dedup_key="final")
    else:
        message = (
            f"Rolled back: {component}endpoint '{rollout.endpoint_name}' serves "
            + (
                f"baseline model '{components.baseline_model(rollout)}'"
                if component
                else f"baseline '{rollout.baseline_variant}' (config '{endpoint.get('EndpointConfigName')}')"
            )
            + f"; reason: {rollout.reason}"
        )
        record(rollout, DecisionKind.ROLLOUT_ROLLED_BACK, message, evidence, dedup_key="final")
    # What the bus refuses now stays in the outbox for the scheduled delivery: the rollout's end stands either way.
    deliver(rollout_id)
    return {"status": status.value, "weights": weights}


def remove_arm(rollout: Rollout, variant: str, cause: str, evidence: dict[str, Any]) -> bool:
    """Take one candidate out at once (weight 0), the others going on; False if it is the last candidate in play.

    For a strategy whose breach of one candidate's alarm removes that candidate (a bandit's `remove-arm`). The check
    and the removal are one conditional write, so two arms' alarms at once cannot remove every candidate. The
    weights go to the endpoint here, not at the strategy's next update, so the breach costs no more traffic.
    """
    outcome: list[str] = []

    def change(r: Rollout) -> Rollout | None:
        outcome.clear()
        removed = r.removed_variants
        if variant in removed:
            outcome.append("already")
            return None
        if not [v for v in r.candidate_variants if v not in removed and v != variant]:
            outcome.append("last")
            return None
        outcome.append("removed")
        now_removed = sorted({*removed, variant})
        return r.model_copy(
            update={
                "removed_variants": now_removed,
                "weights": without_variants(r.weights, now_removed, r.baseline_variant or ""),
            }
        )

    rollout = store.update_rollout(rollout.rollout_id, change)
    if outcome != ["removed"]:
        return outcome == ["already"]
    endpoints.set_weights(rollout.endpoint_name, rollout.weights)
    record(
        rollout,
        DecisionKind.ARM_REMOVED,
        f"Arm '{variant}' removed: {cause}; now " + ", ".join(f"{v} {w:g} %" for v, w in rollout.weights.items()),
        {**evidence, "variant": variant, "weights": rollout.weights, "removed": rollout.removed_variants},
        f"arm-removed-{variant}",
    )
    return True
