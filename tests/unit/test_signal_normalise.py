"""Normalising EventBridge events into Signals: alarms and monitoring executions in, everything else out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rollouts.logic.signals import normalise
from rollouts.models.signal import SignalSource
from tests.conftest import load_event

ALARM_NAME = "rollouts-r-0123456789ab-5xx-rate"
JOB_ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitoring-202511201300-9d3c8a41f27be0c5d6a1e8b2"
)


# --- alarms -----------------------------------------------------------------------------------------------------


def test_alarm_in_alarm_becomes_an_alarm_signal_with_its_name_state_and_reason() -> None:
    signal = normalise(load_event("eventbridge/alarm_state_change_alarm.json"))

    assert signal is not None
    assert signal.source == SignalSource.ALARM
    assert signal.alarm_name == ALARM_NAME
    assert signal.alarm_state == "ALARM"
    assert signal.reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [0.08")
    assert signal.schedule_name is None
    assert signal.rollout_id is None  # the guard index, not the event, says which rollouts it concerns


def test_alarm_back_to_ok_becomes_an_alarm_signal_in_state_ok() -> None:
    signal = normalise(load_event("eventbridge/alarm_state_change_ok.json"))

    assert signal is not None
    assert (signal.source, signal.alarm_name, signal.alarm_state) == (SignalSource.ALARM, ALARM_NAME, "OK")


def test_the_same_alarm_event_delivered_twice_has_one_dedup_key() -> None:
    event = load_event("eventbridge/alarm_state_change_alarm.json")
    redelivered = copy.deepcopy(event)
    redelivered["id"] = "0f6c1f2e-93a4-4b57-8c3e-5a2d9b8e7f10"  # EventBridge may retry with the same detail

    first, second = normalise(event), normalise(redelivered)

    assert first is not None
    assert second is not None
    assert first.dedup_key == second.dedup_key


def test_a_later_state_change_of_the_same_alarm_has_another_dedup_key() -> None:
    fired = normalise(load_event("eventbridge/alarm_state_change_alarm.json"))
    recovered = normalise(load_event("eventbridge/alarm_state_change_ok.json"))

    assert fired is not None
    assert recovered is not None
    assert fired.dedup_key != recovered.dedup_key


def test_the_same_alarm_firing_again_later_has_another_dedup_key() -> None:
    event = load_event("eventbridge/alarm_state_change_alarm.json")
    again = copy.deepcopy(event)
    again["time"] = "2025-11-20T13:30:12Z"
    again["detail"]["state"]["timestamp"] = "2025-11-20T13:30:12.877+0000"

    first, second = normalise(event), normalise(again)

    assert first is not None
    assert second is not None
    assert first.dedup_key != second.dedup_key


def test_an_alarm_event_without_an_alarm_name_is_ignored() -> None:
    event = load_event("eventbridge/alarm_state_change_alarm.json")
    del event["detail"]["alarmName"]

    assert normalise(event) is None


# --- monitoring executions --------------------------------------------------------------------------------------


def test_monitoring_execution_becomes_a_monitoring_signal_for_the_schedule_in_its_arn() -> None:
    signal = normalise(load_event("eventbridge/monitoring_execution_completed.json"))

    assert signal is not None
    assert signal.source == SignalSource.MONITORING
    assert signal.schedule_name == "churn-predictor-data-quality"
    assert signal.processing_job_arn == JOB_ARN
    assert signal.processing_job_status == "Completed"
    assert signal.reason.startswith("CompletedWithViolations:")
    assert signal.alarm_name is None


def test_the_same_monitoring_event_delivered_twice_has_one_dedup_key() -> None:
    event = load_event("eventbridge/monitoring_execution_completed.json")
    redelivered = copy.deepcopy(event)
    redelivered["id"] = "d3b07384-d9a0-4c5b-8f2e-1a6b7c8d9e0f"

    first, second = normalise(event), normalise(redelivered)

    assert first is not None
    assert second is not None
    assert first.dedup_key == second.dedup_key


def test_a_failed_monitoring_execution_says_why_and_has_another_dedup_key() -> None:
    completed = load_event("eventbridge/monitoring_execution_completed.json")
    failed = copy.deepcopy(completed)
    failed["detail"]["ProcessingJobStatus"] = "Failed"
    del failed["detail"]["ExitMessage"]
    failed["detail"]["FailureReason"] = "AlgorithmError: no captured data for the hour"

    first, second = normalise(completed), normalise(failed)

    assert first is not None
    assert second is not None
    assert second.processing_job_status == "Failed"
    assert second.reason == "AlgorithmError: no captured data for the hour"
    assert first.dedup_key != second.dedup_key


def test_a_processing_job_that_is_not_a_monitoring_execution_is_ignored() -> None:
    assert normalise(load_event("eventbridge/processing_job_not_monitoring.json")) is None


# --- everything else --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        load_event("eventbridge/model_package_approved.json"),
        {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}},
        {"detail-type": "CloudWatch Alarm State Change"},
        {},
    ],
    ids=["model-package-approved", "scheduled-event", "alarm-without-detail", "empty"],
)
def test_an_event_no_rollout_can_use_is_ignored(event: dict[str, object]) -> None:
    assert normalise(event) is None


def test_endpoint_state_change_status_is_read_in_either_spelling() -> None:
    # The documented event example says IN_SERVICE; the API's enum says InService.
    for spelled in ("IN_SERVICE", "InService"):
        event = {
            "detail-type": "SageMaker Endpoint State Change",
            "source": "aws.sagemaker",
            "time": "2026-11-27T09:00:00Z",
            "detail": {"EndpointName": "churn-predictor", "EndpointStatus": spelled},
        }
        signal = normalise(event)
        assert signal is not None
        assert signal.endpoint_name == "churn-predictor"
        assert signal.endpoint_status == "InService"


# --- executions ---------------------------------------------------------------------------------------------------


def test_an_execution_that_timed_out_becomes_a_signal_for_its_rollout() -> None:
    signal = normalise(load_event("eventbridge/execution_timed_out.json"))

    assert signal is not None
    assert signal.source == SignalSource.EXECUTION
    assert signal.rollout_id == "r-0123456789ab"
    assert signal.execution_arn == "arn:aws:states:us-east-1:123456789012:execution:rollouts-canary:r-0123456789ab"
    assert signal.reason == "TIMED_OUT: States.Timeout"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"status": "SUCCEEDED", "error": None}, "a rollout's own end"),
        ({"status": "FAILED", "error": "RolloutRolledBack"}, "the Fail state a rollback ends in"),
        ({"status": "FAILED", "error": "RollbackFailed"}, "a rollback that waits for an operator no more"),
        ({"input": '{"something": "else"}'}, "no rollout in its input"),
        ({"input": "not json"}, "an input that is not JSON"),
    ],
)
def test_an_execution_end_that_needs_no_watchdog_is_no_signal(change: dict[str, str | None], why: str) -> None:
    event = load_event("eventbridge/execution_timed_out.json")
    event["detail"].update(change)

    assert normalise(event) is None, why


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"state": {"actionsSuppressedBy": "WaitPeriod", "actionsSuppressedReason": "waiting"}}, "actions suppressed"),
        ({"muteDetail": {"muteRuleName": "nightly"}}, "muted by a mute rule"),
    ],
)
def test_an_alarm_whose_actions_are_held_back_says_why(change: dict[str, Any], why: str) -> None:
    event = load_event("eventbridge/alarm_state_change_alarm.json")
    for key, value in change.items():
        event["detail"][key] = {**event["detail"].get(key, {}), **value} if key == "state" else value

    signal = normalise(event)

    assert signal is not None and signal.suppressed_by is not None and why in signal.suppressed_by
