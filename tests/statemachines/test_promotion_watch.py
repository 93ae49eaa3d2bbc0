"""The watch after promotion of the strategies that promote by weights (canary, bandit, A/B test): the candidate serves
alone, the guardrails stay armed, the original config is kept to come back to."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from tests.statemachines.helpers import (
    BASELINE,
    assert_safe_rolled_back,
    endpoint_weights,
    fire_alarm,
    kinds,
    start,
    view,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine

CANDIDATE = "churn-xgb-v2"


def watched_canary(canary_spec: dict[str, Any]) -> dict[str, Any]:
    canary_spec["strategy"] = {"type": "canary", "steps": [{"weight": 50, "bake": "5m"}], "watch_after_promotion": "1h"}
    return canary_spec


def wait_until_watching(cloud: LocalCloud, rollout_id: str) -> None:
    """Until the candidate serves alone on the final config and the watch's wait runs."""
    until(
        lambda: store.get_rollout(rollout_id).task_token and endpoint_weights(cloud)[1] == {CANDIDATE: 1.0},
        "the rollout never watched after its promotion",
    )


def test_a_breach_during_the_watch_brings_the_old_config_back(cloud, endpoint, canary_spec):
    started = start(cloud, watched_canary(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_watching(cloud, rollout_id)
    assert view(cloud, rollout_id)["status"] == "Promoting"

    fire_alarm(cloud, rollout_id, "5XX rate 9 % with all the traffic")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert endpoint_weights(cloud) == ("churn-predictor-v1", {BASELINE: 1.0})
    assert "5XX rate 9 % with all the traffic" in rollout["reason"]
    assert "Rollout Promoted" not in kinds(rollout)


def test_a_promote_ends_the_watch_early(cloud, endpoint, canary_spec):
    started = start(cloud, watched_canary(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_watching(cloud, rollout_id)

    response = cloud.api("POST", f"/rollouts/{rollout_id}/promote", {"reason": "looks fine"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202, response.body
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}


def test_an_abort_during_the_watch_rolls_back_and_a_pause_is_refused(cloud, endpoint, canary_spec):
    started = start(cloud, watched_canary(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_watching(cloud, rollout_id)

    paused = cloud.api("POST", f"/rollouts/{rollout_id}/pause", {"reason": "hold on"})
    aborted = cloud.api("POST", f"/rollouts/{rollout_id}/abort", {"reason": "the dashboard looks wrong"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert paused.status == 409, paused.body
    assert "watching after its promotion" in paused.body["message"]
    assert aborted.status == 202, aborted.body
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, view(cloud, rollout_id))


def test_without_a_watch_the_promotion_ends_as_soon_as_the_candidate_serves_alone(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "5m"}]
    started = start(cloud, canary_spec)

    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "SUCCEEDED"
    history = cloud.client("stepfunctions").get_execution_history(executionArn=started["execution_arn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert "Watch After Promotion" not in entered


@pytest.mark.parametrize("strategy", ["ab-test", "canary"])
def test_a_watch_longer_than_an_execution_is_refused_naming_it(cloud, endpoint, canary_spec, strategy):
    if strategy == "ab-test":
        canary_spec["strategy"] = {"type": "ab-test", "watch_after_promotion": "8d"}
    else:
        canary_spec["strategy"]["watch_after_promotion"] = "8d"

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400, response.body
    assert any("watch_after_promotion" in d["field"] for d in response.body["details"])
