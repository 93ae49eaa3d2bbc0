"""Every parser of outside input, fed generated input: it answers or refuses in its own terms, never crashes."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rollouts.logic.feedback import parse_message
from rollouts.logic.shadow import parse_capture
from rollouts.logic.signals import ALARM_EVENT, ENDPOINT_EVENT, EXECUTION_EVENT, PROCESSING_JOB_EVENT, normalise
from rollouts.models.feedback import parse_feedback
from rollouts.monitoring.violations import ViolationsFormatError, parse_violations

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "alarmName", "state", "value", "reason", "timestamp", "EndpointName", "EndpointStatus",
        "MonitoringScheduleArn", "ProcessingJobArn", "ProcessingJobStatus", "ExitMessage", "FailureReason",
        "executionArn", "status", "input", "error", "cause",
    ]
)  # fmt: skip
DETAIL = st.dictionaries(KEYS, JSON | st.text(max_size=30), max_size=8) | JSON
EVENT_TYPES = st.sampled_from([ALARM_EVENT, ENDPOINT_EVENT, EXECUTION_EVENT, PROCESSING_JOB_EVENT, "Other Event"])


@settings(max_examples=400, deadline=None)
@given(detail_type=EVENT_TYPES | JSON, detail=DETAIL, time=JSON)
def test_any_eventbridge_event_is_a_signal_or_nothing(detail_type: Any, detail: Any, time: Any) -> None:
    normalise({"detail-type": detail_type, "source": "aws.x", "detail": detail, "time": time})


@settings(max_examples=300, deadline=None)
@given(body=st.text(max_size=200) | JSON.map(json.dumps) | JSON.map(lambda v: json.dumps({"events": v})))
def test_any_feedback_message_parses_into_events_and_refusals(body: str) -> None:
    parsed = parse_message(body)
    assert all(isinstance(reason, str) and reason for _, reason in parsed.malformed)


@settings(max_examples=300, deadline=None)
@given(item=JSON | st.dictionaries(st.sampled_from(["event_id", "endpoint", "variant", "reward", "kind", "label",
                                                     "inference_id"]), JSON, max_size=7))  # fmt: skip
def test_any_feedback_event_is_an_event_or_a_validation_error(item: Any) -> None:
    with contextlib.suppress(ValidationError):
        parse_feedback(item)


@settings(max_examples=300, deadline=None)
@given(document=JSON | JSON.map(lambda v: {"violations": v}) | st.text(max_size=100))
def test_any_violations_document_is_violations_or_a_format_error(document: Any) -> None:
    with contextlib.suppress(ViolationsFormatError):
        parse_violations(json.dumps(document) if not isinstance(document, str) else document)


CAPTURE_KEYS = st.sampled_from(
    ["captureData", "eventMetadata", "eventVersion", "endpointOutput", "endpointInput", "data", "encoding", "mode",
     "observedContentType", "inferenceId", "inferenceTime"]
)  # fmt: skip
CAPTURE: st.SearchStrategy[Any] = st.recursive(
    JSON | st.sampled_from(["BASE64", "CSV", "JSON", "2024-05-01T10:00:00", "2024-05-01T10:00:00Z", "0.7,1", "e30="]),
    lambda inner: st.dictionaries(CAPTURE_KEYS, inner, max_size=4) | st.lists(inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(line=CAPTURE.map(json.dumps) | st.text(max_size=80))
def test_any_captured_line_is_a_prediction_or_nothing(line: str) -> None:
    captured = parse_capture(line)
    if captured is not None:
        assert captured.inference_id and isinstance(captured.output, str)
        assert captured.inferred_at is None or captured.inferred_at.tzinfo is not None


def test_a_captured_time_without_a_zone_is_utc_and_odd_shapes_are_skipped() -> None:
    # A naive inferenceTime was compared with the window's aware bounds: TypeError, and the shadow's judge failed.
    line = {
        "captureData": {"endpointOutput": {"data": "0.7,1", "encoding": "CSV"}},
        "eventMetadata": {"inferenceId": "a-1", "inferenceTime": "2024-05-01T10:00:00"},
    }
    captured = parse_capture(json.dumps(line))
    assert captured is not None
    assert (captured.inference_id, captured.output) == ("a-1", "0.7")
    assert captured.inferred_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_capture(json.dumps({**line, "captureData": "text"})) is None
    assert parse_capture(json.dumps({**line, "eventMetadata": ["a-1"]})) is None
    assert parse_capture("not json") is None
