"""The sample events in events/: valid JSON, and shaped as EventBridge and API Gateway deliver them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollouts.models.spec import RolloutSpec
from sandbox.scenarios import spec
from sandbox.template import load
from tests.conftest import EVENTS, load_event

ALL = sorted(EVENTS.rglob("*.json"))
EVENTBRIDGE = sorted((EVENTS / "eventbridge").glob("*.json"))
API = sorted((EVENTS / "api").glob("*.json"))
ENVELOPE = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def name(path: Path) -> str:
    return path.relative_to(EVENTS).as_posix()


def test_every_kind_of_sample_is_there() -> None:
    assert {name(p) for p in ALL} >= {
        "eventbridge/alarm_state_change_alarm.json",
        "eventbridge/alarm_state_change_ok.json",
        "eventbridge/monitoring_execution_completed.json",
        "eventbridge/processing_job_not_monitoring.json",
        "eventbridge/model_package_approved.json",
        "api/start_rollout.json",
        "api/get_rollout.json",
        "api/abort_rollout.json",
        "sfn/shift_traffic.json",
        "api/post_feedback.json",
        "sqs/feedback_batch.json",
        "eventbridge/rollout_feedback.json",
    }


@pytest.mark.parametrize("path", ALL, ids=name)
def test_sample_is_valid_json(path: Path) -> None:
    json.loads(path.read_text())


@pytest.mark.parametrize("path", EVENTBRIDGE, ids=name)
def test_eventbridge_sample_has_the_eventbridge_envelope(path: Path) -> None:
    event = load_event(name(path))

    assert [key for key in ENVELOPE if key not in event] == []
    assert event["version"] == "0"
    # AWS services publish as aws.*; feedback comes from the application's own source.
    assert event["source"].startswith("aws.") or event["detail-type"] == "Rollout Feedback"
    assert isinstance(event["resources"], list)
    assert isinstance(event["detail"], dict)


@pytest.mark.parametrize("path", API, ids=name)
def test_api_sample_is_an_api_gateway_rest_proxy_event(path: Path) -> None:
    """The API functions route on `resource` and `httpMethod` and read `pathParameters`, as API Gateway sets them."""
    event = load_event(name(path))
    api_events = [
        trigger["Properties"]
        for resource in load()["Resources"].values()
        for trigger in resource.get("Properties", {}).get("Events", {}).values()
        if trigger["Type"] == "Api"
    ]
    parameters = event["pathParameters"] or {}

    assert (event["httpMethod"], event["resource"]) in {(e["Method"].upper(), e["Path"]) for e in api_events}
    assert event["requestContext"]["resourcePath"] == event["resource"]
    assert event["resource"].format_map(parameters) == event["path"]
    assert "body" in event
    assert event["body"] is None or isinstance(event["body"], str)
    assert event["requestContext"]["requestId"]


def test_start_rollout_sample_posts_the_demo_spec() -> None:
    event = load_event("api/start_rollout.json")

    assert (event["httpMethod"], event["path"], event["resource"]) == ("POST", "/rollouts", "/rollouts")
    assert json.loads(event["body"]) == spec()
    RolloutSpec.model_validate_json(event["body"])


def test_rollout_samples_name_the_rollout_in_path_and_parameters() -> None:
    for sample in ("api/get_rollout.json", "api/abort_rollout.json"):
        event = load_event(sample)
        assert event["pathParameters"] == {"rollout_id": "r-0123456789ab"}
        assert event["path"].startswith("/rollouts/r-0123456789ab")


def test_samples_use_one_rollout_id_and_alarm_name_that_agree() -> None:
    alarm = load_event("eventbridge/alarm_state_change_alarm.json")
    task = load_event("sfn/shift_traffic.json")

    assert task == {"rollout_id": "r-0123456789ab", "step_index": 0}
    assert alarm["detail"]["alarmName"] == f"rollouts-{task['rollout_id']}-5xx-rate"
    assert alarm["resources"] == [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm['detail']['alarmName']}"]


def test_monitoring_sample_matches_the_template_rule_that_routes_it() -> None:
    detail = load_event("eventbridge/monitoring_execution_completed.json")["detail"]

    assert detail["MonitoringScheduleArn"].endswith(":monitoring-schedule/churn-predictor-data-quality")
    assert detail["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped")
    assert detail["ExitMessage"].startswith("CompletedWithViolations:")


def test_feedback_samples_parse_as_the_ingest_function_reads_them() -> None:
    from rollouts.logic.feedback import parse_message

    api = load_event("api/post_feedback.json")
    batch = load_event("sqs/feedback_batch.json")
    bus = load_event("eventbridge/rollout_feedback.json")

    bodies = [api["body"], *(record["body"] for record in batch["Records"]), json.dumps(bus)]
    parsed = [parse_message(body) for body in bodies]
    assert [len(p.events) for p in parsed] == [3, 3, 1, 2]
    assert all(p.malformed == [] for p in parsed)
