"""The control plane's own metrics, as Powertools writes them (EMF on stdout): decisions by kind and the time to a
final one, signals by source, and feedback sent to the dead-letter queue."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from rollouts import clock
from rollouts.logic import decisions, feedback, signals
from rollouts.models.rollout import DecisionKind, Rollout
from rollouts.models.signal import Signal, SignalOutcome, SignalResult, SignalSource
from rollouts.observability import emit, metrics
from sandbox.scenarios import spec


def emf(output: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines written (the logger writes JSON too)."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [d for d in documents if "_aws" in d]


def metric(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    found = []
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        if any(m["Name"] == name for m in directive["Metrics"]):
            assert directive["Namespace"] == "SageMakerRollouts"
            found.append(document)
    return found


@pytest.fixture(autouse=True)
def enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics written, as in Lambda (the local cloud disables them)."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)


@pytest.fixture
def rollout() -> Rollout:
    return Rollout.model_validate({"rollout_id": "r-0123456789ab", "spec": spec()})


@pytest.fixture
def appended(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision log takes every decision; nothing is published."""
    monkeypatch.setattr("rollouts.aws.store.append_decision", lambda *_: True)
    monkeypatch.setattr("rollouts.aws.bus.entry", lambda *_: {})
    monkeypatch.setattr(decisions, "deliver", lambda _: 0)


@pytest.mark.usefixtures("appended")
def test_a_decision_is_counted_by_its_kind(rollout: Rollout, capsys: pytest.CaptureFixture[str]) -> None:
    decisions.record(rollout, DecisionKind.GUARDRAIL_BREACHED, "breached")

    documents = emf(capsys.readouterr().out)
    (document,) = metric(documents, "Decisions")
    assert sorted(document["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["Kind", "service"]
    assert (document["service"], document["Kind"], document["Decisions"]) == ("rollouts", "Guardrail Breached", [1.0])
    assert metric(documents, "DecisionSeconds") == []


@pytest.mark.usefixtures("appended")
@pytest.mark.parametrize("kind", [DecisionKind.ROLLOUT_PROMOTED, DecisionKind.ROLLOUT_ROLLED_BACK])
def test_a_final_decision_also_gives_the_seconds_since_the_rollout_began(
    rollout: Rollout, kind: DecisionKind, capsys: pytest.CaptureFixture[str]
) -> None:
    started = rollout.model_copy(update={"created_at": clock.now() - timedelta(minutes=90)})

    decisions.record(started, kind, "done")

    (document,) = metric(emf(capsys.readouterr().out), "DecisionSeconds")
    assert document["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "DecisionSeconds", "Unit": "Seconds"}]
    assert document["Kind"] == kind.value
    assert document["DecisionSeconds"][0] == pytest.approx(5400, abs=30)


def test_a_decision_already_recorded_is_not_counted_again(
    rollout: Rollout, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("rollouts.aws.store.append_decision", lambda *_: False)
    monkeypatch.setattr("rollouts.aws.bus.entry", lambda *_: {})
    monkeypatch.setattr(decisions, "deliver", lambda _: 0)

    decisions.record(rollout, DecisionKind.ROLLOUT_PROMOTED, "done", dedup_key="final")

    assert metric(emf(capsys.readouterr().out), "Decisions") == []


@pytest.mark.parametrize("source", list(SignalSource))
def test_a_signal_is_counted_by_its_source(
    source: SignalSource, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ignored = SignalResult(rollout_id=None, outcome=SignalOutcome.IGNORED, message="test")
    monkeypatch.setattr(signals, "_endpoint_changed", lambda _: ignored)
    monkeypatch.setattr(signals, "_execution_ended", lambda _: ignored)
    monkeypatch.setattr(signals, "_concerned", lambda _: [])

    signals.handle_signal(Signal(source=source, dedup_key="k"))

    (document,) = metric(emf(capsys.readouterr().out), "Signals")
    assert sorted(document["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["Source", "service"]
    assert (document["Source"], document["Signals"]) == (source.value, [1.0])


def test_every_feedback_event_sent_to_the_dead_letter_queue_is_counted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: list[str] = []
    monkeypatch.setattr("rollouts.aws.feedback.send_to_dead_letters", lambda body, reason: sent.append(body))
    metrics.clear_metrics()
    parsed = feedback.parse_message(json.dumps({"events": [{"no": "fields"}, "not an object"]}))

    feedback.dead_letter(parsed, "m-1")
    feedback.dead_letter_failed('{"events": []}', "throttled", 5)
    metrics.flush_metrics()

    (document,) = metric(emf(capsys.readouterr().out), "FeedbackDeadLettered")
    assert len(sent) == 3
    assert document["FeedbackDeadLettered"] == [1.0, 1.0, 1.0]
    assert document["service"] == "rollouts"


def test_nothing_is_written_when_metrics_are_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    emit("Signals", "Source", "alarm")

    assert emf(capsys.readouterr().out) == []
