"""AWS errors on the control plane's own calls (`LocalCloud.inject_aws_fault`): a throttle is retried, a refusal
rolls back safe, and a bus that refuses an event neither changes a rollout's course nor loses the event."""

from __future__ import annotations

import pytest

from rollouts.aws import store
from tests.statemachines.helpers import (
    CANDIDATE,
    ENDPOINT,
    assert_safe_rolled_back,
    endpoint_weights,
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


def test_the_last_event_is_delivered_even_when_the_bus_refuses_it_at_first(cloud, endpoint, canary_spec):
    # Given a canary baking, then EventBridge throttling the next two publishes
    received = subscribe(cloud)
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).task_token, "the step never baked")
    cloud.inject_aws_fault("PutEvents", "ThrottlingException", times=2)

    # When an operator aborts: Finalize Rollback's publish of "Rollout Rolled Back" is refused twice
    assert cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"}).status == 202
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the task is retried until the bus takes it: the rollback ends as usual, the event arrives once
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, view(cloud, rollout_id))
    assert [e["detail-type"] for e in received()].count("Rollout Rolled Back") == 1
    assert store.outbox(rollout_id) == []
