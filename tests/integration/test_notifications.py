"""Notifications for people: a subscriber of the stack's topic reads what happened, why, and what to do next."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from tests.waiting import until


@pytest.fixture
def inbox(cloud: LocalCloud) -> Any:
    """An SQS queue subscribed to the notifications topic, as a chat bridge or a mail relay would be."""
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="people")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns").subscribe(TopicArn=cloud.physical["NotificationsTopic"], Protocol="sqs", Endpoint=arn)
    received: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return received

    return read


def test_a_breach_tells_people_the_rollback_why_and_the_evidence(cloud, endpoint, canary_spec, inbox):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    rollout_id = cloud.api("POST", "/rollouts", canary_spec).body["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).task_token, "the rollout did not begin its bake", timeout=600)
    alarm = f"rollouts-{rollout_id}-5xx-rate"
    cloud.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5XX rate 8 %")

    until(lambda: len(inbox()) >= 2, "no rollback notification arrived")
    started, rolled_back = inbox()[:2]

    assert started["Subject"] == "Rollout started: churn-xgb-v2 on churn-predictor"
    assert rolled_back["Subject"] == "Rollout rolled back: churn-xgb-v2 on churn-predictor"
    text = rolled_back["Message"]
    assert f"Rollout {rollout_id} on endpoint 'churn-predictor': rolled back." in text
    assert "Why: " in text and alarm in text  # the reason names the alarm
    assert "Evidence:" in text and "Guardrail Breached" in text
    assert text.count("is in ALARM: 5XX rate 8 %") == 3  # the message, why, and the breach; not again
    assert "Weights now: v1 100 %" in text
    assert f"rollouts get {rollout_id}" in text
    assert rolled_back["MessageAttributes"]["kind"]["Value"] == "Rollout Rolled Back"


def test_a_promotion_is_told_once(cloud, endpoint, canary_spec, inbox):
    started = cloud.api("POST", "/rollouts", canary_spec).body
    cloud.wait_for_execution(started["execution_arn"])

    until(lambda: len(inbox()) >= 2, "no promotion notification arrived")
    cloud.wait_until(lambda: False, timeout=600)  # anything more would have arrived by now
    subjects = [message["Subject"] for message in inbox()]
    assert subjects == [
        "Rollout started: churn-xgb-v2 on churn-predictor",
        "Rollout promoted: churn-xgb-v2 on churn-predictor",
    ]
