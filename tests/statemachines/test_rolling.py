"""rolling.asl.json on the local ASL engine with the real handlers, over the local cloud's model of SageMaker's
rolling deployment (sandbox/deployments.py): the fleet moves batch by batch and lands, or SageMaker rolls it back."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from tests.statemachines.helpers import (
    BASELINE,
    ENDPOINT,
    assert_safe_rolled_back,
    endpoint_facts,
    kinds,
    start,
    view,
    wait_until_deployment_bakes,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine

CANDIDATE_MODEL = "churn-xgb-v2"


def rolling_spec(canary_spec: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    """A rolling update of a 4-instance fleet, one instance a batch, 5-minute bakes and a 5-minute watch."""
    canary_spec["candidate"]["initial_instance_count"] = 4
    canary_spec["strategy"] = {
        "type": "rolling",
        "maximum_batch_size": {"type": "instance-count", "value": 1},
        "wait_interval": "5m",
        "watch_after_promotion": "5m",
        **strategy,
    }
    return canary_spec


def serving(cloud: LocalCloud) -> tuple[str, list[tuple[str, str, int]]]:
    config = endpoint_facts(cloud)["EndpointConfigName"]
    variants = cloud.client("sagemaker").describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    return config, [(v["VariantName"], v["ModelName"], v["InitialInstanceCount"]) for v in variants]


def test_the_rolling_update_lands_batch_by_batch_and_is_watched(cloud, endpoint, canary_spec):
    started = start(cloud, rolling_spec(canary_spec))
    rollout_id = started["rollout_id"]
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    config, variants = serving(cloud)
    assert config.endswith(f"{rollout_id}-green")
    assert variants == [(BASELINE, CANDIDATE_MODEL, 4)]
    deployment = endpoint_facts(cloud)["LastDeploymentConfig"]
    assert deployment["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }
    assert deployment["AutoRollbackConfiguration"]["Alarms"][0] == {"AlarmName": f"rollouts-{rollout_id}-abort"}
    prepared = next(d for d in rollout["decisions"] if d["kind"] == "Variants Prepared")
    assert "(rolling, 1 instance(s) of the fleet a batch, 300 s bakes)" in prepared["message"]
    assert kinds(rollout)[-1] == "Rollout Promoted"
    assert store.lock_holder(ENDPOINT) is None


def test_an_alarm_during_a_batchs_bake_rolls_back_natively_and_is_reported(cloud, endpoint, canary_spec):
    started = start(cloud, rolling_spec(canary_spec, wait_interval="1h"))
    rollout_id = started["rollout_id"]
    wait_until_deployment_bakes(cloud)

    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 8 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert serving(cloud)[1] == [(BASELINE, "churn-xgb-v1", 2)]
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert "5XX rate 8 %" in reported["message"]


def test_an_operator_abort_trips_the_abort_switch_and_sagemaker_rolls_back(cloud, endpoint, canary_spec):
    started = start(cloud, rolling_spec(canary_spec, wait_interval="1h"))
    rollout_id = started["rollout_id"]
    wait_until_deployment_bakes(cloud)

    response = cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert any(d["message"].startswith("Abort switch") for d in rollout["decisions"])


def test_a_silent_rollback_at_the_execution_timeout_is_detected(cloud, endpoint, canary_spec):
    # Four batches of an hour's bake outlast a 10-minute execution timeout: SageMaker rolls back, silently
    started = start(cloud, rolling_spec(canary_spec, wait_interval="1h", maximum_execution_timeout="10m"))
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert "with no FailureReason" in reported["message"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"strategy": {"maximum_batch_size": {"type": "capacity-percent", "value": 60}}}, "strategy", "5 to 50 %"),
        (
            {"strategy": {"maximum_batch_size": {"type": "instance-count", "value": 3}}},
            "strategy.maximum_batch_size",
            "1 to 2 instance(s) a batch",
        ),
        (
            {"strategy": {"rollback_maximum_batch_size": {"type": "instance-count", "value": 5}}},
            "strategy.rollback_maximum_batch_size",
            "at most 4",
        ),
        ({"candidate": {"initial_instance_count": 1}}, "candidate.initial_instance_count", "at least 2 instances"),
        ({"candidate": {"variant_name": "v2"}}, "candidate.variant_name", "keeps the variant's name"),
        ({"strategy": {"wait_interval": "2h"}}, "strategy.rolling.wait_interval", ""),
    ],
)
def test_what_sagemaker_would_refuse_is_refused_before_any_change_naming_the_field(
    cloud, endpoint, canary_spec, change, field, words
):
    spec = rolling_spec(canary_spec)
    for section, values in change.items():
        spec[section].update(values)

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert any(d["field"].startswith(field) for d in response.body["details"]), response.body
    assert words in response.body["message"] + str(response.body["details"])
    assert endpoint_facts(cloud)["EndpointConfigName"] == "churn-predictor-v1"


def test_a_multi_variant_endpoint_is_refused_for_a_rolling_update(cloud, canary_spec):
    from sandbox.scenarios import create_endpoint

    create_endpoint(cloud)
    sm = cloud.client("sagemaker")
    variants = [
        {"VariantName": name, "ModelName": "churn-xgb-v1", "InstanceType": "ml.m5.large", "InitialInstanceCount": 2,
         "InitialVariantWeight": 0.5}
        for name in ("v1", "v1b")
    ]  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName="churn-predictor-two", ProductionVariants=variants)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="churn-predictor-two")
    until(
        lambda: endpoint_facts(cloud)["EndpointConfigName"] == "churn-predictor-two"
        and endpoint_facts(cloud)["EndpointStatus"] == "InService",
        "the endpoint never served two variants",
    )
    spec = rolling_spec(canary_spec)
    spec["baseline_variant"] = "v1"

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == ["endpoint_name"]
    assert "exclude multi-variant endpoints" in response.body["message"]
