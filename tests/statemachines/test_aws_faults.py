"""AWS errors on the control plane's own calls (`LocalCloud.inject_aws_fault`): a throttle is retried, a refusal
rolls back safe, and a bus that refuses an event neither changes a rollout's course nor loses the event."""

from __future__ import annotations

import time

import pytest

from rollouts.aws import bus, store
from rollouts.models.rollout import Decision, DecisionKind
from sandbox.moto_ext import core
from tests.statemachines.helpers import (
    CANDIDATE,
    ENDPOINT,
    assert_safe_rolled_back,
    endpoint_weights,
    fire_alarm,
    kinds,
    start,
    subscribe,
    view,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine

AWS_RETRIES = 6  # statemachines/build.py AWS_RETRY: a task's call is tried 7 times in all


def test_a_throttled_weights_call_is_retried_and_the_canary_goes_on(cloud, endpoint, canary_spec):
    cloud.inject_aws_fault("UpdateEndpointWeightsAndCapacities", "ThrottlingException", times=2)
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == "Promoted"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    assert kinds(rollout).count("Traffic Shifted") == 3  # each step once, whatever the retries


@pytest.mark.parametrize(
    ("code", "times", "error"),
    [
        ("ThrottlingException", AWS_RETRIES + 1, "AwsRetryableError"),  # outlasts the retries
        ("AccessDeniedException", 1, "AwsPermanentError"),  # not retried
    ],
)
def test_a_weights_call_that_keeps_failing_rolls_back_safe(cloud, endpoint, canary_spec, code, times, error):
    cloud.inject_aws_fault("UpdateEndpointWeightsAndCapacities", code, times=times)
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert error in rollout["reason"] and code in rollout["reason"]


def test_a_bus_that_refuses_events_changes_nothing_and_every_event_arrives_once(cloud, endpoint, canary_spec):
    # Given EventBridge throttling the first three publishes, "Rollout Started" among them
    received = subscribe(cloud)
    cloud.inject_aws_fault("PutEvents", "ThrottlingException", times=3)
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the canary is promoted as without the faults, and each published decision arrives exactly once
    assert execution["status"] == "SUCCEEDED"
    assert view(cloud, started["rollout_id"])["status"] == "Promoted"
    detail_types = [event["detail-type"] for event in received()]
    assert sorted(detail_types) == sorted(
        ["Rollout Started", "Traffic Shifted", "Traffic Shifted", "Traffic Shifted", "Rollout Promoted"]
    )
    assert store.outbox(started["rollout_id"]) == []
    assert store.lock_holder(ENDPOINT) is None


def test_the_last_event_is_delivered_even_when_the_bus_refuses_it_past_every_retry(cloud, endpoint, canary_spec):
    # Given a canary baking, then EventBridge refusing every publish for a while (more than any task retries)
    received = subscribe(cloud)
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).task_token, "the step never baked")
    cloud.inject_aws_fault("PutEvents", "ThrottlingException", times=1000)

    # When an operator aborts: "Rollout Rolled Back" cannot be published when it is decided
    assert cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"}).status == 202
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the rollback ends as usual (the bus's refusal changes nothing), the event waiting in the outbox
    assert execution["status"] == "FAILED"
    assert cloud.states_entered(started["execution_arn"])[-1] == "Rolled Back"
    assert_safe_rolled_back(cloud, view(cloud, rollout_id))
    assert "Rollout Rolled Back" not in [e["detail-type"] for e in received()]
    assert [event["DetailType"] for _, event in store.outbox(rollout_id)][-1] == "Rollout Rolled Back"

    # And once the bus takes events again, the scheduled delivery publishes it, once, and empties the outbox
    core.REGISTRY.aws_faults.clear()
    time.sleep(60)  # simulated seconds: the schedule's next minute
    assert cloud.run_schedules("DeliverDecisionsFunction") == [{"rollouts": 1, "left": 0}]
    assert cloud.run_schedules("DeliverDecisionsFunction") == [{"rollouts": 0, "left": 0}]
    until(lambda: "Rollout Rolled Back" in [e["detail-type"] for e in received()], "the event never arrived")
    assert [e["detail-type"] for e in received()].count("Rollout Rolled Back") == 1
    assert store.outbox(rollout_id) == []


def test_the_scheduled_delivery_leaves_an_event_to_its_own_task_for_a_minute(cloud):
    # Given a decision whose event the bus has just refused
    received = subscribe(cloud)
    decision = Decision(rollout_id="r-000000000001", kind=DecisionKind.ROLLOUT_STARTED, message="started")
    store.append_decision(decision, None, bus.entry(decision, {"endpoint_name": ENDPOINT}))

    # Then the schedule leaves it to the task that made it for a minute, then publishes it once
    assert cloud.run_schedules("DeliverDecisionsFunction") == [{"rollouts": 0, "left": 0}]
    time.sleep(61)  # simulated seconds
    assert cloud.run_schedules("DeliverDecisionsFunction") == [{"rollouts": 1, "left": 0}]
    assert cloud.run_schedules("DeliverDecisionsFunction") == [{"rollouts": 0, "left": 0}]
    until(lambda: received(), "the event never arrived")
    assert [event["detail-type"] for event in received()] == ["Rollout Started"]
    assert store.outbox("r-000000000001") == []


def test_a_rollback_that_cannot_read_the_endpoint_still_says_why_it_rolled_back(cloud, endpoint, canary_spec):
    # Given a canary baking at 10 %, and DescribeEndpoint throttled past a task's retries from the breach on
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)
    until(lambda: store.get_rollout(started["rollout_id"]).task_token, "the step never baked")
    cloud.inject_aws_fault("DescribeEndpoint", "ThrottlingException", times=AWS_RETRIES + 1)

    # When its alarm fires: Roll Back cannot read the endpoint and the original config is restored instead
    fire_alarm(cloud, started["rollout_id"], "5XX rate above 2 %")
    cloud.wait_for_execution(started["execution_arn"])

    # Then the rollout is back on the baseline, and its reason is the breach (it was None: a lie by omission)
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "5XX rate above 2 %" in rollout["reason"]
    assert rollout["decisions"][-1]["message"].endswith(f"reason: {rollout['reason']}")
