"""bluegreen.asl.json on the local ASL engine with the real handlers, over the local cloud's model of SageMaker's
own blue/green deployment (sandbox/deployments.py): the deployment lands, or SageMaker rolls it back natively."""

from __future__ import annotations

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from tests.statemachines.helpers import (
    BASELINE,
    ENDPOINT,
    assert_safe_rolled_back,
    blue_green_spec,
    endpoint_facts,
    kinds,
    start,
    view,
    wait_until_deployment_bakes,
    wait_until_watching,
)

pytestmark = pytest.mark.statemachine

CANDIDATE_MODEL = "churn-xgb-v2"


def serving(cloud: LocalCloud) -> tuple[str, list[tuple[str, str]]]:
    """The endpoint's config and its (variant, model) pairs."""
    config = endpoint_facts(cloud)["EndpointConfigName"]
    variants = cloud.client("sagemaker").describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    return config, [(v["VariantName"], v["ModelName"]) for v in variants]


def test_the_deployment_lands_through_sagemakers_guardrails_and_is_watched(cloud, endpoint, canary_spec):
    started = start(cloud, blue_green_spec(canary_spec))
    rollout_id = started["rollout_id"]
    execution = cloud.wait_for_execution(started["execution_arn"])

    # The baseline's variant now runs the candidate's model, on the rollout's config, through SageMaker's canary
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    config, variants = serving(cloud)
    assert config.endswith(f"{rollout_id}-green")
    assert variants == [(BASELINE, CANDIDATE_MODEL)]
    deployment = endpoint_facts(cloud)["LastDeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 300,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
    }
    rollback_alarms = [a["AlarmName"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]]
    assert rollback_alarms == [
        f"rollouts-{rollout_id}-abort",
        f"rollouts-{rollout_id}-5xx-rate",
        f"rollouts-{rollout_id}-latency-p99",
    ]
    assert kinds(rollout)[0] == "Rollout Started"
    assert kinds(rollout)[-1] == "Rollout Promoted"
    landed = next(d for d in rollout["decisions"] if d["kind"] == "Traffic Shifted")
    assert landed["evidence"]["watch_seconds"] == 300
    assert store.lock_holder(ENDPOINT) is None
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"rollouts-{rollout_id}")
    assert alarms["MetricAlarms"] == []


def test_an_alarm_during_sagemakers_bake_rolls_back_natively_and_is_reported(cloud, endpoint, canary_spec):
    # Given a deployment baking its canary for an hour (3.6 s here)
    started = start(cloud, blue_green_spec(canary_spec, wait_interval="1h"))
    rollout_id = started["rollout_id"]
    wait_until_deployment_bakes(cloud)

    # When the candidate's 5XX alarm fires
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 8 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then SageMaker rolled back by itself, the rollout saw it, and everything is as it was
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert serving(cloud)[1] == [(BASELINE, "churn-xgb-v1")]
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert "5XX rate 8 %" in reported["message"]
    assert rollout["reason"].startswith("DeploymentRolledBackError")


def test_an_operator_abort_trips_the_abort_switch_and_sagemaker_rolls_back(cloud, endpoint, canary_spec):
    started = start(cloud, blue_green_spec(canary_spec, wait_interval="1h"))
    rollout_id = started["rollout_id"]
    wait_until_deployment_bakes(cloud)

    response = cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    tripped = [d for d in rollout["decisions"] if d["message"].startswith("Abort switch")]
    assert len(tripped) == 1
    assert "wrong model" in tripped[0]["message"]
    assert "wrong model" in next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")["message"]


def test_a_rollback_sagemaker_does_not_announce_is_detected(cloud, endpoint, canary_spec):
    # Given a deployment whose bakes outlast its execution timeout: SageMaker rolls back, silently
    started = start(
        cloud, blue_green_spec(canary_spec, wait_interval="1h", termination_wait="1h", maximum_execution_timeout="10m")
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the rollout compares the configs, reports the rollback, and ends rolled back
    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert "with no FailureReason" in reported["message"]
    assert reported["evidence"]["endpoint_config"] == "churn-predictor-v1"


def test_a_breach_in_the_watch_after_promotion_brings_the_old_model_back(cloud, endpoint, canary_spec):
    # Given a deployment that landed, watched for 12 hours (43 s here: the alarm comes long before the end)
    started = start(cloud, blue_green_spec(canary_spec, watch_after_promotion="12h"))
    rollout_id = started["rollout_id"]
    wait_until_watching(rollout_id)
    assert serving(cloud)[1] == [(BASELINE, CANDIDATE_MODEL)]

    # When the 5XX alarm fires
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 6 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the old config is back, without waiting for the watch to end
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert serving(cloud)[1] == [(BASELINE, "churn-xgb-v1")]
    assert "5XX rate 6 %" in rollout["reason"]


@pytest.mark.parametrize("when", ["call", "async", "baking"])
def test_a_failing_update_endpoint_ends_in_a_safe_state(cloud, endpoint, canary_spec, when):
    cloud.inject_fault("UpdateEndpoint", "capacity error", when=when)
    started = start(cloud, blue_green_spec(canary_spec))

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"candidate": {"instance_type": "ml.inf1.xlarge"}}, "candidate.instance_type", "Inf1"),
        ({"candidate": {"variant_name": "green"}}, "candidate.variant_name", "keeps the variant's name"),
        ({"strategy": {"canary_size": {"value": 60}}}, "strategy.blue-green", "at most 50 %"),
        ({"strategy": {"wait_interval": "2h"}}, "strategy.blue-green.wait_interval", "less than or equal to 3600"),
        ({"strategy": {"wait_interval": "0.5s"}}, "strategy.blue-green.wait_interval", "at least 1 s"),
        ({"guardrails": {"alarms": [f"alarm-{i}" for i in range(8)]}}, "guardrails.alarms", "at most 10 alarms"),
        ({"guardrails": {"alarms": ["no-such-alarm"]}}, "guardrails.alarms", "no-such-alarm"),
    ],
)
def test_a_config_sagemaker_would_refuse_or_deploy_unguarded_is_refused_before_any_change(
    cloud, endpoint, canary_spec, change, field, words
):
    cloud_watch = cloud.client("cloudwatch")
    for i in range(8):
        cloud_watch.put_metric_alarm(
            AlarmName=f"alarm-{i}",
            MetricName="m",
            Namespace="n",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    spec = blue_green_spec(canary_spec)
    for key, values in change.items():
        spec[key] = {**spec[key], **values}

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert any(d["field"].startswith(field) for d in response.body["details"]), response.body
    assert words in response.body["message"]
    assert store.lock_holder(ENDPOINT) is None
    assert serving(cloud) == ("churn-predictor-v1", [(BASELINE, "churn-xgb-v1")])
    machines = cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    for machine in machines:
        assert (
            cloud.client("stepfunctions").list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
            == []
        )


@pytest.mark.parametrize("operation", ["CreateEndpointConfig", "PutMetricAlarm"])
def test_a_failing_call_before_the_deployment_ends_in_a_safe_state(cloud, endpoint, canary_spec, operation):
    cloud.inject_fault(operation, f"Rate exceeded ({operation})")
    started = start(cloud, blue_green_spec(canary_spec))

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert f"Rate exceeded ({operation})" in rollout["reason"]
    assert serving(cloud)[1] == [(BASELINE, "churn-xgb-v1")]


def test_an_abort_whose_switch_cannot_be_set_still_ends_on_the_old_model(cloud, endpoint, canary_spec):
    # Given a deployment baking, and CloudWatch refusing the next SetAlarmState
    started = start(cloud, blue_green_spec(canary_spec, wait_interval="2m"))
    rollout_id = started["rollout_id"]
    wait_until_deployment_bakes(cloud)
    cloud.inject_fault("SetAlarmState", "Rate exceeded")

    # When an operator aborts
    response = cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the abort is accepted and kept: once SageMaker's deployment ends, the old config comes back
    assert response.status == 202
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert serving(cloud)[1] == [(BASELINE, "churn-xgb-v1")]
    refused = next(d for d in rollout["decisions"] if "could not be set to ALARM" in d["message"])
    assert "SetAlarmState" in refused["message"] and "Rate exceeded" in refused["message"]  # what CloudWatch said
    assert "wrong model" in rollout["reason"]
