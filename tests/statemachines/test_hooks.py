"""Traffic hooks (spec `hooks`) in the real state machines: before traffic, after each step, after promotion."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from rollouts.aws import hooks as hook_calls
from sandbox.cloud import LocalCloud
from sandbox.moto_ext import core
from tests.statemachines.helpers import (
    BASELINE,
    assert_safe_rolled_back,
    bandit_spec,
    endpoint_weights,
    kinds,
    start,
    view,
)

pytestmark = pytest.mark.statemachine


def hook(cloud: LocalCloud, name: str, answers: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A hook function that records each event it gets and answers the next of `answers` (pass when none is
    left). Returns the events it got."""
    events: list[dict[str, Any]] = []
    queue = list(answers or [])

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return queue.pop(0) if queue else {"status": "pass", "message": "all good"}

    cloud.add_function(name, handler)
    return events


def hook_decisions(rollout: dict[str, Any]) -> list[str]:
    return [d["message"] for d in rollout["decisions"] if d["kind"] == "Hook Called"]


def test_hooks_run_at_each_turn_with_the_rollouts_context_and_a_passing_rollout_is_promoted(
    cloud, endpoint, canary_spec
):
    before = hook(cloud, "rollout-hook-warmup")
    after_step = hook(cloud, "rollout-hook-smoke-test")
    after_promotion = hook(cloud, "rollout-hook-announce")
    canary_spec["hooks"] = {
        "before_traffic": [{"function": "rollout-hook-warmup"}],
        "after_step": [{"function": "rollout-hook-smoke-test", "timeout": "30s"}],
        "after_promotion": [{"function": "rollout-hook-announce"}],
    }
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "SUCCEEDED", rollout["reason"]
    assert rollout["status"] == "Promoted"
    assert [e["hook"] for e in before + after_step + after_promotion] == [
        "before_traffic",
        "after_step",
        "after_step",
        "after_promotion",
    ]
    assert before[0]["weights"] == {} or before[0]["weights"].get("churn-xgb-v2", 0) == 0
    assert [e["step"] for e in after_step] == [1, 2]
    assert after_step[0]["candidate"] == {"model_name": "churn-xgb-v2", "variant_name": "churn-xgb-v2"}
    assert after_step[0]["endpoint_name"] == "churn-predictor"
    assert after_promotion[0]["weights"] == {"churn-xgb-v2": 100.0, BASELINE: 0.0}
    assert hook_decisions(rollout) == [
        "Hook 'rollout-hook-warmup' (before_traffic) passed: all good",
        "Hook 'rollout-hook-smoke-test' (after_step after step 1) passed: all good",
        "Hook 'rollout-hook-smoke-test' (after_step after step 2) passed: all good",
        "Hook 'rollout-hook-announce' (after_promotion) passed: all good",
    ]


def test_a_post_step_hook_that_vetoes_rolls_back_with_its_message(cloud, endpoint, canary_spec):
    hook(cloud, "rollout-hook-smoke-test", [{"status": "fail", "message": "p95 of the smoke test is 2.1 s"}])
    canary_spec["hooks"] = {"after_step": [{"function": "rollout-hook-smoke-test"}]}
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    assert (
        "hook 'rollout-hook-smoke-test' (after_step after step 1) failed: p95 of the smoke test is 2.1 s"
        in (rollout["reason"])
    )
    # the second step never came: the candidate had 10 % at most
    shifted = [d for d in rollout["decisions"] if d["kind"] == "Traffic Shifted"]
    assert [d["message"].split(":")[0] for d in shifted] == ["Step 1/2"]


def test_a_hook_that_fails_before_traffic_changes_nothing(cloud, endpoint, canary_spec):
    hook(cloud, "rollout-hook-warmup", [{"status": "fail", "message": "the feature store is down"}])
    canary_spec["hooks"] = {"before_traffic": [{"function": "rollout-hook-warmup"}]}
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "FAILED"
    assert rollout["status"] == "RolledBack"
    assert "the feature store is down" in rollout["reason"]
    assert endpoint_weights(cloud) == ("churn-predictor-v1", {BASELINE: 1.0})
    assert not [c for c in core.REGISTRY.calls if c["operation"] in ("UpdateEndpoint", "CreateEndpointConfig")]


def test_a_hook_that_breaks_or_answers_nonsense_fails(cloud, endpoint, canary_spec):
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("connection refused")

    cloud.add_function("rollout-hook-broken", broken)
    canary_spec["hooks"] = {"before_traffic": [{"function": "rollout-hook-broken"}]}
    started = start(cloud, canary_spec)

    cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == "RolledBack"
    assert "the function failed (RuntimeError: connection refused)" in rollout["reason"]


def test_an_after_promotion_hook_that_fails_brings_the_old_config_back(cloud, endpoint, canary_spec):
    hook(cloud, "rollout-hook-announce", [{"status": "fail", "message": "downstream contract test failed"}])
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "5m"}]
    canary_spec["hooks"] = {"after_promotion": [{"function": "rollout-hook-announce"}]}
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    assert "downstream contract test failed" in rollout["reason"]
    assert "Rollout Promoted" not in kinds(rollout)


@pytest.mark.parametrize(
    ("hooks", "field", "words"),
    [
        ({"before_traffic": [{"function": "smoke-test"}]}, "hooks.before_traffic.0.function", "rollout-hook-"),
        ({"after_promotion": [{"function": "rollout-hook-nowhere"}]}, "hooks.after_promotion.0.function", "no Lambda"),
        ({"before_traffic": [{"function": "rollout-hook-x", "timeout": "20m"}]}, "hooks.before_traffic.0.timeout", ""),
    ],
)
def test_a_hook_the_stack_may_not_invoke_or_that_does_not_exist_gets_400_naming_it(
    cloud, endpoint, canary_spec, hooks, field, words
):
    canary_spec["hooks"] = hooks

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == [field]
    assert words in response.body["message"]


def test_after_step_hooks_are_for_a_canarys_steps(cloud, endpoint, canary_spec):
    hook(cloud, "rollout-hook-smoke-test")
    spec = bandit_spec(canary_spec)
    spec["hooks"] = {"after_step": [{"function": "rollout-hook-smoke-test"}]}

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == ["hooks.after_step"]


def test_no_answer_within_the_hooks_timeout_is_a_failure(monkeypatch):
    class Silent:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            raise ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    monkeypatch.setattr(hook_calls, "_client", lambda timeout: Silent())

    assert hook_calls.call("rollout-hook-slow", {"hook": "after_step"}, 30.0) == ("fail", "no answer within 30 s")
