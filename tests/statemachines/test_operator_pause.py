"""An operator's pause: the weights hold until resume (the step is baked again), promote or abort."""

from __future__ import annotations

import pytest

from rollouts.aws import store
from tests.statemachines.helpers import BASELINE, CANDIDATE, bandit_spec, endpoint_weights, kinds, start, view
from tests.waiting import until

pytestmark = pytest.mark.statemachine


def test_a_paused_canary_holds_its_weights_and_resumes_by_baking_the_step_again(cloud, endpoint, canary_spec):
    # Given a canary baking its first step at 10 %
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).task_token, "the step never baked")

    # When an operator pauses it
    paused = cloud.api("POST", f"/rollouts/{rollout_id}/pause", {"reason": "checking a dashboard"})
    until(lambda: store.get_rollout(rollout_id).status == "Paused", "the rollout never paused")

    # Then the weights hold, the log says who paused it and how to go on, and a second pause is refused
    assert paused.status == 202
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.9, CANDIDATE: 0.1}
    rollout = view(cloud, rollout_id)
    pause = next(d for d in rollout["decisions"] if d["kind"] == "Rollout Paused")
    assert pause["message"].startswith("Paused by an operator at step 1/2 with the candidate at 10 %")
    again = cloud.api("POST", f"/rollouts/{rollout_id}/pause")
    assert (again.status, again.body["error"]) == (409, "RolloutNotPausable")

    # And resume bakes the first step again before going on, to the end
    assert cloud.api("POST", f"/rollouts/{rollout_id}/resume").status == 202
    cloud.wait_for_execution(started["execution_arn"])
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert kinds(rollout).count("Traffic Shifted") == 3  # 10 %, 50 %, 100 %: the paused step was not shifted again
    judged = [d["message"] for d in rollout["decisions"] if d["kind"] == "Step Judged"]
    assert judged[:2] == ["Step 1/2: an operator resumed; baking the step again", judged[1]]
    assert judged[1].startswith("Step 1/2 passed")


@pytest.mark.parametrize(
    ("strategy", "words"),
    [
        ("blue-green", "SageMaker's deployment owns the traffic"),
        ("shadow", "the challenger has no weight to hold"),
    ],
)
def test_a_strategy_that_cannot_hold_its_weights_refuses_a_pause_saying_why(
    cloud, endpoint, canary_spec, strategy, words
):
    from tests.statemachines.helpers import blue_green_spec, shadow_spec

    spec = blue_green_spec(canary_spec) if strategy == "blue-green" else shadow_spec(canary_spec)
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    until(lambda: view(cloud, rollout_id)["status"] == "Progressing", "the rollout is under way")

    refused = cloud.api("POST", f"/rollouts/{rollout_id}/pause")

    assert (refused.status, refused.body["error"]) == (409, "RolloutNotPausable")
    assert words in refused.body["message"]
    assert cloud.api("POST", f"/rollouts/{rollout_id}/abort").status == 202


@pytest.mark.parametrize("strategy", ["bandit", "ab-test"])
def test_a_bandit_or_an_ab_test_holds_its_weights_while_paused_and_goes_on_after_resume(
    cloud, endpoint, canary_spec, strategy
):
    from tests.statemachines.helpers import ab_spec

    spec = bandit_spec(canary_spec) if strategy == "bandit" else ab_spec(canary_spec)
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    until(
        lambda: store.get_rollout(rollout_id).task_token and endpoint_weights(cloud)[1].get(CANDIDATE, 0) > 0,
        "the rollout never split its traffic",
    )
    weights = endpoint_weights(cloud)

    paused = cloud.api("POST", f"/rollouts/{rollout_id}/pause", {"reason": "a release freeze"})
    until(lambda: store.get_rollout(rollout_id).status == "Paused", "the rollout never paused")
    until(lambda: store.get_rollout(rollout_id).task_token, "the pause never waited for an operator")

    assert paused.status == 202, paused.body
    assert endpoint_weights(cloud) == weights
    pause = next(d for d in view(cloud, rollout_id)["decisions"] if d["kind"] == "Rollout Paused")
    assert pause["message"].startswith("Paused by an operator: the weights stay at")
    again = cloud.api("POST", f"/rollouts/{rollout_id}/pause")
    assert (again.status, again.body["error"]) == (409, "RolloutNotPausable")

    resumed = cloud.api("POST", f"/rollouts/{rollout_id}/resume")
    until(lambda: store.get_rollout(rollout_id).status == "Progressing", "the rollout never resumed")
    assert resumed.status == 202, resumed.body
    assert cloud.api("POST", f"/rollouts/{rollout_id}/abort").status == 202
    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "FAILED"
    assert view(cloud, rollout_id)["status"] == "RolledBack"


def test_a_paused_bandit_whose_pause_times_out_rolls_back(cloud, endpoint, canary_spec):
    canary_spec["guardrails"]["pause_timeout"] = "1h"
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).task_token, "the bandit never waited")

    assert cloud.api("POST", f"/rollouts/{rollout_id}/pause").status == 202
    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, rollout_id)
    assert execution["status"] == "FAILED"
    assert rollout["status"] == "RolledBack"
    assert "PauseTimedOutError" in rollout["reason"]
