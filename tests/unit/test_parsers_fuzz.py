"""Every parser of outside input, fed generated input: it answers or refuses in its own terms, never crashes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rollouts.logic.feedback import parse_message
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
