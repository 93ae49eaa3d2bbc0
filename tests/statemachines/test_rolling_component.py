"""rolling.asl.json updating a model hosted as an inference component, on the local ASL engine with the real
handlers, over the local cloud's model of UpdateInferenceComponent's rolling deployment (sandbox/components.py):
the component's copies move batch by batch and land, or SageMaker rolls them back."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from sandbox.components import create_component_endpoint
from sandbox.rolling_component_demo import COMPONENT, ENDPOINT
from sandbox.rolling_component_demo import component_spec as demo_spec
from tests.statemachines.helpers import kinds, start, view
from tests.waiting import until

pytestmark = pytest.mark.statemachine

BASELINE_MODEL = "churn-xgb-v1"
CANDIDATE_MODEL = "churn-xgb-v2"


@pytest.fixture
def component(cloud: LocalCloud) -> str:
    """Inference component 'churn-ic' on endpoint 'churn-shared', 4 copies of churn-xgb-v1; churn-xgb-v2 exists."""
    create_component_endpoint(cloud, ENDPOINT, COMPONENT, BASELINE_MODEL, copy_count=4, other_models=(CANDIDATE_MODEL,))
    return COMPONENT


def component_spec(**strategy: Any) -> dict[str, Any]:
    """The demo's rolling update of the component's 4 copies (one a batch, a 2 % 5XX rule on the component's
    metrics) with 5-minute bakes and a 5-minute watch."""
    body = demo_spec()
    body["strategy"].update({"wait_interval": "5m", "watch_after_promotion": "5m"})
    body["strategy"].pop("maximum_execution_timeout")
    body["strategy"].update(strategy)
    return body


def described(cloud: LocalCloud) -> dict[str, Any]:
    return dict(cloud.client("sagemaker").describe_inference_component(InferenceComponentName=COMPONENT))


def model_of(cloud: LocalCloud) -> str:
    return str(described(cloud)["Specification"]["ModelName"])


def wait_until_updating(cloud: LocalCloud) -> None:
    until(lambda: described(cloud)["InferenceComponentStatus"] == "Updating", "the component never began updating")


def assert_component_rolled_back(cloud: LocalCloud, rollout: dict[str, Any]) -> None:
    """The baseline's model on every copy, in service; lock free, the rollout's alarms gone, the log complete."""
    facts = described(cloud)
    assert facts["InferenceComponentStatus"] == "InService"
    assert facts["Specification"]["ModelName"] == BASELINE_MODEL
    assert rollout["status"] == "RolledBack"
    assert store.lock_holder(f"{ENDPOINT}/{COMPONENT}") is None
    log = kinds(rollout)
    assert log[0] == "Rollout Started"
    assert "Rollback Started" in log
    assert log[-1] == "Rollout Rolled Back"
    assert f"serves baseline model '{BASELINE_MODEL}'" in rollout["decisions"][-1]["message"]
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"rollouts-{rollout['rollout_id']}")
    assert alarms["MetricAlarms"] == []


def test_the_components_copies_move_batch_by_batch_and_the_promotion_is_checked(cloud, component):
    started = start(cloud, component_spec())
    rollout_id = started["rollout_id"]
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert (rollout["inference_component_name"], rollout["weights"]) == (COMPONENT, {"v1": 100.0})
    facts = described(cloud)
    assert (facts["InferenceComponentStatus"], facts["Specification"]["ModelName"]) == ("InService", CANDIDATE_MODEL)
    # The component keeps its resources: only the model changed
    assert facts["Specification"]["ComputeResourceRequirements"]["MinMemoryRequiredInMb"] == 1024
    assert facts["LastDeploymentConfig"]["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {"Type": "COPY_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }
    alarms = [a["AlarmName"] for a in facts["LastDeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]]
    assert alarms == [f"rollouts-{rollout_id}-abort", f"rollouts-{rollout_id}-5xx-rate"]
    prepared = next(d for d in rollout["decisions"] if d["kind"] == "Variants Prepared")
    assert f"to inference component '{COMPONENT}' (rolling, 1 of the component's copies a batch" in prepared["message"]
    assert kinds(rollout)[-1] == "Rollout Promoted"
    assert store.lock_holder(f"{ENDPOINT}/{COMPONENT}") is None
    # No event ends a component's wait: the task failed with ComponentUpdatingError while the copies moved, and the
    # state machine looked again a minute later until the component settled
    history = cloud.history(started["execution_arn"])
    looks = [e for e in history if "ComponentUpdatingError" in str(e.get("taskFailedEventDetails", {}))]
    assert len(looks) >= 4, len(looks)
    entered = cloud.states_entered(started["execution_arn"])
    assert entered.count("Check Deployment") == 1
    assert "Watch After Promotion" in entered


def test_the_rule_alarm_watches_the_components_own_metrics(cloud, component):
    started = start(cloud, component_spec(wait_interval="1h"))
    wait_until_updating(cloud)

    alarm = cloud.client("cloudwatch").describe_alarms(AlarmNames=[f"rollouts-{started['rollout_id']}-5xx-rate"])
    (rule,) = alarm["MetricAlarms"]
    assert rule["Namespace"] == "AWS/SageMaker"
    assert rule["Dimensions"] == [{"Name": "InferenceComponentName", "Value": COMPONENT}]
    cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort", {"reason": "test over"})
    cloud.wait_for_execution(started["execution_arn"])


def test_an_alarm_during_a_batchs_bake_rolls_back_natively_and_the_silent_rollback_is_reported(cloud, component):
    started = start(cloud, component_spec(wait_interval="1h"))
    rollout_id = started["rollout_id"]
    wait_until_updating(cloud)

    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 8 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_component_rolled_back(cloud, rollout)
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert f"inference component '{COMPONENT}' is InService on model '{BASELINE_MODEL}'" in reported["message"]
    assert "with no FailureReason" in reported["message"]
    assert "5XX rate 8 %" in reported["message"]


def test_an_operator_abort_trips_the_abort_switch_and_sagemaker_rolls_the_copies_back(cloud, component):
    started = start(cloud, component_spec(wait_interval="1h"))
    rollout_id = started["rollout_id"]
    wait_until_updating(cloud)

    response = cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_component_rolled_back(cloud, rollout)
    assert any(d["message"].startswith("Abort switch") for d in rollout["decisions"])


def test_a_breach_in_the_watch_after_promotion_puts_the_old_model_back(cloud, component):
    started = start(cloud, component_spec(watch_after_promotion="1h"))
    rollout_id = started["rollout_id"]
    until(lambda: "Traffic Shifted" in kinds(view(cloud, rollout_id)), "the deployment never landed")
    assert model_of(cloud) == CANDIDATE_MODEL

    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 6 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_component_rolled_back(cloud, rollout)
    started_back = next(d for d in rollout["decisions"] if d["kind"] == "Rollback Started")
    assert f"restoring model '{BASELINE_MODEL}' on inference component '{COMPONENT}'" in started_back["message"]


def test_a_silent_rollback_at_the_execution_timeout_is_detected(cloud, component):
    # Four batches of an hour's bake outlast a 10-minute execution timeout: SageMaker rolls back, silently
    started = start(cloud, component_spec(wait_interval="1h", maximum_execution_timeout="10m"))
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_component_rolled_back(cloud, rollout)
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert "execution timeout" in reported["message"]


@pytest.mark.parametrize(
    ("spec_change", "field", "words"),
    [
        ({"inference_component_name": "no-such-ic"}, "inference_component_name", "no inference component"),
        ({"endpoint_name": "churn-other"}, "endpoint_name", "no endpoint named"),
        ({"candidate": {"model_name": BASELINE_MODEL}}, "candidate.model_name", "already"),
        ({"strategy": {"maximum_batch_size": {"type": "copy-count", "value": 3}}}, "strategy.maximum_batch_size",
         "1 to 2 copy(ies) a batch"),
        ({"strategy": {"maximum_batch_size": {"type": "instance-count", "value": 1}}},
         "strategy.maximum_batch_size.type", "moves copies"),
        ({"strategy": {"rollback_maximum_batch_size": {"type": "copy-count", "value": 5}}},
         "strategy.rollback_maximum_batch_size", "at most 4"),
    ],
)  # fmt: skip
def test_what_sagemaker_would_refuse_is_refused_before_any_change_naming_the_field(
    cloud, component, spec_change, field, words
):
    body = component_spec()
    for key, value in spec_change.items():
        if isinstance(value, dict) and key == "strategy":
            body["strategy"].update(value)
        else:
            body[key] = value

    response = cloud.api("POST", "/rollouts", body)

    assert response.status == 400, response.body
    assert any(d["field"].startswith(field) for d in response.body["details"]), response.body
    assert words in response.body["message"] + str(response.body["details"])
    assert (described(cloud)["InferenceComponentStatus"], model_of(cloud)) == ("InService", BASELINE_MODEL)


def test_a_hook_after_promotion_can_smoke_test_the_component_it_is_told_of(cloud, component):
    events: list[dict[str, Any]] = []

    def smoke_test(event: dict[str, Any], context: Any) -> dict[str, str]:
        events.append(event)
        served = cloud.client("sagemaker").describe_inference_component(
            InferenceComponentName=event["inference_component_name"]
        )["Specification"]["ModelName"]
        ok = served == event["candidate"]["model_name"]
        return {"status": "pass" if ok else "fail", "message": f"component serves {served}"}

    cloud.add_function("rollout-hook-component-smoke", smoke_test)
    body = component_spec()
    body["hooks"] = {"after_promotion": [{"function": "rollout-hook-component-smoke"}]}
    started = start(cloud, body)
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    (event,) = events
    assert event["inference_component_name"] == COMPONENT
    assert event["candidate"] == {"model_name": CANDIDATE_MODEL, "variant_name": "v1"}
    called = [d["message"] for d in view(cloud, started["rollout_id"])["decisions"] if d["kind"] == "Hook Called"]
    assert called == [
        f"Hook 'rollout-hook-component-smoke' (after_promotion) passed: component serves {CANDIDATE_MODEL}"
    ]


def test_a_variant_rollout_on_an_endpoint_of_components_is_refused_naming_the_component_field(cloud, component):
    body = component_spec()
    del body["inference_component_name"]
    body["candidate"]["instance_type"] = "ml.g5.2xlarge"
    body["strategy"] = {"type": "canary", "steps": [{"weight": 10, "bake": "5m"}]}

    response = cloud.api("POST", "/rollouts", body)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == ["inference_component_name"]
    assert "hosts inference components" in response.body["message"]
    assert (described(cloud)["InferenceComponentStatus"], model_of(cloud)) == ("InService", BASELINE_MODEL)


def test_two_components_of_one_endpoint_roll_out_side_by_side_but_one_component_takes_one_rollout(cloud, component):
    create_component_endpoint(cloud, ENDPOINT, "churn-ic-eu", BASELINE_MODEL, copy_count=4)
    first = start(cloud, component_spec())
    second = start(cloud, {**component_spec(), "inference_component_name": "churn-ic-eu"})

    again = cloud.api("POST", "/rollouts", component_spec())

    assert again.status == 409, again.body
    assert again.body["details"] == [{"active_rollout_id": first["rollout_id"]}]
    assert f"inference component '{ENDPOINT}/{COMPONENT}'" in again.body["message"]
    ends = [cloud.wait_for_execution(started["execution_arn"])["status"] for started in (first, second)]
    assert ends == ["SUCCEEDED", "SUCCEEDED"]
    sm = cloud.client("sagemaker")
    served = [
        sm.describe_inference_component(InferenceComponentName=name)["Specification"]["ModelName"]
        for name in (COMPONENT, "churn-ic-eu")
    ]
    assert served == [CANDIDATE_MODEL, CANDIDATE_MODEL]
    assert store.lock_holder(f"{ENDPOINT}/churn-ic-eu") is None
