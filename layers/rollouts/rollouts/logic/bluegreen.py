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

from botocore.exceptions import ClientError

from rollouts.aws import alarms, endpoints, store
from rollouts.aws.store import ALARM_GUARD
from rollouts.errors import DeploymentRolledBackError, InvalidRolloutError
from rollouts.logic.decisions import record
from rollouts.logic.endpoint_wait import endpoint_of
from rollouts.logic.pending import raise_pending
from rollouts.logic.steps import data_capture, move_to_config, original_config_of
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.models.spec import BlueGreenStrategy, ShadowStrategy

MAX_AUTO_ROLLBACK_ALARMS = 10  # UpdateEndpoint's AutoRollbackConfiguration.Alarms: 1 to 10
INF1_PREFIX = "ml.inf1."


def _strategy(rollout: Rollout) -> BlueGreenStrategy:
    """The blue/green deployment's settings: the strategy's, or a shadow rollout's way to promote its challenger."""
    strategy = rollout.spec.strategy
    if isinstance(strategy, ShadowStrategy):
        return strategy.promotion
    if not isinstance(strategy, BlueGreenStrategy):
        raise InvalidRolloutError(
            field="strategy", reason=f"rollout {rollout.rollout_id} is not a blue/green deployment"
        )
    return strategy


def _config_name(rollout: Rollout) -> str:
    return f"{rollout.endpoint_name[:44]}-{rollout.rollout_id}-green"[:63]


def check_blue_green(
    spec_alarms: list[str],
    rules: int,
    candidate_instance_type: str,
    endpoint_instance_types: list[str],
    model: dict[str, Any],
) -> None:
    """What SageMaker would otherwise refuse, or silently deploy all at once without baking (its documented
    exclusions: Marketplace containers, endpoints that use Inf1 instances), refused before anything changes with
    the field that causes it."""
    if candidate_instance_type.startswith(INF1_PREFIX):
        raise InvalidRolloutError(
            field="candidate.instance_type",
            reason=f"SageMaker's deployment guardrails do not support Inf1 instances ('{candidate_instance_type}'); "
            "the update would fall back to all at once with no baking",
        )
    inf1 = [kind for kind in endpoint_instance_types if kind.startswith(INF1_PREFIX)]
    if inf1:
        raise InvalidRolloutError(
            field="endpoint_name",
            reason=f"the endpoint uses Inf1 instances ({inf1[0]}), which SageMaker's deployment guardrails do not "
            "support; the update would fall back to all at once with no baking",
        )
    containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
    marketplace = [c["ModelPackageName"] for c in containers if ":aws-marketplace:" in str(c.get("ModelPackageName"))]
    if marketplace:
        raise InvalidRolloutError(
            field="candidate.model_name",
            reason=f"the model runs an AWS Marketplace package ({marketplace[0]}), which SageMaker's deployment "
            "guardrails do not support; the update would fall back to all at once with no baking",
        )
    total = 1 + len(spec_alarms) + rules
    if total > MAX_AUTO_ROLLBACK_ALARMS:
        raise InvalidRolloutError(
            field="guardrails.alarms",
            reason=f"SageMaker's auto-rollback takes at most {MAX_AUTO_ROLLBACK_ALARMS} alarms; this rollout would "
            f"give it {total} ({len(spec_alarms)} named, {rules} from alarm_rules, 1 abort switch)",
        )
    missing = alarms.missing(spec_alarms)
    if missing:
        raise InvalidRolloutError(
            field="guardrails.alarms", reason=f"no alarm named {', '.join(repr(m) for m in missing)} exists"
        )


def deploy_green(rollout_id: str) -> dict[str, Any]:
    """Deploy Green: the abort switch and the rules' alarms, the green config, then UpdateEndpoint blue/green."""
    rollout = store.get_rollout(rollout_id)
    raise_pending(rollout.pending)
    strategy = _strategy(rollout)
    original = original_config_of(rollout)
    candidate = rollout.spec.candidate
    variants = []
    for variant in original["ProductionVariants"]:
        kept = {key: value for key, value in variant.items() if key not in ("CurrentWeight", "DesiredWeight")}
        if kept["VariantName"] == rollout.baseline_variant:
            kept.update(
                {
                    "ModelName": candidate.model_name,
                    "InstanceType": candidate.instance_type,
                    "InitialInstanceCount": candidate.initial_instance_count,
                }
            )
        variants.append(kept)
    config_name = _config_name(rollout)
    capture = data_capture(rollout, original)
    endpoints.create_endpoint_config(config_name, variants, capture, {"rollouts:rollout-id": rollout_id})
    abort = alarms.put_abort_alarm(rollout_id)
    watched: dict[str, str] = {}
    for rule in rollout.spec.guardrails.alarm_rules:
        name = alarms.alarm_name(rollout_id, rule)
        alarms.put_variant_alarm(name, rule, rollout.endpoint_name, rollout.baseline_variant or "", rollout_id)
        watched[name] = rollout.baseline_variant or ""
    store.put_guards(rollout_id, ALARM_GUARD, list(watched))
    auto_rollback = [abort, *rollout.spec.guardrails.alarms, *watched]
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={"canary_config": config_name, "alarm_names": [abort, *watched], "alarm_variants": watched}
        ),
    )
    deployment = strategy.deployment_config(auto_rollback)
    move_to_config(rollout, config_name, deployment)
    record(
        rollout,
        DecisionKind.VARIANTS_PREPARED,
        f"SageMaker is deploying model '{candidate.model_name}' to variant '{rollout.baseline_variant}' blue/green "
        f"({strategy.traffic_routing}, {strategy.wait_interval:g} s bakes, {strategy.termination_wait:g} s before "
        f"blue is terminated) with config '{config_name}'; auto-rollback alarms: {', '.join(auto_rollback)}",
        {"config": config_name, "deployment_config": deployment, "alarms_created": [abort, *watched]},
        dedup_key="prepared",
    )
    return {"config_name": config_name}


def check_deployment(rollout_id: str) -> dict[str, Any]:
    """Check Deployment: is the endpoint on the green config? If not, SageMaker rolled back, maybe silently."""
    rollout = store.get_rollout(rollout_id)
    strategy = _strategy(rollout)
    endpoint = endpoint_of(rollout)
    on = endpoint["EndpointConfigName"]
    if on == rollout.canary_config:
        # A breach that came after SageMaker's last bake: the deployment landed, the old config comes back.
        raise_pending(rollout.pending)
        weights = endpoints.live_weights(endpoint)
        rollout = store.update_rollout(
            rollout_id,
            lambda r: r.model_copy(
                update={"weights": weights, "canary_started_at": r.canary_started_at or r.updated_at}
            ),
        )
        watch = int(strategy.watch_after_promotion)
        record(
            rollout,
            DecisionKind.TRAFFIC_SHIFTED,
            f"SageMaker's deployment landed: endpoint '{rollout.endpoint_name}' serves model "
            f"'{rollout.spec.candidate.model_name}' on config '{on}'"
            + (f"; the guardrails stay armed for {watch} s" if watch else ""),
            {"config": on, "weights": weights, "watch_seconds": watch},
            dedup_key="deployed",
        )
        return {"landed": True, "watch_seconds": watch}
    firing = alarms.firing(rollout.guard_alarm_names)
    causes = [p.cause for p in rollout.pending if p.error]
    why = "; ".join(causes) or (
        "alarms in ALARM: " + ", ".join(f"{a['alarm']} ({a['reason']})" for a in firing)
        if firing
        else "no breach the rollout saw (a deployment failure or SageMaker's execution timeout)"
    )
    failure = endpoint.get("FailureReason")
    cause = (
        f"SageMaker rolled the deployment back: endpoint '{rollout.endpoint_name}' is on config '{on}', not "
        f"'{rollout.canary_config}'{f', FailureReason: {failure}' if failure else ', with no FailureReason'}; {why}"
    )
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(update={"reason": r.reason or f"{DeploymentRolledBackError.__name__}: {cause}"}),
    )
    record(
        rollout,
        DecisionKind.DEPLOYMENT_ROLLED_BACK,
        cause,
        {"intended_config": rollout.canary_config, "endpoint_config": on, "failure_reason": failure, "firing": firing},
        dedup_key="deployment-rolled-back",
    )
    raise DeploymentRolledBackError(cause)


def trip_abort_switch(rollout: Rollout, cause: str) -> bool:
    """A breach or an abort during SageMaker's deployment: trip the abort alarm so SageMaker rolls back natively.

    False when there is nothing to trip: the deployment has not started or has ended (then the rollout's own roll
    back acts on the breach, through the pending signal).
    """
    abort = alarms.abort_alarm_name(rollout.rollout_id)
    if rollout.status != RolloutStatus.PROGRESSING or rollout.canary_config is None or abort not in rollout.alarm_names:
        return False
    endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
    if endpoint.get("EndpointStatus") not in ("Updating", "RollingBack"):
        return False
    try:
        alarms.trip_abort_alarm(rollout.rollout_id, cause)
    except ClientError as error:
        # The breach is still kept as pending (the caller goes on): Check Deployment rolls back when the deployment
        # ends, and the switch's data point, if it was written, trips it at CloudWatch's next evaluation.
        record(
            rollout,
            DecisionKind.SIGNAL_RECEIVED,
            f"Abort switch '{alarms.abort_alarm_name(rollout.rollout_id)}' could not be set to ALARM "
            f"({error.response.get('Error', {}).get('Code')}: {error}); the breach rolls the deployment back when "
            f"SageMaker's deployment ends ({cause})",
            {"alarm": alarms.abort_alarm_name(rollout.rollout_id), "cause": cause, "error": str(error)},
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
