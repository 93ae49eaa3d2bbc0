"""SageMaker's blue/green deployment with guardrails on the local cloud: traffic steps, bakes, silent rollbacks,
refusals and the deployment events, as the blue/green state machine will see them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import deployments
from sandbox.cloud import LocalCloud
from sandbox.moto_ext import core
from tests.waiting import until

ENDPOINT = "churn-predictor"
OLD_CONFIG = "churn-predictor-v1"
NEW_CONFIG = "churn-predictor-v2"
ALARM = "churn-predictor-v1-5xx"
EVENT_TYPES = [deployments.DEPLOYMENT_EVENT, "SageMaker Endpoint State Change"]


@dataclass
class Watched:
    """What DescribeEndpoint and the data plane's hook showed while the deployment ran."""

    statuses: list[str] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


def new_config(cloud: LocalCloud, variant: str = "v1", name: str = NEW_CONFIG) -> str:
    cloud.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": "churn-xgb-v2",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    return name


def create_alarm(cloud: LocalCloud) -> None:
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "v1"}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def blue_green(
    routing: dict[str, Any], termination_wait: int = 300, timeout: int | None = None, alarms: bool = False
) -> dict[str, Any]:
    policy: dict[str, Any] = {"TrafficRoutingConfiguration": routing, "TerminationWaitInSeconds": termination_wait}
    if timeout is not None:
        policy["MaximumExecutionTimeoutInSeconds"] = timeout
    config: dict[str, Any] = {"BlueGreenUpdatePolicy": policy}
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": ALARM}]}
    return config


def record_events(cloud: LocalCloud) -> str:
    """A queue that receives SageMaker's endpoint events from the default bus, as a rule on AWS would deliver them."""
    sqs, events = cloud.client("sqs"), cloud.client("events")
    url = sqs.create_queue(QueueName="sagemaker-endpoint-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="sagemaker-endpoint-events",
        EventPattern=json.dumps({"source": ["aws.sagemaker"], "detail-type": EVENT_TYPES}),
    )
    events.put_targets(Rule="sagemaker-endpoint-events", Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def received(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    sqs, found = cloud.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages]
        )
    return found


def variant_statuses(events: list[dict[str, Any]]) -> list[str | None]:
    """Each deployment event's green variant status, None once no deployment is pending."""
    result: list[str | None] = []
    for event in events:
        if event["detail-type"] != deployments.DEPLOYMENT_EVENT:
            continue
        pending = event["detail"].get("PendingDeploymentSummary")
        result.append(pending["ProductionVariants"][0]["VariantStatus"][0]["Status"] if pending else None)
    return result


def watch(sm: Any, on_share: Any = None, timeout: float = 2 * 3600.0) -> Watched:
    """Follow the endpoint until it is InService again, noting each new status and green share as they come (looked
    at whenever the local cloud is idle, so no phase goes by unseen). The deployments here take at most 45 simulated
    minutes: `timeout` (simulated seconds) is well past that."""
    seen = Watched()

    def ended() -> bool:
        endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
        green = deployments.green_share(ENDPOINT, "v1")
        if not seen.statuses or seen.statuses[-1] != endpoint["EndpointStatus"]:
            seen.statuses.append(endpoint["EndpointStatus"])
        if green is not None and (not seen.shares or seen.shares[-1] != green[1]):
            seen.shares.append(green[1])
            if on_share is not None:
                on_share(green[1])
        if endpoint["EndpointStatus"] == "InService" and len(seen.statuses) > 1:
            seen.final = endpoint
            return True
        return False

    try:
        until(ended, "the deployment did not end", timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}: {seen}") from None
    return seen


@pytest.fixture
def sm(cloud: LocalCloud, endpoint: str) -> Any:
    """A SageMaker client made before the test begins (making one takes a while), and a green fleet that takes
    1,500 simulated seconds to start, so that the phase before the canary lasts as a real one does."""
    core.REGISTRY.endpoint_update_seconds = 1500
    return cloud.client("sagemaker")


def test_all_at_once_deployment_ends_in_service_on_the_new_config(cloud, sm):
    config = blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0})

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=config)
    seen = watch(sm)

    assert seen.statuses == ["Updating", "InService"]
    assert seen.shares == [0.0, 1.0]
    assert seen.final["EndpointConfigName"] == NEW_CONFIG
    assert seen.final["LastDeploymentConfig"] == config
    assert "PendingDeploymentSummary" not in seen.final
    assert "FailureReason" not in seen.final
    assert deployments.green_share(ENDPOINT, "v1") is None


def test_pending_deployment_is_described_with_the_green_fleet_and_its_status(cloud, sm):
    routing = {"Type": "CANARY", "WaitIntervalInSeconds": 3600, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}
    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=blue_green(routing)
    )

    # The green fleet starts in 1,500 simulated seconds, then takes its canary share
    until(
        lambda: (deployments.green_share(ENDPOINT, "v1") or ("", 0.0))[1] > 0.0,
        "green took no traffic",
        timeout=3600,
    )
    described = sm.describe_endpoint(EndpointName=ENDPOINT)

    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == OLD_CONFIG  # blue serves under the old config until the end
    pending = described["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == NEW_CONFIG
    variant = pending["ProductionVariants"][0]
    assert (variant["VariantName"], variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == ("v1", 1, 2)
    assert variant["VariantStatus"][0]["Status"] == "Baking"
    assert variant["VariantStatus"][0]["StatusMessage"] == (
        "Baking for 3600 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity of 1 instance(s)."
    )
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        sm.update_endpoint_weights_and_capacities(
            EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "v1", "DesiredWeight": 0.5}]
        )


def test_canary_shifts_its_share_bakes_then_shifts_the_rest_with_events_in_order(cloud, sm):
    queue = record_events(cloud)
    routing = {"Type": "CANARY", "WaitIntervalInSeconds": 300, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}

    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=blue_green(routing)
    )
    seen = watch(sm)

    assert seen.shares == [0.0, 0.5, 1.0]
    assert seen.final["EndpointConfigName"] == NEW_CONFIG
    events = received(cloud, queue)
    assert variant_statuses(events) == ["Creating", "ActivatingTraffic", "Baking", "ActivatingTraffic", "Baking", None]
    bakes = [
        e["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0]["StatusMessage"]
        for e in events
        if "Baking" in json.dumps(e["detail"].get("PendingDeploymentSummary", {}))
    ]
    assert "(WaitIntervalInSeconds) with traffic enabled on canary capacity of 1 instance(s)" in bakes[0]
    assert "(TerminationWaitInSeconds) with traffic enabled on full capacity of 2 instance(s)" in bakes[1]
    endpoint_states = [e["detail"]["EndpointStatus"] for e in events if e["detail-type"] == EVENT_TYPES[1]]
    assert endpoint_states == ["UPDATING", "IN_SERVICE"]
    first, last = events[1]["detail"], events[-2]["detail"]
    assert (first["EndpointConfigName"], first["EndpointStatus"]) == (OLD_CONFIG, "UPDATING")
    assert first["PendingDeploymentSummary"]["EndpointConfigName"] == NEW_CONFIG
    assert isinstance(first["PendingDeploymentSummary"]["StartTime"], int)  # epoch milliseconds, as documented
    assert (last["EndpointConfigName"], last["EndpointStatus"]) == (NEW_CONFIG, "IN_SERVICE")
    assert all(e["source"] == "aws.sagemaker" and e["resources"] == [seen.final["EndpointArn"]] for e in events)


def test_linear_shifts_in_equal_steps_with_a_bake_between_them(cloud, sm):
    queue = record_events(cloud)
    step = {"Type": "CAPACITY_PERCENT", "Value": 25}

    sm.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=new_config(cloud),
        DeploymentConfig=blue_green({"Type": "LINEAR", "WaitIntervalInSeconds": 300, "LinearStepSize": step}),
    )
    seen = watch(sm)

    assert seen.shares == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert variant_statuses(received(cloud, queue)) == [
        "Creating",
        *["ActivatingTraffic", "Baking"] * 4,  # three WaitIntervalInSeconds bakes, then TerminationWaitInSeconds
        None,
    ]
    assert seen.final["EndpointConfigName"] == NEW_CONFIG


def test_green_share_splits_the_variant_traffic_between_the_two_models(cloud, sm):
    routing = {"Type": "CANARY", "WaitIntervalInSeconds": 3600, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 20}}
    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=blue_green(routing)
    )
    rng = random.Random(3)
    assert deployments.serving_model(ENDPOINT, "v1", "churn-xgb-v1", rng) == "churn-xgb-v1"  # green not serving yet

    until(
        lambda: deployments.green_share(ENDPOINT, "v1") == ("churn-xgb-v2", 0.2),
        "green did not take its canary share",
        timeout=3600,
    )
    served = [deployments.serving_model(ENDPOINT, "v1", "churn-xgb-v1", rng) for _ in range(2000)]

    assert 0.16 < served.count("churn-xgb-v2") / len(served) < 0.24
    assert deployments.green_share(ENDPOINT, "v2") is None  # a variant the endpoint does not have


def test_alarm_during_a_bake_rolls_back_silently_to_the_old_config(cloud, sm):
    # Given a canary guarded by an alarm on the variant's 5XX rate
    create_alarm(cloud)
    queue = record_events(cloud)
    cloudwatch = cloud.client("cloudwatch")
    routing = {"Type": "CANARY", "WaitIntervalInSeconds": 3600, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}
    sm.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=new_config(cloud),
        DeploymentConfig=blue_green(routing, alarms=True),
    )

    # When the alarm fires while the canary bakes
    def fire(share: float) -> None:
        if share == 0.5:
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="5XX")

    seen = watch(sm, on_share=fire)

    # Then all traffic returns to blue and the endpoint is InService on the old config, saying nothing of why
    assert seen.statuses == ["Updating", "RollingBack", "InService"]
    assert seen.shares == [0.0, 0.5, 0.0]  # traffic back on blue while green is terminated
    assert seen.final["EndpointConfigName"] == OLD_CONFIG
    assert "FailureReason" not in seen.final
    assert "PendingDeploymentSummary" not in seen.final
    assert seen.final["ProductionVariants"][0]["VariantName"] == "v1"
    assert deployments.green_share(ENDPOINT, "v1") is None
    events = received(cloud, queue)
    assert variant_statuses(events)[-2:] == ["Deleting", None]
    endpoint_states = [e["detail"]["EndpointStatus"] for e in events if e["detail-type"] == EVENT_TYPES[1]]
    assert endpoint_states == ["UPDATING", "ROLLING_BACK", "IN_SERVICE"]


def test_deployment_past_its_maximum_execution_time_rolls_back(cloud, sm):
    # Given ten linear steps, nine bakes of 59 s between them: under the 600 s allowed, but not with the 400 s the
    # green fleet takes to start
    core.REGISTRY.endpoint_update_seconds = 400
    step = {"Type": "CAPACITY_PERCENT", "Value": 10}
    sm.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=new_config(cloud),
        DeploymentConfig=blue_green(
            {"Type": "LINEAR", "WaitIntervalInSeconds": 59, "LinearStepSize": step}, termination_wait=0, timeout=600
        ),
    )

    seen = watch(sm)

    assert seen.statuses == ["Updating", "RollingBack", "InService"]
    assert 0.0 < max(seen.shares) < 1.0
    assert seen.final["EndpointConfigName"] == OLD_CONFIG
    assert "FailureReason" not in seen.final


def test_deployment_that_fails_once_green_serves_rolls_back_with_a_reason(cloud, sm):
    cloud.inject_fault("UpdateEndpoint", "green instances failed their health checks", when="baking")
    routing = {"Type": "CANARY", "WaitIntervalInSeconds": 300, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}

    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=blue_green(routing)
    )
    seen = watch(sm)

    assert seen.statuses == ["Updating", "RollingBack", "InService"]
    assert seen.final["EndpointConfigName"] == OLD_CONFIG
    assert seen.final["FailureReason"] == "green instances failed their health checks"


def test_green_fleet_that_never_starts_leaves_blue_serving_with_a_reason(cloud, sm):
    cloud.inject_fault("UpdateEndpoint", "the candidate's container failed its health check", when="async")

    sm.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=new_config(cloud),
        DeploymentConfig=blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
    )
    seen = watch(sm)

    assert seen.statuses == ["Updating", "InService"]
    assert seen.shares == [0.0]
    assert seen.final["EndpointConfigName"] == OLD_CONFIG
    assert seen.final["FailureReason"] == "the candidate's container failed its health check"


def test_retained_deployment_config_is_used_again(cloud, sm):
    config = blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0})
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=config)
    watch(sm)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=OLD_CONFIG, RetainDeploymentConfig=True)
    seen = watch(sm)

    assert seen.shares == [0.0, 1.0]  # a blue/green deployment again, not the plain update
    assert seen.final["EndpointConfigName"] == OLD_CONFIG
    assert seen.final["LastDeploymentConfig"] == config


def test_update_without_deployment_config_still_changes_variants_at_once(cloud, sm):
    sm.update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud, variant="v2", name="churn-predictor-v2-only")
    )

    seen = watch(sm)

    assert seen.shares == []  # no traffic shifting: SageMaker's default update
    assert seen.final["EndpointConfigName"] == "churn-predictor-v2-only"
    assert [v["VariantName"] for v in seen.final["ProductionVariants"]] == ["v2"]


@pytest.mark.parametrize(
    ("deployment_config", "message"),
    [
        (
            blue_green({"Type": "CANARY", "WaitIntervalInSeconds": 60}),
            "CanarySize must be specified for traffic routing configuration type CANARY",
        ),
        (
            blue_green(
                {"Type": "CANARY", "WaitIntervalInSeconds": 60, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 2}}
            ),
            "CanarySize value must be less than or equal to 50% of the variant's total instance count",
        ),
        (
            blue_green(
                {
                    "Type": "LINEAR",
                    "WaitIntervalInSeconds": 60,
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 5},
                }
            ),
            "LinearStepSize value must be between 10% and 50% of the variant's total instance count",
        ),
        (
            blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 3601}),
            "Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds'"
            " failed to satisfy constraint: Member must have value less than or equal to 3600",
        ),
        (
            blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, termination_wait=3601, timeout=28801),
            "2 validation errors detected",
        ),
        (
            {
                **blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"alarm-{i}"} for i in range(11)]},
            },
            "Member must have length less than or equal to 10",
        ),
        (
            blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, alarms=True),
            f"The alarm\\(s\\) \\['{ALARM}'\\] in AutoRollbackConfiguration do not exist",
        ),
    ],
    ids=[
        "canary-without-size",
        "canary-over-half",
        "linear-under-10",
        "wait-over-3600",
        "two-maxima",
        "11-alarms",
        "no-alarm",
    ],
)
def test_deployment_config_that_sagemaker_refuses_is_refused(cloud, sm, deployment_config, message):
    with pytest.raises(ClientError, match=message) as refused:
        sm.update_endpoint(
            EndpointName=ENDPOINT, EndpointConfigName=new_config(cloud), DeploymentConfig=deployment_config
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    described = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", OLD_CONFIG)
    assert "PendingDeploymentSummary" not in described


def test_new_config_with_another_variant_name_is_refused(cloud, sm):
    with pytest.raises(ClientError, match="must keep the endpoint's variant names") as refused:
        sm.update_endpoint(
            EndpointName=ENDPOINT,
            EndpointConfigName=new_config(cloud, variant="candidate"),
            DeploymentConfig=blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService"
    assert not [c for c in core.REGISTRY.calls if c["operation"] == "UpdateEndpoint"]
