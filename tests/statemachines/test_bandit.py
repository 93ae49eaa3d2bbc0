"""bandit.asl.json on the local ASL engine with the real handlers: feedback in, weights and a winner out."""

from __future__ import annotations

import time
from typing import Any

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from tests.statemachines.test_canary import (
    BASELINE,
    CANDIDATE,
    ENDPOINT,
    assert_safe_rolled_back,
    endpoint_weights,
    kinds,
    start,
    view,
)

pytestmark = pytest.mark.statemachine


def bandit_spec(canary_spec: dict[str, Any]) -> dict[str, Any]:
    canary_spec["strategy"] = {"type": "bandit", "update_every": "1h", "stop_after_updates": 2}
    canary_spec["guardrails"]["monitoring_schedules"] = []
    return canary_spec


def wait_for_update(rollout_id: str, updates: int, timeout: float = 10.0) -> None:
    """Until the rollout waits for feedback after its `updates`-th reweighting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollout = store.get_rollout(rollout_id)
        if rollout.task_token and rollout.bandit.get("updates") == updates:
            return
        time.sleep(0.01)
    raise AssertionError(f"rollout {rollout_id} never waited after update {updates}")


def next_update(cloud: LocalCloud, rollout_id: str) -> None:
    token = store.get_rollout(rollout_id).task_token
    assert token
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": None}))
    cloud.client("stepfunctions").send_task_success(taskToken=token, output="{}")


def report(cloud: LocalCloud, variant: str, count: int, converted: int, prefix: str) -> None:
    events = [
        {"event_id": f"{prefix}-{i}", "endpoint": ENDPOINT, "variant": variant, "reward": 1 if i < converted else 0}
        for i in range(count)
    ]
    for first in range(0, count, 500):
        assert cloud.api("POST", "/feedback", {"events": events[first : first + 500]}).status == 202


def test_traffic_moves_to_the_better_variant_and_the_winner_is_promoted(cloud, endpoint, canary_spec):
    # Given a bandit between the baseline and the candidate, exploring at equal weights
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.5, CANDIDATE: 0.5}

    # When users convert twice as often on the candidate, update after update
    report(cloud, BASELINE, 300, 30, "a-base")
    report(cloud, CANDIDATE, 300, 60, "a-cand")
    next_update(cloud, rollout_id)
    wait_for_update(rollout_id, 2)
    assert endpoint_weights(cloud)[1][CANDIDATE] > 0.9  # P(best) after one batch
    report(cloud, BASELINE, 300, 30, "b-base")
    report(cloud, CANDIDATE, 300, 60, "b-cand")
    next_update(cloud, rollout_id)  # a second update at P(best) >= 0.95: the candidate wins
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the candidate won and serves alone; every update is in the log with its posterior
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    updates = [d for d in rollout["decisions"] if d["kind"] == "Bandit Reweighted"]
    assert len(updates) == 3  # equal weights at the start, then one per batch of feedback
    assert updates[-1]["evidence"]["posterior"]["leader"] == CANDIDATE
    assert any("Bandit decided" in d["message"] for d in rollout["decisions"])


def test_a_better_baseline_is_kept_on_its_original_config(cloud, endpoint, canary_spec):
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    report(cloud, BASELINE, 400, 80, "a-base")
    report(cloud, CANDIDATE, 400, 20, "a-cand")
    next_update(cloud, rollout_id)
    wait_for_update(rollout_id, 2)
    report(cloud, BASELINE, 400, 80, "b-base")
    report(cloud, CANDIDATE, 400, 20, "b-cand")
    next_update(cloud, rollout_id)
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    config, weights = endpoint_weights(cloud)
    assert (config, weights) == ("churn-predictor-v1", {BASELINE: 1.0})
    assert rollout["reason"].startswith("BaselineKept")
    assert store.lock_holder(ENDPOINT) is None


def test_an_alarm_while_waiting_for_feedback_rolls_back_at_once(cloud, endpoint, canary_spec):
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate above 2 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Guardrail Breached" in kinds(rollout)
