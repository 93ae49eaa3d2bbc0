"""Every strategy's rollback path (statemachines/src/shared/rollback.json): a final status is what DescribeEndpoint
shows, and a rollback that cannot reach the baseline says so and keeps the endpoint's lock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.aws import store
from rollouts.strategies.base import EXECUTION_TIMEOUT_SECONDS
from sandbox.cloud import LocalCloud
from sandbox.moto_ext import core
from tests.statemachines.helpers import (
    BASELINE,
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

ROLL_BACK_ATTEMPTS = 5  # Roll Back's own try and its four retries


def baking(cloud: LocalCloud, canary_spec: dict[str, Any]) -> dict[str, Any]:
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)
    until(lambda: store.get_rollout(started["rollout_id"]).task_token, "the first step never baked")
    return started


def test_a_rollback_whose_weights_call_fails_restores_the_original_config(cloud, endpoint, canary_spec):
    # Given a canary at 10 %, and SageMaker throttling every weights call of the rollback
    started = baking(cloud, canary_spec)
    for _ in range(ROLL_BACK_ATTEMPTS):
        cloud.inject_fault("UpdateEndpointWeightsAndCapacities", "ThrottlingException: Rate exceeded")

    fire_alarm(cloud, started["rollout_id"], "5xx above 1 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the original config comes back instead, and only then is the rollout RolledBack
    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "Rate exceeded" not in rollout["reason"]  # the reason is still the breach
    assert "5xx above 1 %" in rollout["reason"]


def test_a_rollback_that_cannot_reach_the_baseline_ends_rollback_failed_with_the_lock_held(
    cloud, endpoint, canary_spec
):
    # Given a canary at 10 %, and SageMaker refusing both the weights call and the restore of the original config
    received = subscribe(cloud)
    started = baking(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    for _ in range(ROLL_BACK_ATTEMPTS):
        cloud.inject_fault("UpdateEndpointWeightsAndCapacities", "ThrottlingException: Rate exceeded")
    cloud.inject_fault("UpdateEndpoint", "ThrottlingException: Rate exceeded")

    fire_alarm(cloud, rollout_id, "5xx above 1 %")
    until(lambda: store.get_rollout(rollout_id).status == "RollbackFailed", "the rollback never failed")

    # Then the rollout says so: RollbackFailed, the real weights, the lock held, a published decision
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "RollbackFailed"
    assert rollout["weights"] == {BASELINE: 90.0, CANDIDATE: 10.0}
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.9, CANDIDATE: 0.1}
    assert store.lock_holder(ENDPOINT) == rollout_id
    assert "Rollout Rolled Back" not in kinds(rollout)
    failed = next(d for d in rollout["decisions"] if d["kind"] == "Rollback Failed")
    assert f"{CANDIDATE} 10 %" in failed["message"] and "abort" in failed["message"]
    assert failed["evidence"]["weights"] == {BASELINE: 90.0, CANDIDATE: 10.0}
    published = [e for e in received() if e["detail-type"] == "Rollback Failed"]
    assert [e["detail"]["rollout_id"] for e in published] == [rollout_id]
    assert cloud.client("stepfunctions").describe_execution(executionArn=started["execution_arn"])["status"] == (
        "RUNNING"
    )
    # A guardrail has nothing left to stop, and promote is refused
    assert cloud.api("POST", f"/rollouts/{rollout_id}/promote").status == 409

    # When an operator aborts again once SageMaker accepts calls, the restore is retried and checked
    assert cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "throttling over"}).status == 202
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert kinds(rollout).count("Rollback Failed") == 1


# An update of 3,000 s: three of the wait's 900 s timeouts would pass before it ends.
@pytest.mark.parametrize("paced_cloud", [3000], indirect=True)
def test_an_abort_ends_a_wait_for_the_endpoint_at_once(paced_cloud, canary_spec):
    # Given a canary whose candidate SageMaker is still adding
    started = start(paced_cloud, canary_spec)
    rollout_id = started["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).endpoint_token, "the rollout never waited for its endpoint")

    # When an operator aborts
    assert paced_cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "wrong model"}).status == 202
    execution = paced_cloud.wait_for_execution(started["execution_arn"])

    # Then the wait ends then, not after a timeout, and the rollback restores the endpoint once the update is over
    assert execution["status"] == "FAILED"
    entered = paced_cloud.states_entered(started["execution_arn"])
    assert "Endpoint Still Updating" not in entered, entered
    assert entered[entered.index("Await Endpoint") + 1] == "Roll Back", entered
    rollout = view(paced_cloud, rollout_id)
    assert_safe_rolled_back(paced_cloud, rollout)
    assert "wrong model" in rollout["reason"]


# An update that takes 10 hours, whose state-change events are lost.
@pytest.mark.parametrize("paced_cloud", [36000], indirect=True)
def test_an_endpoint_update_that_never_ends_is_bounded_and_said(paced_cloud, canary_spec):
    core.REGISTRY.emit_endpoint_events = False
    started = start(paced_cloud, canary_spec)
    rollout_id = started["rollout_id"]

    until(lambda: store.get_rollout(rollout_id).status == "RollbackFailed", "the rollout never ended", 86400)

    # The wait gave up after its 2 h: the rollback found the endpoint still updating and says so, the lock held
    rollout = view(paced_cloud, rollout_id)
    assert "still Updating" in rollout["reason"]
    assert store.lock_holder(ENDPOINT) == rollout_id
    failed = next(d for d in rollout["decisions"] if d["kind"] == "Rollback Failed")
    assert failed["evidence"]["endpoint_status"] == "Updating"

    # Once SageMaker is back to its usual pace, an operator's abort restores the original config: RolledBack
    sagemaker = paced_cloud.client("sagemaker")
    until(lambda: sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService", "stuck", 86400)
    core.REGISTRY.endpoint_update_seconds, core.REGISTRY.emit_endpoint_events = 120, True
    assert paced_cloud.api("POST", f"/rollouts/{rollout_id}/abort").status == 202
    paced_cloud.wait_for_execution(started["execution_arn"])
    assert_safe_rolled_back(paced_cloud, view(paced_cloud, rollout_id))


def test_an_execution_that_ends_abnormally_is_rolled_back_in_a_new_one(cloud, endpoint, canary_spec):
    # Given a canary baking at 10 %
    started = baking(cloud, canary_spec)
    rollout_id = started["rollout_id"]

    # When its execution is stopped by hand, which no Catch sees
    cloud.client("stepfunctions").stop_execution(executionArn=started["execution_arn"], cause="stopped by hand")
    until(lambda: store.get_rollout(rollout_id).status == "RolledBack", "the rollout was never rolled back")

    # Then the watchdog rolls back to the baseline in a new execution, and the log says why
    rollout = view(cloud, rollout_id)
    assert rollout["execution_arn"] != started["execution_arn"]
    assert cloud.wait_for_execution(rollout["execution_arn"])["status"] == "FAILED"  # Rolled Back, on purpose
    assert_safe_rolled_back(cloud, rollout)
    assert f"ExecutionEnded: execution {started['execution_arn']} ended" in rollout["reason"]
    assert "Execution Ended" in kinds(rollout) and "Execution Continued" in kinds(rollout)


def test_an_execution_past_its_timeout_is_rolled_back_by_the_watchdog(cloud, endpoint, canary_spec):
    # Given a canary state machine whose top-level timeout (30 days deployed) is half an hour, and a canary baking
    # an hour at 10 %
    sfn = cloud.client("stepfunctions")
    arn = cloud.environment["STATE_MACHINE_ARN_PREFIX"] + "canary"
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert definition["TimeoutSeconds"] == EXECUTION_TIMEOUT_SECONDS
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps({**definition, "TimeoutSeconds": 1800}))
    started = baking(cloud, canary_spec)
    rollout_id = started["rollout_id"]

    # When the execution reaches its timeout mid-bake
    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "TIMED_OUT"
    until(lambda: store.get_rollout(rollout_id).status == "RolledBack", "the timed-out rollout was never rolled back")

    # Then the watchdog's execution rolls back to the baseline and says why
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert f"ExecutionEnded: execution {started['execution_arn']} ended TIMED_OUT" in rollout["reason"]
