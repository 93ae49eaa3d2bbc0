"""SageMaker's blue/green endpoint deployment with guardrails (`UpdateEndpoint` with a `DeploymentConfig`), locally.

What it models, as SageMaker documents it (developer guide: deployment-guardrails-blue-green*, -configuration,
-exclusions; API reference: UpdateEndpoint, BlueGreenUpdatePolicy, TrafficRoutingConfig, DescribeEndpoint):

- The endpoint goes `Updating`; a green fleet is provisioned (`core.REGISTRY.endpoint_update_seconds`, the same delay as
  an update without guardrails); then traffic moves from blue to green in steps: ALL_AT_ONCE one step of 100 %,
  CANARY `CanarySize` then the rest, LINEAR `LinearStepSize` at a time. `WaitIntervalInSeconds` is a bake *between*
  two steps (the API reference: "the waiting time between incremental steps"), and `TerminationWaitInSeconds` is the
  bake after the last one, before blue is terminated and the endpoint is `InService` on the new config. So an
  ALL_AT_ONCE deployment bakes for `TerminationWaitInSeconds` only, as the all-at-once guide describes it.
- A size is a share of each variant's green fleet: CAPACITY_PERCENT exactly (not rounded to whole instances),
  INSTANCE_COUNT as count / green instance count. Every duration runs on the sandbox's scaled clock.
- During every bake the `AutoRollbackConfiguration` alarms are read every `POLL_SECONDS` (simulated); one in ALARM,
  or `MaximumExecutionTimeoutInSeconds` passed (checked all along), rolls back: the endpoint goes `RollingBack`, all
  traffic returns to blue at once, green is terminated (`ROLLBACK_SECONDS`), and the endpoint is `InService` on the
  old config with no `FailureReason`: SageMaker's silent rollback (callers compare `EndpointConfigName`). The
  timeout is assumed to roll back just as silently; the documentation does not say.
- DescribeEndpoint shows `PendingDeploymentSummary` (the green config, its variants with `VariantStatus` `Creating`,
  `ActivatingTraffic`, `Baking`, then `Deleting` while a rollback terminates green; `CurrentInstanceCount` counts
  the green instances with traffic, as in the documented event) and `LastDeploymentConfig`. The shapes are
  botocore's (moto serialises them from the FakeEndpoint's attributes `pending_deployment_summary` and
  `last_deployment_config`). The status messages are the documented ones; the one for a `WaitIntervalInSeconds`
  bake follows the documented `TerminationWaitInSeconds` one.
- Events: `SageMaker Endpoint Deployment State Change` (source `aws.sagemaker`) at every change of a variant status,
  with the detail of the documented example (developer guide, automating-sagemaker-with-eventbridge, "Endpoint
  deployment state change"; awsdocs/amazon-sagemaker-developer-guide doc_source/automating-sagemaker-with-
  eventbridge.md): EndpointName, EndpointArn, EndpointConfigName, ProductionVariants, EndpointStatus (`UPDATING`),
  CreationTime, LastModifiedTime (epoch milliseconds), Tags, PendingDeploymentSummary {EndpointConfigName,
  StartTime, ProductionVariants[VariantStatus]}. The documentation shows only events of a pending deployment; one
  more, without PendingDeploymentSummary, is sent when the deployment ends (assumed). `SageMaker Endpoint State
  Change` is sent as before, plus `ROLLING_BACK`.
- Validation at the call: one update policy at most; the size that CANARY / LINEAR need, within the documented
  bounds (a canary at most 50 % of a variant's green fleet, a linear step 10-50 %); the same variant names as the
  endpoint's (guardrails cannot add or drop a variant); alarms that exist. The messages are written in SageMaker's
  manner: its own texts were not found.
- Faults (`LocalCloud.inject_fault("UpdateEndpoint", message, when)`): "call" fails the call; "async" fails the green
  fleet's provisioning (back to `InService` on the old config, with the message as `FailureReason`, as before);
  "baking" fails the deployment once green serves traffic (a rollback, with the message as `FailureReason`).

A `RollingUpdatePolicy` (deployment-guardrails-rolling, API reference RollingUpdatePolicy) runs the same way in
batches: `MaximumBatchSize` (5 to 50 % of the variant's instances, refused otherwise) more of the instances move to
the new fleet at each step, each batch bakes `WaitIntervalInSeconds` watching the alarms, and the last batch too;
there is no termination wait. A rollback returns all traffic at once (`RollbackMaximumBatchSize` batches are not
modelled). A multi-variant endpoint, which rolling deployments exclude, gets an update without guardrails.

Not modelled: the exclusions that make
SageMaker fall back to ALL_AT_ONCE (multi-variant, data capture, ...), a `DeploymentConfig` given to CreateEndpoint,
and the `EndpointConfigName` dimension SageMaker adds to the green fleet's metrics.

The data plane asks `serving_model` (or `green_share`) which fleet serves a request: one variant name has two fleets
during a deployment, and both publish their metrics under it, so an alarm sees the mixed traffic, as on AWS.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.moto_ext import clock, core, events, sagemaker

DEPLOYMENT_EVENT = "SageMaker Endpoint Deployment State Change"
# Simulated seconds between two reads of the rollback alarms during a bake (SageMaker does not say how often).
POLL_SECONDS = 10.0
# Simulated seconds a rollback takes to terminate the green fleet once traffic is back on blue.
ROLLBACK_SECONDS = 60.0


class _RollBack(Exception):
    """Traffic goes back to blue; `reason` becomes the endpoint's FailureReason (None: a silent rollback)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(reason or "rollback")
        self.reason = reason


class _ProvisioningFailed(Exception):
    """The green fleet never came up: the endpoint stays on blue, with the reason."""


class _Gone(Exception):
    """The endpoint was deleted, or the local cloud stopped: the deployment ends with nothing to report."""


@dataclass
class Deployment:
    """One blue/green deployment in progress: what it shifts, how, and how far it has come."""

    endpoint: Any  # moto's FakeEndpoint, changed in place as SageMaker changes what DescribeEndpoint shows
    config: Any  # moto's FakeEndpointConfig of the green fleet
    steps: list[dict[str, float]]  # per traffic step, each variant's share of traffic on green
    wait_interval: float
    termination_wait: float
    alarms: list[str]
    deadline: float | None  # the simulated second (clock.monotonic) after which the deployment rolls back
    fault: dict[str, Any] | None
    green_models: dict[str, str]
    green_counts: dict[str, int]
    rolling: bool = False  # a RollingUpdatePolicy: batches of the fleet, baked each, no termination wait
    shares: dict[str, float] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: clock.wall_now())


_ACTIVE: dict[str, Deployment] = {}


# --- the data plane's view ---------------------------------------------------------------------------------------


def green_share(endpoint_name: str, variant_name: str) -> tuple[str, float] | None:
    """The green fleet's model and its share of the variant's traffic (0.0 until traffic moves), or None when no
    blue/green deployment is pending on the endpoint."""
    with core.REGISTRY.lock:
        deployment = _ACTIVE.get(endpoint_name)
        if deployment is None or not _alive(deployment) or variant_name not in deployment.green_models:
            return None
        return deployment.green_models[variant_name], deployment.shares.get(variant_name, 0.0)


def serving_model(endpoint_name: str, variant_name: str, blue_model: str, rng: random.Random) -> str:
    """The model that serves one request sent to the variant: green's for its share of the traffic, else blue's.

    `rng` is drawn from only while traffic is split, so a simulation without deployments keeps its sequence."""
    green = green_share(endpoint_name, variant_name)
    if green is None or green[1] <= 0.0:
        return blue_model
    model, share = green
    return model if share >= 1.0 or rng.random() < share else blue_model


# --- UpdateEndpoint -----------------------------------------------------------------------------------------------


def start(endpoint: Any, config: Any, params: dict[str, Any]) -> bool:
    """Begin a blue/green deployment for an UpdateEndpoint call that asks for guardrails, and say whether it did.

    False leaves the call to the update without guardrails (no `DeploymentConfig`, or a rolling one). Refusals raise
    SageMaker's ValidationException, before anything changes."""
    from moto.sagemaker.exceptions import AWSValidationException

    _check_maxima(params)
    deployment_config = params.get("DeploymentConfig")
    if deployment_config is None and params.get("RetainDeploymentConfig"):
        deployment_config = getattr(endpoint, "last_deployment_config", None)
    if deployment_config and {"BlueGreenUpdatePolicy", "RollingUpdatePolicy"} <= deployment_config.keys():
        raise AWSValidationException(
            "Only one of BlueGreenUpdatePolicy and RollingUpdatePolicy can be specified in DeploymentConfig."
        )
    if not deployment_config:
        return False
    rolling = "RollingUpdatePolicy" in deployment_config
    if rolling and len(config.production_variants) != 1:
        return False  # a multi-variant endpoint is excluded from rolling deployments: an update without guardrails
    policy = deployment_config.get("RollingUpdatePolicy" if rolling else "BlueGreenUpdatePolicy") or {}
    routing = policy.get("TrafficRoutingConfiguration") or {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
    green_counts = {v["VariantName"]: int(v.get("InitialInstanceCount") or 1) for v in config.production_variants}
    alarms = [a["AlarmName"] for a in (deployment_config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
    _check_variants(endpoint, config)
    if rolling:
        steps = _rolling_steps(policy, green_counts)
        routing = {"Type": "ROLLING", "WaitIntervalInSeconds": policy.get("WaitIntervalInSeconds", 0)}
    else:
        steps = _steps(routing, green_counts)
    _check_alarms(alarms)

    fault = core.REGISTRY.take_fault("UpdateEndpoint")
    if fault and fault.get("when", "call") == "call":
        raise AWSValidationException(fault.get("message", "injected failure of UpdateEndpoint"))
    core.REGISTRY.log_call(
        "UpdateEndpoint", endpoint=endpoint.endpoint_name, config=config.endpoint_config_name, routing=routing["Type"]
    )
    timeout = policy.get("MaximumExecutionTimeoutInSeconds")
    deployment = Deployment(
        endpoint=endpoint,
        config=config,
        steps=steps,
        wait_interval=float(routing.get("WaitIntervalInSeconds", 0)),
        # A rolling deployment bakes after its last batch as after every other one.
        termination_wait=float(
            routing["WaitIntervalInSeconds"] if rolling else policy.get("TerminationWaitInSeconds", 0)
        ),
        rolling=rolling,
        alarms=alarms,
        deadline=None if timeout is None else clock.monotonic() + timeout,
        fault=fault,
        green_models={v["VariantName"]: v["ModelName"] for v in config.production_variants},
        green_counts=green_counts,
    )
    with core.REGISTRY.lock:
        _ACTIVE[endpoint.endpoint_name] = deployment
        endpoint.last_deployment_config = deployment_config
        endpoint.endpoint_status = "Updating"
        _set_variant_status(
            deployment, "Creating", lambda name: f"Launching {deployment.green_counts[name]} instance(s)."
        )
    sagemaker.endpoint_event(endpoint)
    _deployment_event(endpoint)
    threading.Thread(target=_run, args=(deployment,), name=f"deployment-{endpoint.endpoint_name}", daemon=True).start()
    return True


def _check_maxima(params: dict[str, Any]) -> None:
    """Refuse values past the service model's maxima (a bake of at most 3600 s, at most 10 alarms, ...), in the
    words of AWS's validation errors: botocore checks only minima, both in the client and in `sagemaker.validate`."""
    from moto.sagemaker.exceptions import AWSValidationException

    errors = _maxima_errors(params, sagemaker.input_shape("UpdateEndpoint"), "")
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise AWSValidationException(count + "; ".join(errors))


def _maxima_errors(value: Any, shape: Any, path: str) -> list[str]:
    limit = shape.metadata.get("max")
    errors = []
    if limit is not None and shape.type_name in ("integer", "long", "float", "double") and value > limit:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value less than or equal "
            f"to {limit}"
        )
    if limit is not None and shape.type_name in ("string", "list") and len(value) > limit:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have length less than or equal "
            f"to {limit}"
        )
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                errors += _maxima_errors(value[name], member, f"{path}.{name[0].lower()}{name[1:]}".lstrip("."))
    elif shape.type_name == "list":
        for index, item in enumerate(value, start=1):
            errors += _maxima_errors(item, shape.member, f"{path}.{index}.member")
    return errors


def _check_variants(endpoint: Any, config: Any) -> None:
    from moto.sagemaker.exceptions import AWSValidationException

    serving = sorted(v["VariantName"] for v in endpoint.production_variants)
    wanted = sorted(v["VariantName"] for v in config.production_variants)
    if serving != wanted:
        raise AWSValidationException(
            f'Endpoint configuration "{config.endpoint_config_name}" has variant name(s) {wanted}, but endpoint '
            f'"{endpoint.endpoint_name}" has {serving}: a deployment with a DeploymentConfig must keep the '
            "endpoint's variant names."
        )


def _steps(routing: dict[str, Any], green_counts: dict[str, int]) -> list[dict[str, float]]:
    """Each traffic step's share of each variant's traffic on green, refusing sizes SageMaker refuses."""
    from moto.sagemaker.exceptions import AWSValidationException

    kind = routing["Type"]
    if kind == "ALL_AT_ONCE":
        return [dict.fromkeys(green_counts, 1.0)]
    knob = "CanarySize" if kind == "CANARY" else "LinearStepSize"
    size = routing.get(knob)
    if size is None:
        raise AWSValidationException(f"{knob} must be specified for traffic routing configuration type {kind}.")
    fractions = {
        name: size["Value"] / 100 if size["Type"] == "CAPACITY_PERCENT" else size["Value"] / count
        for name, count in green_counts.items()
    }
    low, rule = (0.0, "less than or equal to 50%") if kind == "CANARY" else (0.1, "between 10% and 50%")
    if any(not low <= fraction <= 0.5 for fraction in fractions.values()):
        raise AWSValidationException(f"{knob} value must be {rule} of the variant's total instance count.")
    if kind == "CANARY":
        return [fractions, dict.fromkeys(green_counts, 1.0)]
    count = max(math.ceil(round(1 / fraction, 9)) for fraction in fractions.values())
    return [{name: min(1.0, f * (step + 1)) for name, f in fractions.items()} for step in range(count)]


def _rolling_steps(policy: dict[str, Any], counts: dict[str, int]) -> list[dict[str, float]]:
    """A rolling deployment's batches: each a `MaximumBatchSize` more of the variant's instances on the new fleet,
    refusing a batch outside 5 to 50 % of the variant's instance count, as the API reference bounds it."""
    from moto.sagemaker.exceptions import AWSValidationException

    size = policy.get("MaximumBatchSize")
    if size is None or "WaitIntervalInSeconds" not in policy:
        raise AWSValidationException("RollingUpdatePolicy needs MaximumBatchSize and WaitIntervalInSeconds.")
    ((name, count),) = counts.items()
    fraction = size["Value"] / 100 if size["Type"] == "CAPACITY_PERCENT" else size["Value"] / count
    if not 0.05 <= fraction <= 0.5:
        raise AWSValidationException(
            f"MaximumBatchSize must be between 5% and 50% of the variant's total instance count ({count}); got "
            f"{size['Value']} {size['Type']}."
        )
    rollback = policy.get("RollbackMaximumBatchSize")
    if rollback is not None and rollback["Type"] == "INSTANCE_COUNT" and rollback["Value"] > count:
        raise AWSValidationException(
            f"RollbackMaximumBatchSize ({rollback['Value']} instances) exceeds the variant's instance count ({count})."
        )
    batch = max(1, math.floor(round(fraction * count, 9)))  # whole instances a batch
    steps = math.ceil(count / batch)
    return [{name: min(1.0, batch * (step + 1) / count)} for step in range(steps)]


def _check_alarms(alarms: list[str]) -> None:
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.sagemaker.exceptions import AWSValidationException

    known = cloudwatch_backends[core.ACCOUNT][core.REGION].alarms
    missing = [name for name in alarms if name not in known]
    if missing:
        raise AWSValidationException(f"The alarm(s) {missing} in AutoRollbackConfiguration do not exist.")


# --- the deployment, on its own thread ---------------------------------------------------------------------------


def _run(deployment: Deployment) -> None:
    fault = deployment.fault or {}
    try:
        _wait(deployment, core.REGISTRY.endpoint_update_seconds, watch_alarms=False)
        if fault.get("when") == "async":
            raise _ProvisioningFailed(fault.get("message", "injected update failure"))
        for index, shares in enumerate(deployment.steps):
            _shift(deployment, shares)
            if index == 0 and fault.get("when") == "baking":
                raise _RollBack(fault.get("message", "injected deployment failure"))
            last = index == len(deployment.steps) - 1
            _bake(deployment, deployment.termination_wait if last else deployment.wait_interval, last)
        _end(deployment, failure_reason=None, landed=True)
    except _ProvisioningFailed as failure:
        _end(deployment, failure_reason=str(failure))
    except _RollBack as rollback:
        _roll_back(deployment, rollback.reason)
    except _Gone:
        _forget(deployment)


def _forget(deployment: Deployment) -> None:
    """No longer pending: the data plane serves from the endpoint's config alone."""
    with core.REGISTRY.lock:
        if _ACTIVE.get(deployment.endpoint.endpoint_name) is deployment:
            del _ACTIVE[deployment.endpoint.endpoint_name]


def _alive(deployment: Deployment) -> bool:
    """The endpoint still exists in this local cloud (it is not deleted, nor is the cloud stopped and reset)."""
    from moto.sagemaker.models import sagemaker_backends

    name = deployment.endpoint.endpoint_name
    return sagemaker_backends[core.ACCOUNT][core.REGION].endpoints.get(name) is deployment.endpoint


def _firing(alarms: list[str]) -> list[str]:
    from moto.cloudwatch.models import cloudwatch_backends

    known = cloudwatch_backends[core.ACCOUNT][core.REGION].alarms
    return [name for name in alarms if name in known and known[name].state_value == "ALARM"]


def _wait(deployment: Deployment, seconds: float, watch_alarms: bool) -> None:
    """Let `seconds` of simulated time pass, rolling back on a passed deadline or (in a bake) an alarm."""
    end = clock.monotonic() + seconds
    while True:
        if not _alive(deployment):
            raise _Gone
        if deployment.deadline is not None and clock.monotonic() >= deployment.deadline:
            raise _RollBack(None)
        if watch_alarms and _firing(deployment.alarms):
            raise _RollBack(None)
        remaining = end - clock.monotonic()
        if remaining <= 0:
            return
        clock.sleep(min(remaining, POLL_SECONDS))


def _capacity(deployment: Deployment, name: str) -> str:
    share = deployment.shares.get(name, 0.0)
    active = _active_instances(deployment, name)
    return f"{'full' if share >= 1.0 else 'canary'} capacity of {active} instance(s)"


def _active_instances(deployment: Deployment, name: str) -> int:
    return math.ceil(round(deployment.shares.get(name, 0.0) * deployment.green_counts[name], 9))


def _shift(deployment: Deployment, shares: dict[str, float]) -> None:
    with core.REGISTRY.lock:
        deployment.shares = dict(shares)
        _set_variant_status(
            deployment, "ActivatingTraffic", lambda name: f"Activating traffic on {_capacity(deployment, name)}."
        )
    _deployment_event(deployment.endpoint)


def _bake(deployment: Deployment, seconds: float, final: bool) -> None:
    knob = "TerminationWaitInSeconds" if final and not deployment.rolling else "WaitIntervalInSeconds"

    def message(name: str) -> str:
        return f"Baking for {seconds:g} seconds ({knob}) with traffic enabled on {_capacity(deployment, name)}."

    with core.REGISTRY.lock:
        _set_variant_status(deployment, "Baking", message)
    _deployment_event(deployment.endpoint)
    _wait(deployment, seconds, watch_alarms=True)


def _roll_back(deployment: Deployment, reason: str | None) -> None:
    """All traffic back to blue at once, green terminated, the endpoint back on the old config."""
    endpoint = deployment.endpoint
    with core.REGISTRY.lock:
        deployment.shares = {}
        endpoint.endpoint_status = "RollingBack"
        _set_variant_status(
            deployment, "Deleting", lambda name: f"Terminating {deployment.green_counts[name]} instance(s)."
        )
    sagemaker.endpoint_event(endpoint)
    _deployment_event(endpoint)
    clock.sleep(ROLLBACK_SECONDS)
    if _alive(deployment):
        _end(deployment, failure_reason=reason)
    else:
        _forget(deployment)


def _end(deployment: Deployment, failure_reason: str | None, landed: bool = False) -> None:
    """The endpoint InService again: on the new config when the deployment `landed` (blue is terminated), else on
    the old one."""
    endpoint, config = deployment.endpoint, deployment.config
    with core.REGISTRY.lock:
        if landed:
            endpoint.endpoint_config_name = config.endpoint_config_name
            endpoint.production_variants = sagemaker.variants(config.production_variants)
            endpoint.data_capture_config = config.data_capture_config
        _forget(deployment)
        endpoint.pending_deployment_summary = None
        endpoint.failure_reason = failure_reason
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = clock.wall_now()
    _deployment_event(endpoint)
    sagemaker.endpoint_event(endpoint)


# --- what DescribeEndpoint and the events show -------------------------------------------------------------------


def _set_variant_status(deployment: Deployment, status: str, message: Callable[[str], str]) -> None:
    """PendingDeploymentSummary with each green variant in `status`; call with the registry's lock held.

    A new summary replaces the old one whole, so that a DescribeEndpoint on another thread reads one or the other."""
    now = clock.wall_now()
    variants = []
    for variant, source in zip(
        sagemaker.variants(deployment.config.production_variants), deployment.config.production_variants, strict=True
    ):
        name = variant["VariantName"]
        if "CurrentInstanceCount" in variant:
            variant["CurrentInstanceCount"] = _active_instances(deployment, name)
        if source.get("InstanceType"):
            variant["InstanceType"] = source["InstanceType"]
        variant["VariantStatus"] = [{"Status": status, "StatusMessage": message(name), "StartTime": now}]
        variants.append(variant)
    endpoint = deployment.endpoint
    endpoint.pending_deployment_summary = {
        "EndpointConfigName": deployment.config.endpoint_config_name,
        "ProductionVariants": variants,
        "StartTime": deployment.started,
    }
    endpoint.last_modified_time = now


def _millis(value: Any) -> Any:
    """Timestamps as the events carry them: epoch milliseconds."""
    if isinstance(value, datetime):
        # moto stamps an endpoint's creation with a naive UTC time
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_millis(item) for item in value]
    return value


def _deployment_event(endpoint: Any) -> None:
    """SageMaker's "Endpoint Deployment State Change" event, shaped as the documented example."""
    if not core.REGISTRY.emit_endpoint_events:
        return
    with core.REGISTRY.lock:
        detail: dict[str, Any] = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": endpoint.production_variants,
            "EndpointStatus": sagemaker.event_status(endpoint.endpoint_status),
            "CreationTime": endpoint.creation_time,
            "LastModifiedTime": endpoint.last_modified_time,
            "Tags": {},
        }
        pending = getattr(endpoint, "pending_deployment_summary", None)
        if pending:
            detail["PendingDeploymentSummary"] = pending
        detail = _millis(detail)
    events.put_event("aws.sagemaker", DEPLOYMENT_EVENT, detail, [endpoint.arn])
