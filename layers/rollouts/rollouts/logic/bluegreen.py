"""The blue/green strategy's tasks: SageMaker deploys and rolls back natively; the rollout guards and checks it.

Deploy Green builds a config with the candidate in the baseline's place (same variant name, as SageMaker's
guardrails require) and calls `UpdateEndpoint` with a blue/green `DeploymentConfig` whose auto-rollback alarms are
the spec's alarms, the rules' alarms and the rollout's own abort switch. While SageMaker deploys, a monitor
violation or an operator abort trips the abort switch (`trip_abort_switch`, from the signal path), and SageMaker
rolls back by itself. Check Deployment then compares the endpoint's config with the one intended: SageMaker's
rollback leaves the endpoint InService on the old config, often without a FailureReason, so this is the only
reliable way to know. A deployment that landed is watched for `watch_after_promotion` by the same bake as a
canary's; a breach then puts the old config back without further analysis.
"""

from __future__ import annotations

from typing import Any

from rollouts.aws import alarms, endpoints, store
from rollouts.aws.store import ALARM_GUARD
from rollouts.errors import AwsError, DeploymentRolledBackError, InvalidRolloutError
from rollouts.logic import components
from rollouts.logic.decisions import record
from rollouts.logic.endpoint_wait import endpoint_of
from rollouts.logic.lifecycle import config_name, data_capture, move_to_config, original_config_of
from rollouts.logic.pending import raise_pending
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.strategies.base import BlueGreenDeployment


def deployment_of(rollout: Rollout) -> BlueGreenDeployment:
    """The blue/green deployment's settings: the strategy's, or a shadow rollout's way to promote its challenger."""
    deployment = rollout.spec.strategy.blue_green_deployment()
    if deployment is None:
        raise InvalidRolloutError(
            field="strategy", reason=f"rollout {rollout.rollout_id} runs no blue/green deployment"
        )
    return deployment


def deploy_green(rollout_id: str) -> dict[str, Any]:
    """Deploy Green: the green config, the abort switch and the rules' alarms, then UpdateEndpoint with the
    strategy's DeploymentConfig; for an inference component, UpdateInferenceComponent with it."""
    rollout = store.get_rollout(rollout_id)
    raise_pending(rollout.pending)
    strategy = deployment_of(rollout)
    candidate = rollout.spec.candidate
    component = rollout.component_name
    baseline = rollout.baseline_variant or ""
    name: str | None = None
    if component is None:
        original = original_config_of(rollout)
        production = [
            {key: value for key, value in variant.items() if key not in ("CurrentWeight", "DesiredWeight")}
            for variant in original["ProductionVariants"]
        ]
        variants, _ = strategy.new_variants(production, baseline, [candidate])
        name = config_name(rollout, "green")
        capture = data_capture(rollout, original)
        endpoints.create_endpoint_config(name, variants, capture, {"rollouts:rollout-id": rollout_id})
    abort = alarms.put_abort_alarm(rollout_id)
    watched: dict[str, str] = {}
    for rule in rollout.spec.guardrails.alarm_rules:
        alarm = alarms.alarm_name(rollout_id, rule)
        alarms.put_variant_alarm(alarm, rule, rollout.endpoint_name, baseline, rollout_id, component)
        watched[alarm] = baseline
    store.put_guards(rollout_id, ALARM_GUARD, list(watched))
    auto_rollback = [abort, *rollout.spec.guardrails.alarms, *watched]
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={"candidate_config": name, "alarm_names": [abort, *watched], "alarm_variants": watched}
        ),
    )
    deployment = strategy.deployment_config(auto_rollback)
    if name is not None:
        move_to_config(rollout, name, deployment)
        where = f"variant '{baseline}' ({strategy.describe_deployment()}) with config '{name}'"
    else:
        components.deploy(rollout, deployment)
        where = f"inference component '{component}' ({strategy.describe_deployment()})"
    record(
        rollout,
        DecisionKind.VARIANTS_PREPARED,
        f"SageMaker is deploying model '{candidate.model_name}' to {where}; auto-rollback alarms: "
        + ", ".join(auto_rollback),
        {"config": name, "component": component, "deployment_config": deployment, "alarms_created": [abort, *watched]},
        dedup_key="prepared",
    )
    return {"config_name": name or candidate.model_name}


def _deployed(rollout: Rollout) -> tuple[bool, str, dict[str, float], str | None]:
    """Whether the deployment landed, what serves now (for a person), the weights and SageMaker's FailureReason."""
    if rollout.component_name:
        component = components.component_of(rollout)
        landed = components.serves(component, rollout.spec.candidate.model_name)
        where = (
            f"inference component '{rollout.component_name}' is {component.get('InferenceComponentStatus')} on "
            f"model '{components.status_of(component)['config_name']}'"
        )
        return landed, where, {rollout.baseline_variant or "": 100.0}, component.get("FailureReason")
    endpoint = endpoint_of(rollout)
    on = endpoint["EndpointConfigName"]
    where = f"endpoint '{rollout.endpoint_name}' is on config '{on}'"
    return on == rollout.candidate_config, where, endpoints.live_weights(endpoint), endpoint.get("FailureReason")


def check_deployment(rollout_id: str) -> dict[str, Any]:
    """Check Deployment: is the endpoint on the green config (the component on the candidate's model)? If not,
    SageMaker rolled back, maybe silently."""
    rollout = store.get_rollout(rollout_id)
    strategy = deployment_of(rollout)
    landed, where, weights, failure = _deployed(rollout)
    model = rollout.spec.candidate.model_name
    if landed:
        # A breach that came after SageMaker's last bake: the deployment landed, the old config comes back.
        raise_pending(rollout.pending)
        rollout = store.update_rollout(
            rollout_id,
            lambda r: r.model_copy(update={"weights": weights, "started_at": r.started_at or r.updated_at}),
        )
        watch = int(strategy.watch_after_promotion)
        serves = (
            f"inference component '{rollout.component_name}' serves model '{model}'"
            if rollout.component_name
            else f"endpoint '{rollout.endpoint_name}' serves model '{model}' on config '{rollout.candidate_config}'"
        )
        record(
            rollout,
            DecisionKind.TRAFFIC_SHIFTED,
            f"SageMaker's deployment landed: {serves}"
            + (f"; the guardrails stay armed for {watch} s" if watch else ""),
            {"config": rollout.candidate_config, "component": rollout.component_name, "weights": weights,
             "watch_seconds": watch},
            dedup_key="deployed",
        )  # fmt: skip
        return {"landed": True, "watch_seconds": watch}
    firing = alarms.firing(rollout.guard_alarm_names)
    causes = [p.cause for p in rollout.pending if p.error]
    why = "; ".join(causes) or (
        "alarms in ALARM: " + ", ".join(f"{a['alarm']} ({a['reason']})" for a in firing)
        if firing
        else "no breach the rollout saw (a deployment failure or SageMaker's execution timeout)"
    )
    intended = f"model '{model}'" if rollout.component_name else f"'{rollout.candidate_config}'"
    cause = (
        f"SageMaker rolled the deployment back: {where}, not {intended}"
        f"{f', FailureReason: {failure}' if failure else ', with no FailureReason'}; {why}"
    )
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(update={"reason": r.reason or f"{DeploymentRolledBackError.__name__}: {cause}"}),
    )
    record(
        rollout,
        DecisionKind.DEPLOYMENT_ROLLED_BACK,
        cause,
        {
            "intended_config": rollout.candidate_config,
            "intended_model": model,
            "endpoint_config": None if rollout.component_name else endpoint_of(rollout)["EndpointConfigName"],
            "serving": where,
            "failure_reason": failure,
            "firing": firing,
        },
        dedup_key="deployment-rolled-back",
    )
    raise DeploymentRolledBackError(cause)


def trip_abort_switch(rollout: Rollout, cause: str) -> bool:
    """A breach or an abort during SageMaker's deployment: trip the abort alarm so SageMaker rolls back natively.

    False when there is nothing to trip: the deployment has not started or has ended (then the rollout's own roll
    back acts on the breach, through the pending signal).
    """
    abort = alarms.abort_alarm_name(rollout.rollout_id)
    if rollout.status != RolloutStatus.PROGRESSING or abort not in rollout.alarm_names:
        return False
    if rollout.component_name:
        component = components.find(rollout)
        if component is None or components.settled(component):
            return False
    else:
        endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
        if rollout.candidate_config is None or endpoint.get("EndpointStatus") not in ("Updating", "RollingBack"):
            return False
    try:
        alarms.trip_abort_alarm(rollout.rollout_id, cause)
    except AwsError as error:
        # The breach is still kept as pending (the caller goes on): Check Deployment rolls back when the deployment
        # ends, and the switch's data point, if it was written, trips it at CloudWatch's next evaluation.
        record(
            rollout,
            DecisionKind.SIGNAL_RECEIVED,
            f"Abort switch '{alarms.abort_alarm_name(rollout.rollout_id)}' could not be set to ALARM "
            f"({error}); the breach rolls the deployment back when "
            f"SageMaker's deployment ends ({cause})",
            {"alarm": alarms.abort_alarm_name(rollout.rollout_id), "cause": cause, "error": error.code},
        )
        return False
    record(
        rollout,
        DecisionKind.SIGNAL_RECEIVED,
        f"Abort switch '{alarms.abort_alarm_name(rollout.rollout_id)}' set to ALARM: SageMaker rolls its deployment "
        f"back ({cause})",
        {"alarm": alarms.abort_alarm_name(rollout.rollout_id), "cause": cause},
    )
    return True
