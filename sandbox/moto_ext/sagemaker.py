"""SageMaker: the calls the control plane makes that moto lacks or simplifies, checked against botocore's service
model so that a call that would fail on AWS fails here too.

UpdateEndpoint (with `Updating` for `REGISTRY.endpoint_update_seconds` of the local clock, and SageMaker's blue/green
deployments with guardrails in `sandbox.deployments`), UpdateEndpointWeightsAndCapacities, shadow variants,
monitoring schedules and executions, variant weights of 0.0, the endpoint's EventBridge events, and injected faults.
Inference components (Create/Describe/Update/Delete/ListInferenceComponents, their rolling updates in
`sandbox.components`) on endpoints whose variants name no model.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from sandbox.moto_ext import clock, core, events

_MODEL = botocore.session.get_session().get_service_model("sagemaker")
_VALIDATOR = ParamValidator()


def input_shape(operation: str) -> Any:
    """The operation's input shape in botocore's service model of SageMaker."""
    return _MODEL.operation_model(operation).input_shape


def validate(operation: str, params: dict[str, Any]) -> None:
    """Refuse what the real API refuses: parameters are checked against botocore's service model."""
    from moto.sagemaker.exceptions import AWSValidationException

    report = _VALIDATOR.validate(params, input_shape(operation))
    if report.has_errors():
        raise AWSValidationException(report.generate_report())


def fail_if_injected(operation: str) -> None:
    """An injected failure of a SageMaker call (`LocalCloud.inject_fault`) that fails the call itself."""
    from moto.sagemaker.exceptions import AWSValidationException

    fault = core.REGISTRY.take_fault(operation)
    if fault and fault.get("when", "call") == "call":
        raise AWSValidationException(fault.get("message", f"injected failure of {operation}"))


def variants(config_variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An endpoint's variants as DescribeEndpoint shows them, from a config's.

    moto drops a weight of 0.0 (it tests truthiness); SageMaker keeps it."""
    result = []
    for variant in config_variants:
        weight = float(variant.get("InitialVariantWeight", 1.0))
        count = variant.get("InitialInstanceCount")
        entry: dict[str, Any] = {
            "VariantName": variant["VariantName"],
            "CurrentWeight": weight,
            "DesiredWeight": weight,
        }
        if count is not None:
            entry.update({"CurrentInstanceCount": count, "DesiredInstanceCount": count})
        if variant.get("ServerlessConfig"):
            entry["CurrentServerlessConfig"] = entry["DesiredServerlessConfig"] = variant["ServerlessConfig"]
        result.append(entry)
    return result


# --- shadow variants: moto 5.2.5 drops CreateEndpointConfig's ShadowProductionVariants ---------------------------
#
# A shadow variant answers nobody: SageMaker replicates a share of the requests the production variant serves to
# it, publishes its per-variant metrics and captures its requests under its own VariantName. The share is the
# shadow's InitialVariantWeight relative to the production variant's, capped at every request: a shadow at 0.5
# beside a production variant at 1.0 mirrors 50 % of requests; at 1.0 beside 1.0, every request. AWS's pages say
# only that the shadow "receives a percentage of the incoming requests, replicated from the production variant"
# (developer guide, shadow-tests-create; ShadowModelVariantConfig.SamplingPercentage, at most 100), and their
# example (model-shadow-deployment) gives both variants weight 1 without saying what follows; the ratio is the rule
# third-party guides state (production 1 and shadow 0.1: 10 % mirrored). Assumed, not found documented: a shadow
# weighted above the production variant mirrors every request rather than being refused.


def _check_shadow_variants(production: list[dict[str, Any]], shadows: list[dict[str, Any]]) -> None:
    """SageMaker's rules for shadow variants in CreateEndpointConfig, refused before anything is stored."""
    from moto.sagemaker.exceptions import AWSValidationException

    # botocore's ShadowProductionVariants documentation; developer guide, shadow-tests-create ("a maximum of one
    # shadow variant per endpoint. For an endpoint with a shadow variant, there can be a maximum of one production
    # variant"). SageMaker's own error text was not found: the message is the documented sentence.
    if len(production) != 1 or len(shadows) != 1:
        raise AWSValidationException(
            "If you use ShadowProductionVariants, you can only specify one variant for ProductionVariants and one "
            "variant for ShadowProductionVariants."
        )
    # Metrics and data capture tell variants apart by VariantName alone. Assumed: SageMaker refuses a name used by
    # both lists, as it refuses a repeated production variant name (mlflow/mlflow#6486); the message is written in
    # SageMaker's manner.
    repeated = {v["VariantName"] for v in production} & {v["VariantName"] for v in shadows}
    if repeated:
        raise AWSValidationException(
            f"Variant names must be unique within an endpoint configuration: {', '.join(sorted(repeated))} is "
            "both a production variant and a shadow variant."
        )


def _install_shadow_variants() -> None:
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    def create_endpoint_config(self: Any) -> Any:
        params = json.loads(self.body or "{}")
        validate("CreateEndpointConfig", params)
        fail_if_injected("CreateEndpointConfig")
        shadows = params.get("ShadowProductionVariants")
        if shadows:
            _check_shadow_variants(params["ProductionVariants"], shadows)
            self.sagemaker_backend.validate_production_variants(shadows)  # each model exists, as for production
        result = create_config(self)
        if shadows:
            # moto serialises a config from its attributes: DescribeEndpointConfig now returns them.
            self.sagemaker_backend.endpoint_configs[params["EndpointConfigName"]].shadow_production_variants = shadows
        return result

    def describe_endpoint_with_shadows(self: Any, endpoint_name: str) -> dict[str, Any]:
        # The shadows are those of the config the endpoint serves: CreateEndpoint, UpdateEndpoint once its Updating
        # phase is over, and a blue/green deployment that lands all set EndpointConfigName when they apply one.
        fail_if_injected("DescribeEndpoint")
        response: dict[str, Any] = describe_endpoint(self, endpoint_name)
        config = self.endpoint_configs.get(response["EndpointConfigName"])
        shadows = getattr(config, "shadow_production_variants", None)
        if shadows:
            response["ShadowProductionVariants"] = variants(shadows)
        return response

    def describe_endpoint_config_or_fail(self: Any, endpoint_config_name: str) -> Any:
        fail_if_injected("DescribeEndpointConfig")
        return describe_config(self, endpoint_config_name)

    describe_config = core.replace(SageMakerModelBackend, "describe_endpoint_config", describe_endpoint_config_or_fail)
    create_config = core.replace(SageMakerResponse, "create_endpoint_config", create_endpoint_config)
    describe_endpoint = core.replace(SageMakerModelBackend, "describe_endpoint", describe_endpoint_with_shadows)


def event_status(status: str) -> str:
    """An endpoint status as SageMaker's events spell it: InService -> IN_SERVICE."""
    return "".join(f"_{c}" if c.isupper() else c for c in status).lstrip("_").upper()


def endpoint_event(endpoint: Any) -> None:
    """SageMaker's "Endpoint State Change" event, with the status spelled as the documented example spells it."""
    if not core.REGISTRY.emit_endpoint_events:
        return
    detail = {
        "EndpointName": endpoint.endpoint_name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.endpoint_config_name,
        "ProductionVariants": [
            {"VariantName": v["VariantName"], "DesiredWeight": v.get("DesiredWeight")}
            for v in endpoint.production_variants
        ],
        "EndpointStatus": event_status(endpoint.endpoint_status),
        "LastModifiedTime": endpoint.last_modified_time.timestamp() * 1000,
        "Tags": {},
    }
    events.put_event("aws.sagemaker", "SageMaker Endpoint State Change", detail, [endpoint.arn])


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def model_package_event(package: Any) -> None:
    """SageMaker's "Model Package State Change" event of a registered or updated version: the documented detail
    fields, ISO timestamps as this event type has them (unlike the endpoint's milliseconds)."""
    if not getattr(package, "model_package_group_name", None):
        return  # an unversioned package belongs to no group: no registry event
    detail = {
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version,
        "ModelPackageArn": package.arn,
        "ModelPackageStatus": getattr(package, "model_package_status", None) or "Completed",
        "ModelApprovalStatus": package.model_approval_status,
        "CreationTime": _iso(package.creation_time),
        "LastModifiedTime": _iso(getattr(package, "last_modified_time", None) or package.creation_time),
        "InferenceSpecification": package.inference_specification,
    }
    events.put_event("aws.sagemaker", "SageMaker Model Package State Change", detail, [package.arn])


def _emitting_model_package_events(backend_class: Any) -> None:
    created = backend_class.create_model_package
    updated = backend_class.update_model_package

    def create_model_package(self: Any, *args: Any, **kwargs: Any) -> Any:
        arn = created(self, *args, **kwargs)
        model_package_event(self.model_packages[self.model_package_name_mapping.get(arn, arn)])
        return arn

    def update_model_package(self: Any, *args: Any, **kwargs: Any) -> Any:
        arn = updated(self, *args, **kwargs)
        model_package_event(self.model_packages[self.model_package_name_mapping.get(arn, arn)])
        return arn

    core.replace(backend_class, "create_model_package", create_model_package)
    core.replace(backend_class, "update_model_package", update_model_package)


def _sagemaker_imports() -> tuple[Any, Any]:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import AWSValidationException

    return ActionResult, AWSValidationException


def update_endpoint(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("UpdateEndpoint", params)
    backend = self.sagemaker_backend
    endpoint = backend.endpoints.get(params["EndpointName"])
    if endpoint is None:
        raise AWSValidationException(f'Could not find endpoint "{params["EndpointName"]}".')
    config = backend.endpoint_configs.get(params["EndpointConfigName"])
    if config is None:
        raise AWSValidationException(f'Could not find endpoint configuration "{params["EndpointConfigName"]}".')
    if endpoint.endpoint_status != "InService":
        raise AWSValidationException(
            f'Cannot update in-progress endpoint "{endpoint.arn}".'
            if endpoint.endpoint_status == "Updating"
            else f"Endpoint is in {endpoint.endpoint_status} state"
        )
    from sandbox import deployments  # it imports this module: SageMaker's blue/green deployments

    if deployments.start(endpoint, config, params):  # a DeploymentConfig: SageMaker's blue/green with guardrails
        return ActionResult({"EndpointArn": endpoint.arn})
    fault = core.REGISTRY.take_fault("UpdateEndpoint")
    if fault and fault.get("when", "call") == "call":
        raise AWSValidationException(fault.get("message", "injected failure of UpdateEndpoint"))
    core.REGISTRY.log_call("UpdateEndpoint", endpoint=endpoint.endpoint_name, config=config.endpoint_config_name)
    endpoint.endpoint_status = "Updating"
    endpoint.last_modified_time = clock.wall_now()
    endpoint_event(endpoint)

    def finish() -> None:
        # Dropped if that local cloud stops first: its endpoint's event must not reach the next one.
        with core.REGISTRY.lock:
            if fault:
                # SageMaker keeps serving from the old config and returns to InService with a reason.
                endpoint.failure_reason = fault.get("message", "injected update failure")
            else:
                endpoint.endpoint_config_name = config.endpoint_config_name
                endpoint.production_variants = variants(config.production_variants)
                endpoint.data_capture_config = config.data_capture_config
                endpoint.failure_reason = None
            endpoint.endpoint_status = "InService"
            endpoint.last_modified_time = clock.wall_now()
        endpoint_event(endpoint)

    clock.call_later(core.REGISTRY.endpoint_update_seconds, finish)
    return ActionResult({"EndpointArn": endpoint.arn})


def update_endpoint_weights_and_capacities(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("UpdateEndpointWeightsAndCapacities", params)
    fail_if_injected("UpdateEndpointWeightsAndCapacities")
    endpoint = self.sagemaker_backend.endpoints.get(params["EndpointName"])
    if endpoint is None:
        raise AWSValidationException(f'Could not find endpoint "{params["EndpointName"]}".')
    if endpoint.endpoint_status != "InService":
        raise AWSValidationException(f'Cannot update in-progress endpoint "{endpoint.arn}".')
    by_name = {v["VariantName"]: v for v in endpoint.production_variants}
    for desired in params["DesiredWeightsAndCapacities"]:
        if desired["VariantName"] not in by_name:
            raise AWSValidationException(
                f'The variant name(s) "{desired["VariantName"]}" is/are not present within endpoint '
                f'configuration "{endpoint.endpoint_config_name}".'
            )
    with core.REGISTRY.lock:
        for desired in params["DesiredWeightsAndCapacities"]:
            variant = by_name[desired["VariantName"]]
            if "DesiredWeight" in desired:
                variant["CurrentWeight"] = variant["DesiredWeight"] = float(desired["DesiredWeight"])
            if "DesiredInstanceCount" in desired:
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"] = desired["DesiredInstanceCount"]
    core.REGISTRY.log_call(
        "UpdateEndpointWeightsAndCapacities",
        endpoint=endpoint.endpoint_name,
        weights={d["VariantName"]: d.get("DesiredWeight") for d in params["DesiredWeightsAndCapacities"]},
    )
    return ActionResult({"EndpointArn": endpoint.arn})


def create_monitoring_schedule(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("CreateMonitoringSchedule", params)
    name = params["MonitoringScheduleName"]
    arn = f"arn:aws:sagemaker:{core.REGION}:{core.ACCOUNT}:monitoring-schedule/{name}"
    now = clock.wall_now()
    with core.REGISTRY.lock:
        if name in core.REGISTRY.monitoring_schedules:
            raise AWSValidationException(f"Monitoring schedule '{name}' already exists")
        core.REGISTRY.monitoring_schedules[name] = {
            "MonitoringScheduleArn": arn,
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": params["MonitoringScheduleConfig"].get("MonitoringType", "DataQuality"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "MonitoringScheduleConfig": params["MonitoringScheduleConfig"],
            "EndpointName": params["MonitoringScheduleConfig"]
            .get("MonitoringJobDefinition", {})
            .get("MonitoringInputs", [{}])[0]
            .get("EndpointInput", {})
            .get("EndpointName"),
        }
        core.REGISTRY.monitoring_executions[name] = []
    return ActionResult({"MonitoringScheduleArn": arn})


def describe_monitoring_schedule(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("DescribeMonitoringSchedule", params)
    schedule = core.REGISTRY.monitoring_schedules.get(params["MonitoringScheduleName"])
    if schedule is None:
        raise AWSValidationException(f"Monitoring schedule '{params['MonitoringScheduleName']}' does not exist")
    executions = core.REGISTRY.monitoring_executions.get(schedule["MonitoringScheduleName"], [])
    result = {key: value for key, value in schedule.items() if value is not None}
    if executions:
        result["LastMonitoringExecutionSummary"] = executions[-1]
    return ActionResult(result)


def list_monitoring_executions(self: Any) -> Any:
    ActionResult, _ = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("ListMonitoringExecutions", params)
    name = params.get("MonitoringScheduleName")
    with core.REGISTRY.lock:
        rows = [
            row
            for schedule, executions in core.REGISTRY.monitoring_executions.items()
            if name in (None, schedule)
            for row in executions
        ]
    key = {"CreationTime": "CreationTime", "ScheduledTime": "ScheduledTime", "Status": "MonitoringExecutionStatus"}[
        params.get("SortBy", "ScheduledTime")
    ]
    rows.sort(key=lambda row: row[key], reverse=params.get("SortOrder", "Descending") == "Descending")
    if params.get("StatusEquals"):
        rows = [row for row in rows if row["MonitoringExecutionStatus"] == params["StatusEquals"]]
    start, size = int(params.get("NextToken") or 0), int(params.get("MaxResults", 10))
    result: dict[str, Any] = {"MonitoringExecutionSummaries": rows[start : start + size]}
    if start + size < len(rows):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def _scoring_invoke_endpoint(original: Any) -> Any:
    """InvokeEndpoint on an endpoint a data plane serves (`sandbox.dataplane`): each CSV line of the body is scored
    by the model of the target variant (the first live one without TargetVariant), one score a line in CSV, as a
    SageMaker XGBoost container answers. Other endpoints keep moto's canned answers."""

    def invoke_endpoint(self: Any) -> Any:
        # The endpoint's name is in the path (/endpoints/<name>/invocations), as moto's asynchronous variant reads it.
        endpoint = urllib.parse.unquote(self.path.split("/")[2]) if self.path.count("/") >= 3 else ""
        scorer = core.REGISTRY.scorers.get(endpoint)
        if scorer is None:
            return original(self)
        variant = self.headers.get("X-Amzn-SageMaker-Target-Variant")
        body = self.body.decode() if isinstance(self.body, bytes) else str(self.body)
        try:
            rows = [[float(value) for value in line.split(",")] for line in body.splitlines() if line.strip()]
            scores = scorer(variant, rows)
        except ValueError as error:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("ValidationError", str(error)) from error
        headers = {"Content-Type": "text/csv", "x-Amzn-Invoked-Production-Variant": variant or ""}
        return 200, headers, "\n".join(f"{score:.6f}" for score in scores)

    return invoke_endpoint


# --- inference components: moto 5.2.5 has none --------------------------------------------------------------------
#
# An inference component hosts one model on the instances of an endpoint's variant, beside other components, with
# its own compute requirements and number of copies (API reference: CreateInferenceComponent,
# DescribeInferenceComponent, ListInferenceComponents). The endpoint's config names no model: its variant has an
# instance type and count only. A component is `Creating` for `REGISTRY.endpoint_update_seconds` of the local clock,
# then `InService` with all its copies; DeleteInferenceComponent removes it at once (its `Deleting` phase is not
# modelled). Its updates, rolling or not, are `sandbox.components`'. Assumed, SageMaker's texts not found: the
# refusals' messages, written in SageMaker's manner; that a component is created on an InService endpoint only, on a
# variant that names no model. Not modelled: `Specifications` (one per instance type, refused), placement on
# instances (`PlacementStatus`; a component always fits), adapters' behaviour, and events (SageMaker sends none for
# a component).


def component_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{core.REGION}:{core.ACCOUNT}:inference-component/{name}"


def _specification_summary(specification: dict[str, Any]) -> dict[str, Any]:
    """DescribeInferenceComponent's Specification (InferenceComponentSpecificationSummary) of a request's: a
    container's Image is shown as its DeployedImage, the rest as given."""
    summary = dict(specification)
    container = summary.get("Container")
    if container:
        shown = {key: value for key, value in container.items() if key != "Image"}
        if container.get("Image"):
            shown["DeployedImage"] = {"SpecifiedImage": container["Image"], "ResolvedImage": container["Image"]}
        summary["Container"] = shown
    return summary


@dataclass(eq=False)
class InferenceComponent:
    """One inference component as DescribeInferenceComponent shows it; changed with the registry's lock held."""

    name: str
    endpoint_name: str
    endpoint_arn: str
    variant_name: str
    specification: dict[str, Any]  # as CreateInferenceComponent or the last UpdateInferenceComponent gave it
    copy_count: int  # DesiredCopyCount
    current_copy_count: int
    status: str
    creation_time: datetime
    last_modified_time: datetime
    tags: list[dict[str, str]] = field(default_factory=list)
    failure_reason: str | None = None
    last_deployment_config: dict[str, Any] | None = None
    # The update in progress (a `sandbox.components.Update`), or None.
    update: Any = None

    @property
    def arn(self) -> str:
        return component_arn(self.name)

    def summary(self) -> dict[str, Any]:
        """ListInferenceComponents' row."""
        return {
            "InferenceComponentName": self.name,
            "InferenceComponentArn": self.arn,
            "EndpointName": self.endpoint_name,
            "EndpointArn": self.endpoint_arn,
            "VariantName": self.variant_name,
            "InferenceComponentStatus": self.status,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
        }

    def describe(self) -> dict[str, Any]:
        """DescribeInferenceComponent's answer; FailureReason and LastDeploymentConfig only when there are some."""
        result = self.summary()
        result["Specification"] = _specification_summary(self.specification)
        result["RuntimeConfig"] = {"DesiredCopyCount": self.copy_count, "CurrentCopyCount": self.current_copy_count}
        if self.failure_reason:
            result["FailureReason"] = self.failure_reason
        if self.last_deployment_config:
            result["LastDeploymentConfig"] = self.last_deployment_config
        return result


@dataclass
class _Components:
    generation: int = 0
    by_name: dict[str, InferenceComponent] = field(default_factory=dict)


_COMPONENTS = _Components()


def inference_components() -> dict[str, InferenceComponent]:
    """The running local cloud's inference components by name (change them with `core.REGISTRY.lock` held).

    They belong to the registry's generation: emptied where the registry is reset or retired (`LocalCloud.start`
    and `stop`), so neither a component nor an update still running on its thread outlives its local cloud."""
    with core.REGISTRY.lock:
        if _COMPONENTS.generation != core.REGISTRY.generation:
            _COMPONENTS.generation = core.REGISTRY.generation
            _COMPONENTS.by_name = {}
        return _COMPONENTS.by_name


def find_component(name: str) -> InferenceComponent:
    """The component of that name; SageMaker's ValidationException when there is none."""
    _, AWSValidationException = _sagemaker_imports()
    component = inference_components().get(name)
    if component is None:
        raise AWSValidationException(f'Could not find inference component "{name}".')
    return component


def check_component_specification(backend: Any, specification: dict[str, Any]) -> None:
    """Refuse a Specification that names nothing to run, or a model that does not exist."""
    _, AWSValidationException = _sagemaker_imports()
    if not any(specification.get(key) for key in ("ModelName", "Container", "BaseInferenceComponentName")):
        raise AWSValidationException(
            "Specification must specify one of ModelName, Container or BaseInferenceComponentName."
        )
    model = specification.get("ModelName")
    if model and model not in backend._models:
        raise AWSValidationException(
            f'Could not find model "arn:aws:sagemaker:{core.REGION}:{core.ACCOUNT}:model/{model}".'
        )


def check_single_specification(params: dict[str, Any]) -> None:
    """Refuse `Specifications` (one per instance type), which the local cloud does not model."""
    _, AWSValidationException = _sagemaker_imports()
    if "Specifications" in params:
        raise AWSValidationException(
            "Specifications (one specification per instance type) is not supported by the local cloud: give "
            "Specification."
        )


def _component_variant(backend: Any, endpoint: Any, variant_name: str | None) -> str:
    """The variant a new component goes on: the one named, or the endpoint's only one; it must name no model."""
    _, AWSValidationException = _sagemaker_imports()
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    configured = list(config.production_variants) if config is not None else list(endpoint.production_variants)
    names = [v["VariantName"] for v in configured]
    if variant_name is None:
        if len(names) != 1:
            raise AWSValidationException(
                f'VariantName must be specified: endpoint "{endpoint.endpoint_name}" has variants {names}.'
            )
        variant_name = names[0]
    if variant_name not in names:
        raise AWSValidationException(
            f'Variant "{variant_name}" is not a production variant of endpoint "{endpoint.endpoint_name}" ({names}).'
        )
    model = next(v for v in configured if v["VariantName"] == variant_name).get("ModelName")
    if model:
        raise AWSValidationException(
            f'Variant "{variant_name}" of endpoint "{endpoint.endpoint_name}" serves model "{model}": inference '
            "components are hosted on a variant whose endpoint configuration names no ModelName."
        )
    return variant_name


def _component_created(component: InferenceComponent) -> None:
    with core.REGISTRY.lock:
        if inference_components().get(component.name) is not component or component.status != "Creating":
            return  # deleted meanwhile
        component.status = "InService"
        component.current_copy_count = component.copy_count
        component.last_modified_time = clock.wall_now()


def create_inference_component(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("CreateInferenceComponent", params)
    fail_if_injected("CreateInferenceComponent")
    name = params["InferenceComponentName"]
    if name in inference_components():
        raise AWSValidationException(f'Cannot create already existing inference component "{component_arn(name)}".')
    backend = self.sagemaker_backend
    endpoint = backend.endpoints.get(params["EndpointName"])
    if endpoint is None:
        raise AWSValidationException(f'Could not find endpoint "{params["EndpointName"]}".')
    if endpoint.endpoint_status != "InService":
        raise AWSValidationException(
            f'Cannot create inference component "{name}": endpoint "{endpoint.arn}" is {endpoint.endpoint_status}, '
            "not InService."
        )
    variant = _component_variant(backend, endpoint, params.get("VariantName"))
    check_single_specification(params)
    specification = params.get("Specification")
    if specification is None:
        raise AWSValidationException("Specification must be specified.")
    check_component_specification(backend, specification)
    copies = (params.get("RuntimeConfig") or {}).get("CopyCount")
    if copies is None:
        raise AWSValidationException(f'RuntimeConfig.CopyCount must be specified for inference component "{name}".')
    now = clock.wall_now()
    component = InferenceComponent(
        name=name,
        endpoint_name=endpoint.endpoint_name,
        endpoint_arn=endpoint.arn,
        variant_name=variant,
        specification=specification,
        copy_count=int(copies),
        current_copy_count=0,
        status="Creating",
        creation_time=now,
        last_modified_time=now,
        tags=params.get("Tags") or [],
    )
    with core.REGISTRY.lock:
        components = inference_components()
        if name in components:
            raise AWSValidationException(f'Cannot create already existing inference component "{component.arn}".')
        components[name] = component
    core.REGISTRY.log_call(
        "CreateInferenceComponent",
        component=name,
        endpoint=endpoint.endpoint_name,
        model=specification.get("ModelName"),
    )
    clock.call_later(core.REGISTRY.endpoint_update_seconds, _component_created, component)
    return ActionResult({"InferenceComponentArn": component.arn})


def describe_inference_component(self: Any) -> Any:
    ActionResult, _ = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("DescribeInferenceComponent", params)
    fail_if_injected("DescribeInferenceComponent")
    with core.REGISTRY.lock:
        return ActionResult(find_component(params["InferenceComponentName"]).describe())


def update_inference_component(self: Any) -> Any:
    ActionResult, _ = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("UpdateInferenceComponent", params)
    component = find_component(params["InferenceComponentName"])
    from sandbox import components  # it imports this module: the updates, rolling or not

    components.update(component, params, self.sagemaker_backend)
    return ActionResult({"InferenceComponentArn": component.arn})


def delete_inference_component(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    params = json.loads(self.body or "{}")
    validate("DeleteInferenceComponent", params)
    fail_if_injected("DeleteInferenceComponent")
    with core.REGISTRY.lock:
        find_component(params["InferenceComponentName"])
        del inference_components()[params["InferenceComponentName"]]  # an update in progress ends with it
    core.REGISTRY.log_call("DeleteInferenceComponent", component=params["InferenceComponentName"])
    return EmptyResult()


def _moment(value: Any) -> datetime:
    """A timestamp of a JSON request: epoch seconds, as botocore sends them, or ISO 8601."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_inference_components(self: Any) -> Any:
    ActionResult, _ = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    validate("ListInferenceComponents", params)
    with core.REGISTRY.lock:
        rows = list(inference_components().values())
    tests: list[tuple[str, Any]] = [
        ("NameContains", lambda c, v: v in c.name),
        ("EndpointNameEquals", lambda c, v: c.endpoint_name == v),
        ("VariantNameEquals", lambda c, v: c.variant_name == v),
        ("StatusEquals", lambda c, v: c.status == v),
        ("CreationTimeBefore", lambda c, v: c.creation_time < _moment(v)),
        ("CreationTimeAfter", lambda c, v: c.creation_time > _moment(v)),
        ("LastModifiedTimeBefore", lambda c, v: c.last_modified_time < _moment(v)),
        ("LastModifiedTimeAfter", lambda c, v: c.last_modified_time > _moment(v)),
    ]
    for key, test in tests:
        if params.get(key) is not None:
            rows = [row for row in rows if test(row, params[key])]
    sort_key: Any = {
        "Name": lambda c: c.name,
        "CreationTime": lambda c: c.creation_time,
        "Status": lambda c: c.status,
    }[params.get("SortBy", "CreationTime")]
    rows.sort(key=sort_key, reverse=params.get("SortOrder", "Descending") == "Descending")
    start, size = int(params.get("NextToken") or 0), int(params.get("MaxResults", 10))
    result: dict[str, Any] = {"InferenceComponents": [row.summary() for row in rows[start : start + size]]}
    if start + size < len(rows):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def _install_component_endpoints() -> None:
    """CreateEndpointConfig takes the variant of an endpoint that hosts inference components: no ModelName, and a
    GPU instance type moto's own list predates (ml.g5, ml.g6, ...)."""
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend

    instance_types = list(_MODEL.shape_for("ProductionVariantInstanceType").enum)

    def validate_instance_type(self: Any, instance_type: str) -> None:
        # botocore's enum, in moto's words for it
        if instance_type not in instance_types:
            raise ValidationError(
                message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: Member must "
                f"satisfy enum value set: {instance_types}"
            )

    def validate_production_variants(self: Any, production_variants: list[dict[str, Any]]) -> None:
        # A variant without a ModelName hosts inference components: there is no model to look up.
        validate_models(self, [variant for variant in production_variants if "ModelName" in variant])

    core.replace(FakeEndpointConfig, "validate_instance_type", validate_instance_type)
    validate_models = core.replace(SageMakerModelBackend, "validate_production_variants", validate_production_variants)


def install() -> None:
    from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    original_invoke = SageMakerRuntimeResponse.invoke_endpoint
    core.replace(SageMakerRuntimeResponse, "invoke_endpoint", _scoring_invoke_endpoint(original_invoke))

    core.replace(
        FakeEndpoint, "_process_production_variants", lambda self, production_variants: variants(production_variants)
    )
    core.replace(SageMakerResponse, "update_endpoint_weights_and_capacities", update_endpoint_weights_and_capacities)
    # Actions moto 5.2.5 does not implement.
    for function in (
        update_endpoint,
        create_monitoring_schedule,
        describe_monitoring_schedule,
        list_monitoring_executions,
    ):
        core.replace(SageMakerResponse, function.__name__, function, added=True)
    _install_shadow_variants()
    _emitting_model_package_events(SageMakerModelBackend)
    for function in (
        create_inference_component,
        describe_inference_component,
        update_inference_component,
        delete_inference_component,
        list_inference_components,
    ):
        core.replace(SageMakerResponse, function.__name__, function, added=True)
    _install_component_endpoints()
