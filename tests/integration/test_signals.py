"""The on_signal handler with moto: what it ignores, what it records, and what it leaves for the next step."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from functions.on_signal import app as on_signal
from rollouts.aws import store
from sandbox.cloud import LocalCloud
from sandbox.moto_ext import core
from tests.waiting import until

CONTEXT = SimpleNamespace(
    function_name="on-signal",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:::function:on-signal",
    aws_request_id="req-1",
)


def alarm_event(name: str, state: str = "ALARM", stamp: str = "2026-11-27T09:05:00.000+0000") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": core.ACCOUNT,
        "time": "2026-11-27T09:05:00Z",
        "region": core.REGION,
        "resources": [f"arn:aws:cloudwatch:{core.REGION}:{core.ACCOUNT}:alarm:{name}"],
        "detail": {"alarmName": name, "state": {"value": state, "reason": "test", "timestamp": stamp}},
    }


def outcomes(response: dict[str, Any]) -> list[str]:
    return [result["outcome"] for result in response["results"]]


def baking_rollout(cloud: LocalCloud, spec: dict[str, Any]) -> str:
    spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    rollout_id = str(cloud.api("POST", "/rollouts", spec).body["rollout_id"])
    # The candidate's fleet starts in 120 simulated seconds, then the bake begins
    until(lambda: store.get_rollout(rollout_id).task_token, "the rollout did not begin its bake", timeout=600)
    return rollout_id


def test_alarm_that_guards_no_rollout_is_ignored(cloud, endpoint):
    response = on_signal.lambda_handler(alarm_event("someone-elses-alarm"), CONTEXT)

    assert outcomes(response) == ["ignored"]


def test_event_that_is_no_signal_is_ignored(cloud):
    event = {
        "detail-type": "SageMaker Processing Job State Change",
        "source": "aws.sagemaker",
        "detail": {"ProcessingJobName": "etl", "ProcessingJobStatus": "Completed"},
    }

    assert outcomes(on_signal.lambda_handler(event, CONTEXT)) == ["ignored"]


def test_alarm_back_to_ok_is_recorded_and_the_rollout_goes_on(cloud, endpoint, canary_spec):
    rollout_id = baking_rollout(cloud, canary_spec)

    response = on_signal.lambda_handler(alarm_event(f"rollouts-{rollout_id}-5xx-rate", state="OK"), CONTEXT)

    assert outcomes(response) == ["recorded"]
    rollout = store.get_rollout(rollout_id)
    assert rollout.status == "Progressing"
    assert rollout.task_token  # still baking
    decisions = [d.message for d in store.list_decisions(rollout_id)]
    assert any("is OK" in message for message in decisions)
    cloud.api("POST", f"/rollouts/{rollout_id}/abort")


def test_duplicate_delivery_is_reported_as_duplicate(cloud, endpoint, canary_spec):
    rollout_id = baking_rollout(cloud, canary_spec)
    event = alarm_event(f"rollouts-{rollout_id}-latency-p99")

    first = on_signal.lambda_handler(event, CONTEXT)
    second = on_signal.lambda_handler(event, CONTEXT)

    assert outcomes(first) == ["interrupted"]
    assert outcomes(second) in (["duplicate"], ["ignored"])
    breaches = [d for d in store.list_decisions(rollout_id) if d.kind == "Guardrail Breached"]
    assert len(breaches) == 1


def test_breach_while_no_bake_runs_is_kept_for_the_next_step(cloud, endpoint, canary_spec):
    # Given a rollout that is not baking (its token already taken back)
    rollout_id = baking_rollout(cloud, canary_spec)
    token = store.get_rollout(rollout_id).task_token
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": None}))

    response = on_signal.lambda_handler(alarm_event(f"rollouts-{rollout_id}-5xx-rate"), CONTEXT)

    # Then nothing is lost: the breach waits on the rollout for the next bake or judge
    assert outcomes(response) == ["deferred"]
    pending = store.get_rollout(rollout_id).pending
    assert [p.error for p in pending] == ["GuardrailBreachedError"]
    cloud.client("stepfunctions").send_task_failure(taskToken=token, error="RolloutAbortedError", cause="test cleanup")


def test_signal_that_failed_midway_is_handled_by_its_retry(cloud, endpoint, canary_spec, monkeypatch):
    # Given a breach whose first delivery fails after it was claimed (Step Functions unreachable)
    rollout_id = baking_rollout(cloud, canary_spec)
    event = alarm_event(f"rollouts-{rollout_id}-5xx-rate")
    from rollouts.aws import workflows

    real_fail_task = workflows.fail_task
    calls = []

    def flaky(token: str, error: str, cause: str) -> bool:
        calls.append(token)
        if len(calls) == 1:
            raise ConnectionError("states endpoint unreachable")
        return real_fail_task(token, error, cause)

    monkeypatch.setattr(workflows, "fail_task", flaky)
    with pytest.raises(ConnectionError):
        on_signal.lambda_handler(event, CONTEXT)

    # When the same event is delivered again
    response = on_signal.lambda_handler(event, CONTEXT)

    # Then the retry acts on it instead of dropping it as a duplicate
    assert outcomes(response) == ["interrupted"]


class Killed(BaseException):
    """The handler stopped where it stood (Lambda's timeout): no except clause of the control plane runs."""


def test_a_signal_whose_handler_died_after_claiming_it_is_handled_once_its_claim_expires(
    cloud, endpoint, canary_spec, monkeypatch
):
    # Given a breach whose handler is killed between taking the signal's claim and deciding
    rollout_id = baking_rollout(cloud, canary_spec)
    event = alarm_event(f"rollouts-{rollout_id}-5xx-rate")
    from rollouts.logic import signals

    real_decide = signals._decide

    def killed(*args: Any) -> Any:
        raise Killed

    monkeypatch.setattr(signals, "_decide", killed)
    with pytest.raises(Killed):
        on_signal.lambda_handler(event, CONTEXT)
    monkeypatch.setattr(signals, "_decide", real_decide)

    # When the event is delivered again at once, the claim is still in progress: one handler at a time
    assert outcomes(on_signal.lambda_handler(event, CONTEXT)) == ["duplicate"]

    # Then once the in-progress claim has expired, a redelivery acts on the breach (and a later one no more)
    cloud.wait_until(lambda: False, timeout=store.IN_PROGRESS_SECONDS + 1)
    assert outcomes(on_signal.lambda_handler(event, CONTEXT)) == ["interrupted"]
    # (a duplicate; or, once the rollback it started has begun on the state machine's thread, a signal for a rollout
    # that is rolling back: ignored. No second effect either way)
    assert outcomes(on_signal.lambda_handler(event, CONTEXT)) in (["duplicate"], ["ignored"])
    until(lambda: store.get_rollout(rollout_id).status == "RolledBack", "the breach never rolled the rollout back")
    breaches = [d for d in store.list_decisions(rollout_id) if d.kind.value == "Guardrail Breached"]
    assert len(breaches) == 1


def test_an_alarm_recovery_reaches_the_rollout_through_the_rule_and_is_logged(cloud, endpoint, canary_spec):
    rollout_id = baking_rollout(cloud, canary_spec)

    alarms = cloud.client("cloudwatch")
    name = f"rollouts-{rollout_id}-5xx-rate"
    alarms.set_alarm_state(AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="no requests for 5 minutes")
    alarms.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="requests again, under 1 %")

    def logged() -> list[str]:
        return [d.message for d in store.list_decisions(rollout_id) if d.message.startswith(f"Alarm '{name}' is ")]

    until(lambda: len(logged()) == 2, "the state changes never reached the rollout")
    messages = logged()
    # Each change is its own asynchronous delivery, handled at the same simulated instant: EventBridge promises no
    # order between them, and the log orders decisions of one instant arbitrarily.
    assert sorted(messages) == [f"Alarm '{name}' is INSUFFICIENT_DATA", f"Alarm '{name}' is OK"]
    assert store.get_rollout(rollout_id).status == "Progressing"  # neither is a breach


@pytest.mark.parametrize(("policy", "outcome"), [("breach", "interrupted"), ("ignore", "recorded")])
def test_a_suppressed_alarm_follows_the_guardrails_option(cloud, endpoint, canary_spec, policy, outcome):
    canary_spec["guardrails"]["suppressed_alarms"] = policy
    rollout_id = baking_rollout(cloud, canary_spec)
    event = alarm_event(f"rollouts-{rollout_id}-5xx-rate")
    event["detail"]["state"]["actionsSuppressedBy"] = "Alarm"
    event["detail"]["state"]["actionsSuppressedReason"] = "maintenance-window is in ALARM"

    assert outcomes(on_signal.lambda_handler(event, CONTEXT)) == [outcome]
    last = store.list_decisions(rollout_id)[-1]
    assert "actions suppressed by Alarm (maintenance-window is in ALARM)" in last.message
