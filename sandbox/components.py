"""SageMaker's updates of an inference component (`UpdateInferenceComponent`), with or without a rolling deployment,
locally.

What it models, as SageMaker documents it (API reference: UpdateInferenceComponent, InferenceComponentDeploymentConfig,
InferenceComponentRollingUpdatePolicy, InferenceComponentCapacitySize, DescribeInferenceComponent):

- An update is refused unless the component is `InService` (`Cannot update in-progress inference component
  "<arn>".`). Its Specification replaces the component's whole (callers carry the resources over, as the control
  plane does); `RuntimeConfig.CopyCount`, when given, sets the number of copies.
- Without a `DeploymentConfig` the component is `Updating` for `core.REGISTRY.endpoint_update_seconds`, then
  `InService` on the new Specification and copy count: every copy changes at once.
- With one, a rolling deployment (`InferenceComponentRollingUpdatePolicy`). The copies move to the new Specification
  `MaximumBatchSize` at a time: COPY_COUNT copies, or CAPACITY_PERCENT of the copy count, which must be "between 5% to
  50% of the copy count of the inference component" (whole copies a batch, at least one; the last batch takes what
  is left). The copy count is the component's when the call is made; a new `CopyCount` applies when the deployment
  lands (assumed). Each batch starts its copies (`_provisioning_seconds`), serves, then bakes
  `WaitIntervalInSeconds` (0 to 3600 s: "the baking period, during which SageMaker AI monitors alarms for each batch
  on the new fleet"), the `AutoRollbackConfiguration` alarms read every `POLL_SECONDS`; the last batch bakes too.
  `MaximumExecutionTimeoutInSeconds` (600 to 28800 s, "the time limit for the total deployment") is checked all
  along; without one there is no limit (assumed: no default is documented).
- An alarm in ALARM, or the timeout, rolls back: every copy returns to the old Specification at once, as
  `RollbackMaximumBatchSize` does by default ("100% of the total capacity ... SageMaker AI provisions the entire
  capacity of the old fleet at once"; a smaller rollback batch is validated, not modelled). The component stays
  `Updating` for `ROLLBACK_SECONDS` (InferenceComponentStatus has no RollingBack), then is `InService` on the old
  Specification and copy count with no `FailureReason`: the silent rollback SageMaker makes of an endpoint, which
  callers detect by comparing `Specification.ModelName`. That a component's is as silent, and that the timeout
  rolls back just as silently, is assumed; the documentation does not say.
- DescribeInferenceComponent shows `Updating` throughout, the old Specification until the deployment lands (as an
  endpoint shows its old EndpointConfigName), `DesiredCopyCount` the update's (`CurrentCopyCount` the copies before
  it), and `LastDeploymentConfig` from the call on (an update without a DeploymentConfig keeps it).
- Validation at the call: the service model's maxima (a bake of at most 3600 s, at most 10 alarms, ...; botocore
  checks only minima), the batch bounds, a `RollbackMaximumBatchSize` of at most the copy count (COPY_COUNT) or 100 %
  (CAPACITY_PERCENT), alarms that exist, a model that exists. SageMaker's own texts were not found: the messages are
  written in its manner.
- Faults (`LocalCloud.inject_fault("UpdateInferenceComponent", message, when)`): "call" fails the call; "async" fails
  the new copies' start (the first batch's, or all of them without a DeploymentConfig): `InService` again on the old
  Specification, with the message as `FailureReason`; "baking" fails a rolling deployment once its first batch
  serves: a rollback, with the message as `FailureReason`.

Not modelled: EventBridge events (SageMaker sends none for an inference component), where copies are placed and
whether they fit the endpoint's instances, managed instance scaling, `Specifications` (one per instance type).

The data plane asks `serving_model` which model serves a request to the component: during a rolling deployment, the
new Specification's model serves the share of the copies moved to it so far.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.deployments import POLL_SECONDS, ROLLBACK_SECONDS, _check_alarms, _firing, _maxima_errors
from sandbox.moto_ext import clock, core, sagemaker

if TYPE_CHECKING:
    from sandbox.cloud import LocalCloud

# MaximumBatchSize: "between 5% to 50% of the copy count of the inference component" (API reference).
MIN_BATCH_SHARE, MAX_BATCH_SHARE = 0.05, 0.5


class _RollBack(Exception):
    """Every copy goes back to the old Specification; `reason` becomes the FailureReason (None: a silent rollback)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(reason or "rollback")
        self.reason = reason


class _StartFailed(Exception):
    """The new copies never started: the component stays on its old Specification, with the reason."""


class _Gone(Exception):
    """The component was deleted, or the local cloud stopped: the update ends with nothing to report."""


@dataclass(eq=False)
class Update:
    """One update of a component in progress: from what to what, in which batches, and how far it has come."""

    component: sagemaker.InferenceComponent
    old_specification: dict[str, Any]
    new_specification: dict[str, Any]
    old_copies: int
    new_copies: int
    batches: list[int]  # the copies on the new Specification after each batch; none without a DeploymentConfig
    wait_interval: float
    alarms: list[str]
    deadline: float | None  # the simulated second (clock.monotonic) after which the deployment rolls back
    fault: dict[str, Any] | None
    moved: int = 0  # the copies on the new Specification, serving


# --- the data plane's view ---------------------------------------------------------------------------------------


def new_share(component_name: str) -> tuple[str, float] | None:
    """The new Specification's model and its share of the component's copies (0.0 until the first batch serves),
    or None when no rolling deployment of a model is in progress on the component."""
    with core.REGISTRY.lock:
        component = sagemaker.inference_components().get(component_name)
        update = component.update if component is not None else None
        if update is None or not update.batches or not update.new_specification.get("ModelName"):
            return None
        return str(update.new_specification["ModelName"]), update.moved / update.old_copies


def serving_model(component_name: str, current_model: str, rng: random.Random) -> str:
    """The model that serves one request to the component: the new one for the share of copies moved to it, else
    `current_model` (DescribeInferenceComponent's). `rng` is drawn from only while the copies are split, so a
    simulation without updates keeps its sequence."""
    share = new_share(component_name)
    if share is None or share[1] <= 0.0:
        return current_model
    model, fraction = share
    return model if fraction >= 1.0 or rng.random() < fraction else current_model


# --- UpdateInferenceComponent ------------------------------------------------------------------------------------


def update(component: sagemaker.InferenceComponent, params: dict[str, Any], backend: Any) -> None:
    """Begin the update an UpdateInferenceComponent call asks for (`params`, already checked against botocore's
    service model). Refusals raise SageMaker's ValidationException before anything changes."""
    from moto.sagemaker.exceptions import AWSValidationException

    _check_maxima(params)
    sagemaker.check_single_specification(params)
    specification = params.get("Specification")
    runtime = params.get("RuntimeConfig")
    if specification is None and runtime is None:
        raise AWSValidationException("At least one of Specification or RuntimeConfig must be specified.")
    if specification is not None:
        sagemaker.check_component_specification(backend, specification)
    deployment_config = params.get("DeploymentConfig")
    with core.REGISTRY.lock:
        if component.status != "InService":
            raise AWSValidationException(
                f'Cannot update inference component "{component.arn}" in {component.status} state.'
                if component.status == "Failed"
                else f'Cannot update in-progress inference component "{component.arn}".'
            )
        batches: list[int] = []
        alarms: list[str] = []
        policy: dict[str, Any] = {}
        if deployment_config:
            policy = deployment_config["RollingUpdatePolicy"]
            batches = _batches(policy, component.copy_count)
            rollback_alarms = (deployment_config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])
            alarms = [alarm["AlarmName"] for alarm in rollback_alarms]
            _check_alarms(alarms)
        fault = core.REGISTRY.take_fault("UpdateInferenceComponent")
        if fault and fault.get("when", "call") == "call":
            raise AWSValidationException(fault.get("message", "injected failure of UpdateInferenceComponent"))
        timeout = policy.get("MaximumExecutionTimeoutInSeconds")
        new_copies = int(runtime["CopyCount"]) if runtime else component.copy_count
        pending = Update(
            component=component,
            old_specification=component.specification,
            new_specification=specification if specification is not None else component.specification,
            old_copies=component.copy_count,
            new_copies=new_copies,
            batches=batches,
            wait_interval=float(policy.get("WaitIntervalInSeconds", 0)),
            alarms=alarms,
            deadline=None if timeout is None else clock.monotonic() + timeout,
            fault=fault,
        )
        component.update = pending
        component.status = "Updating"
        component.copy_count = new_copies
        component.last_modified_time = clock.wall_now()
        if deployment_config:
            component.last_deployment_config = deployment_config
    details: dict[str, Any] = {"routing": "ROLLING"} if deployment_config else {}
    core.REGISTRY.log_call(
        "UpdateInferenceComponent",
        component=component.name,
        model=pending.new_specification.get("ModelName"),
        copies=new_copies,
        **details,
    )
    if batches:
        threading.Thread(target=_run, args=(pending,), name=f"component-update-{component.name}", daemon=True).start()
    else:
        clock.call_later(core.REGISTRY.endpoint_update_seconds, _at_once, pending)


def _check_maxima(params: dict[str, Any]) -> None:
    """Values past the service model's maxima, refused in the words of AWS's validation errors."""
    from moto.sagemaker.exceptions import AWSValidationException

    errors = _maxima_errors(params, sagemaker.input_shape("UpdateInferenceComponent"), "")
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise AWSValidationException(count + "; ".join(errors))


def _share(size: dict[str, Any], copies: int) -> float:
    """An InferenceComponentCapacitySize as a share of the copy count."""
    if size["Type"] == "CAPACITY_PERCENT":
        return float(size["Value"]) / 100
    return size["Value"] / copies if copies else math.inf


def _batches(policy: dict[str, Any], copies: int) -> list[int]:
    """The copies on the new Specification after each batch, refusing sizes outside SageMaker's bounds."""
    from moto.sagemaker.exceptions import AWSValidationException

    size = policy["MaximumBatchSize"]
    share = _share(size, copies)
    if not MIN_BATCH_SHARE <= share <= MAX_BATCH_SHARE:
        raise AWSValidationException(
            f"MaximumBatchSize must be between 5% and 50% of the inference component's copy count ({copies}); got "
            f"{size['Value']} {size['Type']}."
        )
    rollback = policy.get("RollbackMaximumBatchSize")
    if rollback is not None and _share(rollback, copies) > 1:
        raise AWSValidationException(
            f"RollbackMaximumBatchSize ({rollback['Value']} {rollback['Type']}) exceeds the inference component's "
            f"copy count ({copies})."
        )
    batch = max(1, math.floor(round(share * copies, 9)))  # whole copies a batch
    return [min(copies, batch * (step + 1)) for step in range(math.ceil(copies / batch))]


# --- the update, on its own thread -------------------------------------------------------------------------------


def _provisioning_seconds(update: Update, copies: int) -> float:
    """The simulated seconds a batch of `copies` takes to start. A batch starts copies of a model on the instances
    the endpoint already runs (none is launched, unlike a blue/green deployment's green fleet): starting every copy
    takes what an update without a DeploymentConfig takes (`endpoint_update_seconds`), and a batch its share."""
    return core.REGISTRY.endpoint_update_seconds * copies / update.old_copies


def _run(update: Update) -> None:
    with contextlib.suppress(_Gone):
        _deploy(update)


def _deploy(update: Update) -> None:
    fault = update.fault or {}
    try:
        started = 0
        for index, moved in enumerate(update.batches):
            _wait(update, _provisioning_seconds(update, moved - started), watch_alarms=False)
            started = moved
            if index == 0 and fault.get("when") == "async":
                raise _StartFailed(fault.get("message", "injected update failure"))
            _move(update, moved)
            if index == 0 and fault.get("when") == "baking":
                raise _RollBack(fault.get("message", "injected deployment failure"))
            _wait(update, update.wait_interval, watch_alarms=True)
    except _StartFailed as failure:
        _end(update, failure_reason=str(failure))
    except _RollBack as rollback:
        _roll_back(update, rollback.reason)
    else:
        _end(update, failure_reason=None, landed=True)


def _at_once(update: Update) -> None:
    """The end of an update without a DeploymentConfig: every copy on the new Specification, or (an injected
    "async" fault) none."""
    fault = update.fault or {}
    if fault.get("when") == "async":
        _end(update, failure_reason=fault.get("message", "injected update failure"))
    else:
        _end(update, failure_reason=None, landed=True)


def _alive(update: Update) -> bool:
    """The update is still the component's, and the component still exists in this local cloud."""
    component = update.component
    with core.REGISTRY.lock:
        return sagemaker.inference_components().get(component.name) is component and component.update is update


def _sleep(update: Update, seconds: float) -> None:
    try:
        clock.sleep(seconds)
    except RuntimeError:  # the local cloud stopped: its clock is gone
        if _alive(update):
            raise
        raise _Gone from None


def _wait(update: Update, seconds: float, watch_alarms: bool) -> None:
    """Let `seconds` of simulated time pass, rolling back on a passed deadline or (in a bake) an alarm."""
    end = clock.monotonic() + seconds
    while True:
        if not _alive(update):
            raise _Gone
        if update.deadline is not None and clock.monotonic() >= update.deadline:
            raise _RollBack(None)
        if watch_alarms and _firing(update.alarms):
            raise _RollBack(None)
        remaining = end - clock.monotonic()
        if remaining <= 0:
            return
        _sleep(update, min(remaining, POLL_SECONDS))


def _move(update: Update, copies: int) -> None:
    with core.REGISTRY.lock:
        update.moved = copies
        update.component.last_modified_time = clock.wall_now()


def _roll_back(update: Update, reason: str | None) -> None:
    """Every copy back on the old Specification at once; the component InService once the new copies are gone."""
    _move(update, 0)
    _sleep(update, ROLLBACK_SECONDS)
    _end(update, failure_reason=reason)


def _end(update: Update, failure_reason: str | None, landed: bool = False) -> None:
    """The component InService again: on the new Specification and copy count when the update `landed`, else on the
    old ones."""
    with core.REGISTRY.lock:
        if not _alive(update):
            return
        component = update.component
        if landed:
            component.specification = update.new_specification
            component.copy_count = component.current_copy_count = update.new_copies
        else:
            component.copy_count = update.old_copies
        component.update = None
        component.failure_reason = failure_reason
        component.status = "InService"
        component.last_modified_time = clock.wall_now()


# --- a component to roll out on ----------------------------------------------------------------------------------


def create_component_endpoint(
    cloud: LocalCloud,
    endpoint_name: str,
    component_name: str,
    model_name: str,
    copy_count: int = 4,
    other_models: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Endpoint `endpoint_name` hosting model `model_name` as inference component `component_name` with
    `copy_count` copies, and its DescribeInferenceComponent once it is InService.

    The models (`model_name` and `other_models`) are created when missing, as `sandbox.scenarios.create_endpoint`
    creates its own; the endpoint, when missing, with an inference-component endpoint config: variant v1 of 2
    ml.g5.2xlarge instances that names no model. Each copy needs 1 CPU core and 1 GiB of memory."""
    from botocore.exceptions import ClientError

    sm = cloud.client("sagemaker")
    role = f"arn:aws:iam::{core.ACCOUNT}:role/sagemaker-execution"
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    for model in dict.fromkeys((model_name, *other_models)):
        try:
            sm.describe_model(ModelName=model)
        except ClientError:
            sm.create_model(
                ModelName=model,
                ExecutionRoleArn=role,
                PrimaryContainer={"Image": f"{image}#{model}"},
            )
    try:
        sm.describe_endpoint(EndpointName=endpoint_name)
    except ClientError:
        sm.create_endpoint_config(
            EndpointConfigName=f"{endpoint_name}-components",
            ExecutionRoleArn=role,
            ProductionVariants=[
                {
                    "VariantName": "v1",
                    "InstanceType": "ml.g5.2xlarge",
                    "InitialInstanceCount": 2,
                    "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
                }
            ],
        )
        sm.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=f"{endpoint_name}-components")
    sm.create_inference_component(
        InferenceComponentName=component_name,
        EndpointName=endpoint_name,
        VariantName="v1",
        Specification={
            "ModelName": model_name,
            "ComputeResourceRequirements": {"NumberOfCpuCoresRequired": 1, "MinMemoryRequiredInMb": 1024},
        },
        RuntimeConfig={"CopyCount": copy_count},
    )

    def in_service() -> dict[str, Any] | None:
        described = dict(sm.describe_inference_component(InferenceComponentName=component_name))
        return described if described["InferenceComponentStatus"] == "InService" else None

    described = cloud.wait_until(in_service, timeout=2 * core.REGISTRY.endpoint_update_seconds + 60)
    if described is None:
        raise TimeoutError(f"inference component {component_name} is not InService")
    return described
