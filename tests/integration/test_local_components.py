"""SageMaker inference components on the local cloud: creation, DescribeInferenceComponent's answer, updates with and
without a rolling deployment, its silent rollbacks, refusals, and the data plane serving a component."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from sandbox import components
from sandbox.cloud import LocalCloud
from sandbox.components import create_component_endpoint
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.deployments import ROLLBACK_SECONDS
from sandbox.moto_ext import core
from sandbox.scenarios import create_endpoint
from tests.waiting import now, until

ENDPOINT = "churn-shared"
COMPONENT = "churn-ic"
OLD_MODEL = "churn-xgb-v1"
NEW_MODEL = "churn-xgb-v2"
ALARM = "churn-ic-5xx"
RESOURCES = {"NumberOfCpuCoresRequired": 1, "MinMemoryRequiredInMb": 1024}


@dataclass
class Watched:
    """What DescribeInferenceComponent and the data plane's view showed while the update ran, and when (simulated
    seconds since the watch began)."""

    statuses: list[str] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # when each new share was first seen
    ended_after: float = 0.0
    final: dict[str, Any] = field(default_factory=dict)


def describe(sm: Any, name: str = COMPONENT) -> dict[str, Any]:
    return dict(sm.describe_inference_component(InferenceComponentName=name))


def watch(sm: Any, on_share: Any = None, timeout: float = 4 * 3600.0) -> Watched:
    """Follow the component until it is InService again, noting each new status and share of copies on the new
    model (looked at whenever the local cloud is idle, so no phase goes by unseen)."""
    seen, began = Watched(), now()

    def ended() -> bool:
        component = describe(sm)
        share = components.new_share(COMPONENT)
        if not seen.statuses or seen.statuses[-1] != component["InferenceComponentStatus"]:
            seen.statuses.append(component["InferenceComponentStatus"])
        if share is not None and (not seen.shares or seen.shares[-1] != share[1]):
            seen.shares.append(share[1])
            seen.times.append(now() - began)
            if on_share is not None:
                on_share(share[1])
        if component["InferenceComponentStatus"] == "InService" and len(seen.statuses) > 1:
            seen.final, seen.ended_after = component, now() - began
            return True
        return False

    try:
        until(ended, "the update did not end", timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}: {seen}") from None
    return seen


def rolling(
    batch: dict[str, Any] | None = None, wait: int = 300, timeout: int | None = None, alarms: bool = False
) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "MaximumBatchSize": batch or {"Type": "COPY_COUNT", "Value": 1},
        "WaitIntervalInSeconds": wait,
    }
    if timeout is not None:
        policy["MaximumExecutionTimeoutInSeconds"] = timeout
    config: dict[str, Any] = {"RollingUpdatePolicy": policy}
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": ALARM}]}
    return config


def update(sm: Any, deployment_config: dict[str, Any] | None = None, model: str = NEW_MODEL, **more: Any) -> None:
    kwargs: dict[str, Any] = {
        "InferenceComponentName": COMPONENT,
        "Specification": {"ModelName": model, "ComputeResourceRequirements": RESOURCES},
        **more,
    }
    if deployment_config is not None:
        kwargs["DeploymentConfig"] = deployment_config
    sm.update_inference_component(**kwargs)


def create_alarm(cloud: LocalCloud, threshold: float = 0.05) -> None:
    """The component's 5XX rate over a minute, on SageMaker's per-component metric."""
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "InferenceComponentName", "Value": COMPONENT}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def assert_matches_botocore(sm: Any, operation: str, answer: dict[str, Any]) -> None:
    shape = sm.meta.service_model.operation_model(operation).output_shape
    body = {key: value for key, value in answer.items() if key != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.fixture
def sm(cloud: LocalCloud) -> Any:
    """A SageMaker client, and inference component 'churn-ic' on endpoint 'churn-shared': 4 copies of
    churn-xgb-v1, InService; churn-xgb-v2 exists. A component's creation and an update without a DeploymentConfig
    take 120 simulated seconds."""
    create_component_endpoint(cloud, ENDPOINT, COMPONENT, OLD_MODEL, copy_count=4, other_models=(NEW_MODEL,))
    return cloud.client("sagemaker")


# --- creating and describing -------------------------------------------------------------------------------------


def test_component_is_creating_until_its_copies_start_then_in_service(cloud, sm):
    began = now()
    sm.create_inference_component(
        InferenceComponentName="churn-ic-2",
        EndpointName=ENDPOINT,
        Specification={"ModelName": NEW_MODEL, "ComputeResourceRequirements": RESOURCES},
        RuntimeConfig={"CopyCount": 2},
    )  # no VariantName: the endpoint's only variant

    creating = describe(sm, "churn-ic-2")
    in_service = until(
        lambda: (c := describe(sm, "churn-ic-2"))["InferenceComponentStatus"] == "InService" and c,
        "the component never came into service",
    )

    assert creating["InferenceComponentStatus"] == "Creating"
    assert creating["RuntimeConfig"] == {"DesiredCopyCount": 2, "CurrentCopyCount": 0}
    assert now() - began == core.REGISTRY.endpoint_update_seconds
    assert in_service["VariantName"] == "v1"
    assert in_service["RuntimeConfig"] == {"DesiredCopyCount": 2, "CurrentCopyCount": 2}


def test_describe_answers_botocore_output_shape(cloud, sm):
    described = describe(sm)

    assert_matches_botocore(sm, "DescribeInferenceComponent", described)
    arn = f"arn:aws:sagemaker:us-east-1:{core.ACCOUNT}:inference-component/{COMPONENT}"
    assert described["InferenceComponentArn"] == arn
    assert described["EndpointArn"] == sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    assert described["Specification"] == {"ModelName": OLD_MODEL, "ComputeResourceRequirements": RESOURCES}
    assert described["RuntimeConfig"] == {"DesiredCopyCount": 4, "CurrentCopyCount": 4}
    assert "FailureReason" not in described
    assert "LastDeploymentConfig" not in described

    update(sm, rolling())
    assert_matches_botocore(sm, "DescribeInferenceComponent", describe(sm))
    listed = sm.list_inference_components(EndpointNameEquals=ENDPOINT)
    assert_matches_botocore(sm, "ListInferenceComponents", listed)
    assert [(c["InferenceComponentName"], c["InferenceComponentStatus"]) for c in listed["InferenceComponents"]] == [
        (COMPONENT, "Updating")
    ]


def test_list_filters_and_sorts_the_components(cloud, sm):
    create_component_endpoint(cloud, ENDPOINT, "fraud-ic", NEW_MODEL, copy_count=2)

    by_name = sm.list_inference_components(SortBy="Name", SortOrder="Ascending")["InferenceComponents"]
    matching = sm.list_inference_components(NameContains="fraud")["InferenceComponents"]
    paged = sm.list_inference_components(MaxResults=1)

    assert [c["InferenceComponentName"] for c in by_name] == [COMPONENT, "fraud-ic"]
    assert [c["InferenceComponentName"] for c in matching] == ["fraud-ic"]
    assert [c["InferenceComponentName"] for c in paged["InferenceComponents"]] == ["fraud-ic"]  # newest first
    assert (
        sm.list_inference_components(NextToken=paged["NextToken"])["InferenceComponents"][0]["InferenceComponentName"]
        == COMPONENT
    )
    assert sm.list_inference_components(StatusEquals="Updating")["InferenceComponents"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"EndpointName": "no-such-endpoint"}, 'Could not find endpoint "no-such-endpoint"'),
        ({"VariantName": "v2"}, 'Variant "v2" is not a production variant of endpoint'),
        ({"Specification": {"ModelName": "no-such-model"}}, "Could not find model"),
        ({"InferenceComponentName": COMPONENT}, "Cannot create already existing inference component"),
        ({"RuntimeConfig": None}, "RuntimeConfig.CopyCount must be specified"),
    ],
    ids=["unknown-endpoint", "unknown-variant", "unknown-model", "existing", "no-copy-count"],
)
def test_component_sagemaker_refuses_is_not_created(cloud, sm, change, message):
    request: dict[str, Any] = {
        "InferenceComponentName": "churn-ic-2",
        "EndpointName": ENDPOINT,
        "VariantName": "v1",
        "Specification": {"ModelName": NEW_MODEL, "ComputeResourceRequirements": RESOURCES},
        "RuntimeConfig": {"CopyCount": 2},
        **change,
    }
    request = {key: value for key, value in request.items() if value is not None}

    with pytest.raises(ClientError, match=message) as refused:
        sm.create_inference_component(**request)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert [c["InferenceComponentName"] for c in sm.list_inference_components()["InferenceComponents"]] == [COMPONENT]


def test_an_endpoint_whose_variant_serves_a_model_hosts_no_component(cloud, sm):
    create_endpoint(cloud)  # churn-predictor: variant v1 serves churn-xgb-v1

    with pytest.raises(ClientError, match='Variant "v1" of endpoint "churn-predictor" serves model "churn-xgb-v1"'):
        sm.create_inference_component(
            InferenceComponentName="churn-ic-2",
            EndpointName="churn-predictor",
            Specification={"ModelName": NEW_MODEL, "ComputeResourceRequirements": RESOURCES},
            RuntimeConfig={"CopyCount": 1},
        )


# --- updates -------------------------------------------------------------------------------------------------------


def test_update_without_deployment_config_changes_every_copy_at_once(cloud, sm):
    update(sm, RuntimeConfig={"CopyCount": 6})
    updating = describe(sm)
    seen = watch(sm)

    assert (updating["InferenceComponentStatus"], updating["Specification"]["ModelName"]) == ("Updating", OLD_MODEL)
    assert updating["RuntimeConfig"] == {"DesiredCopyCount": 6, "CurrentCopyCount": 4}
    assert seen.statuses == ["Updating", "InService"]
    assert seen.shares == []  # no copies split between two models
    assert seen.ended_after == core.REGISTRY.endpoint_update_seconds
    assert seen.final["Specification"] == {"ModelName": NEW_MODEL, "ComputeResourceRequirements": RESOURCES}
    assert seen.final["RuntimeConfig"] == {"DesiredCopyCount": 6, "CurrentCopyCount": 6}
    assert "LastDeploymentConfig" not in seen.final


def test_rolling_update_moves_the_copies_batch_by_batch_and_lands_on_the_new_model(cloud, sm):
    config = rolling({"Type": "COPY_COUNT", "Value": 1}, wait=300)

    update(sm, config)
    seen = watch(sm)

    # Each batch starts its copy (a quarter of the 120 s an update takes) and bakes 300 s, the last one too
    assert seen.statuses == ["Updating", "InService"]
    assert seen.shares == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert seen.times == [0.0, 30.0, 360.0, 690.0, 1020.0]
    assert seen.ended_after == 1320.0
    assert seen.final["Specification"]["ModelName"] == NEW_MODEL
    assert seen.final["Specification"]["ComputeResourceRequirements"] == RESOURCES
    assert seen.final["LastDeploymentConfig"] == config
    assert "FailureReason" not in seen.final
    assert components.new_share(COMPONENT) is None
    (call,) = [c for c in core.REGISTRY.calls if c["operation"] == "UpdateInferenceComponent"]
    assert (call["component"], call["model"], call["routing"]) == (COMPONENT, NEW_MODEL, "ROLLING")


def test_capacity_percent_batches_are_whole_copies(cloud, sm):
    update(sm, rolling({"Type": "CAPACITY_PERCENT", "Value": 50}, wait=60))

    seen = watch(sm)

    assert seen.shares == [0.0, 0.5, 1.0]
    assert seen.final["Specification"]["ModelName"] == NEW_MODEL


def test_pending_rolling_update_serves_the_new_model_on_its_share_of_copies(cloud, sm):
    update(sm, rolling({"Type": "CAPACITY_PERCENT", "Value": 25}, wait=3600))
    rng = random.Random(3)
    assert components.serving_model(COMPONENT, OLD_MODEL, rng) == OLD_MODEL  # no new copy serves yet

    until(lambda: components.new_share(COMPONENT) == (NEW_MODEL, 0.25), "the first batch never served", 3600)
    served = [components.serving_model(COMPONENT, OLD_MODEL, rng) for _ in range(2000)]
    described = describe(sm)

    assert 0.21 < served.count(NEW_MODEL) / len(served) < 0.29
    assert (described["InferenceComponentStatus"], described["Specification"]["ModelName"]) == ("Updating", OLD_MODEL)
    assert described["LastDeploymentConfig"]["RollingUpdatePolicy"]["WaitIntervalInSeconds"] == 3600
    in_progress = f'Cannot update in-progress inference component "{described["InferenceComponentArn"]}"'
    with pytest.raises(ClientError, match=in_progress):
        update(sm, rolling())


def test_alarm_during_a_bake_rolls_back_silently_to_the_old_model(cloud, sm):
    # Given a rolling update guarded by an alarm on the component's 5XX rate
    create_alarm(cloud)
    cloudwatch = cloud.client("cloudwatch")
    config = rolling(wait=600, alarms=True)
    update(sm, config)

    # When the alarm fires while the first batch bakes
    def fire(share: float) -> None:
        if share == 0.25:
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="5XX")

    seen = watch(sm, on_share=fire)

    # Then every copy returns to the old model at once, and the component is InService on it, saying nothing of why
    assert seen.statuses == ["Updating", "InService"]  # InferenceComponentStatus has no RollingBack
    assert seen.shares == [0.0, 0.25, 0.0]
    assert seen.ended_after == seen.times[-1] + ROLLBACK_SECONDS
    assert seen.final["Specification"]["ModelName"] == OLD_MODEL
    assert seen.final["RuntimeConfig"] == {"DesiredCopyCount": 4, "CurrentCopyCount": 4}
    assert "FailureReason" not in seen.final
    assert seen.final["LastDeploymentConfig"] == config
    assert components.new_share(COMPONENT) is None


def test_rolling_update_past_its_maximum_execution_time_rolls_back(cloud, sm):
    # Four batches of 30 s starts and 300 s bakes take 1,320 s: more than the 600 s allowed
    update(sm, rolling(wait=300, timeout=600))

    seen = watch(sm)

    assert seen.shares == [0.0, 0.25, 0.5, 0.0]
    assert seen.ended_after == 600 + ROLLBACK_SECONDS
    assert seen.final["Specification"]["ModelName"] == OLD_MODEL
    assert "FailureReason" not in seen.final


def test_rolling_update_that_fails_once_its_first_batch_serves_rolls_back_with_a_reason(cloud, sm):
    cloud.inject_fault("UpdateInferenceComponent", "the new copies failed their health checks", when="baking")

    update(sm, rolling())
    seen = watch(sm)

    # The first batch's copy starts (30 s), fails as it serves, and every copy is back on the old model
    assert seen.ended_after == 30 + ROLLBACK_SECONDS
    assert seen.final["Specification"]["ModelName"] == OLD_MODEL
    assert seen.final["FailureReason"] == "the new copies failed their health checks"
    assert_matches_botocore(sm, "DescribeInferenceComponent", seen.final)


def test_update_whose_new_copies_never_start_leaves_the_old_model_with_a_reason(cloud, sm):
    cloud.inject_fault("UpdateInferenceComponent", "the candidate's container failed its health check", when="async")

    update(sm)
    seen = watch(sm)

    assert seen.final["Specification"]["ModelName"] == OLD_MODEL
    assert seen.final["FailureReason"] == "the candidate's container failed its health check"


def test_injected_failure_of_the_call_changes_nothing(cloud, sm):
    cloud.inject_fault("UpdateInferenceComponent", "throttled")

    with pytest.raises(ClientError, match="throttled"):
        update(sm, rolling())

    assert describe(sm)["InferenceComponentStatus"] == "InService"


def test_deleting_the_component_ends_its_update(cloud, sm):
    update(sm, rolling(wait=3600))
    until(lambda: (components.new_share(COMPONENT) or ("", 0.0))[1] > 0, "the first batch never served", 3600)

    sm.delete_inference_component(InferenceComponentName=COMPONENT)

    assert components.new_share(COMPONENT) is None
    assert sm.list_inference_components()["InferenceComponents"] == []
    with pytest.raises(ClientError, match=f'Could not find inference component "{COMPONENT}"'):
        describe(sm)


@pytest.mark.parametrize(
    ("deployment_config", "message"),
    [
        (
            rolling({"Type": "CAPACITY_PERCENT", "Value": 60}),
            r"MaximumBatchSize must be between 5% and 50% of the inference component's copy count \(4\); got 60 "
            "CAPACITY_PERCENT",
        ),
        (rolling({"Type": "COPY_COUNT", "Value": 3}), "MaximumBatchSize must be between 5% and 50%"),
        (
            {
                "RollingUpdatePolicy": {
                    **rolling()["RollingUpdatePolicy"],
                    "RollbackMaximumBatchSize": {"Type": "COPY_COUNT", "Value": 5},
                }
            },
            r"RollbackMaximumBatchSize \(5 COPY_COUNT\) exceeds the inference component's copy count \(4\)",
        ),
        (
            rolling(wait=3601),
            "Value '3601' at 'deploymentConfig.rollingUpdatePolicy.waitIntervalInSeconds' failed to satisfy "
            "constraint: Member must have value less than or equal to 3600",
        ),
        (rolling(timeout=28801), "Member must have value less than or equal to 28800"),
        (rolling(alarms=True), f"The alarm\\(s\\) \\['{ALARM}'\\] in AutoRollbackConfiguration do not exist"),
    ],
    ids=["batch-60-percent", "batch-3-of-4-copies", "rollback-5-of-4", "wait-over-3600", "timeout-over-8h", "no-alarm"],
)
def test_deployment_config_that_sagemaker_refuses_is_refused(cloud, sm, deployment_config, message):
    with pytest.raises(ClientError, match=message) as refused:
        update(sm, deployment_config)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    described = describe(sm)
    assert (described["InferenceComponentStatus"], described["Specification"]["ModelName"]) == ("InService", OLD_MODEL)
    assert "LastDeploymentConfig" not in described
    assert not [c for c in core.REGISTRY.calls if c["operation"] == "UpdateInferenceComponent"]


def test_unknown_component_or_model_is_refused(cloud, sm):
    with pytest.raises(ClientError, match='Could not find inference component "no-such-ic"') as refused:
        sm.update_inference_component(InferenceComponentName="no-such-ic", RuntimeConfig={"CopyCount": 2})
    with pytest.raises(ClientError, match='Could not find inference component "no-such-ic"'):
        describe(sm, "no-such-ic")
    with pytest.raises(ClientError, match="Could not find model"):
        update(sm, rolling(), model="no-such-model")

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert describe(sm)["InferenceComponentStatus"] == "InService"


# --- the data plane ------------------------------------------------------------------------------------------------


def test_data_plane_serves_the_new_models_share_and_its_errors_fire_the_components_alarm(cloud, sm):
    # Given a data plane on the component, a candidate that fails half its requests, and a rolling update guarded by
    # an alarm on the component's own 5XX rate
    create_alarm(cloud)
    behaviours = {OLD_MODEL: ModelBehaviour(error_rate=0.0), NEW_MODEL: ModelBehaviour(error_rate=0.5)}
    served: dict[float | None, list[bool]] = {}  # the share of copies on the new model -> whether each was new's

    def on_request(variant: str, behaviour: ModelBehaviour, at: float, error: bool) -> None:
        share = components.new_share(COMPONENT)
        served.setdefault(share[1] if share else None, []).append(behaviour is behaviours[NEW_MODEL])

    alarms: list[str] = []
    plane = DataPlane(
        cloud,
        ENDPOINT,
        behaviours,
        listener=lambda kind, text: alarms.append(text) if kind == "alarm" else None,
        on_request=on_request,
        component=COMPONENT,
    ).start()
    try:
        update(sm, rolling(wait=1800, alarms=True))

        # When the update runs with traffic
        seen = watch(sm)
        after_rollback = len(served.get(None, []))
        until(lambda: len(served.get(None, [])) > after_rollback + 500, "no traffic after the rollback", 3600)
    finally:
        plane.stop()

    # Then a quarter of the requests went to the new model while one copy of four ran it; its errors fired the
    # alarm on InferenceComponentName, and SageMaker rolled the copies back by itself
    first_batch = served[0.25]
    assert 0.2 < sum(first_batch) / len(first_batch) < 0.3
    assert seen.shares == [0.0, 0.25, 0.0]
    assert seen.final["Specification"]["ModelName"] == OLD_MODEL
    assert "FailureReason" not in seen.final
    assert alarms[0].startswith(f"{ALARM} → ALARM: Threshold Crossed")
    assert not any(served[None][after_rollback:])  # the old model alone serves again
    assert set(plane.sent) == {COMPONENT}
    metrics = cloud.client("cloudwatch").list_metrics(
        Namespace="AWS/SageMaker", Dimensions=[{"Name": "InferenceComponentName", "Value": COMPONENT}]
    )["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"Invocations", "Invocation5XXErrors", "ModelLatency"}
    assert all(m["Dimensions"] == [{"Name": "InferenceComponentName", "Value": COMPONENT}] for m in metrics)
