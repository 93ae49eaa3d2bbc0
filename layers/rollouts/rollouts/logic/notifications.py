"""Notifications for people: the decisions that matter to them, as readable messages on the stack's SNS topic.

Rule NotifyDecisions (template.yaml) hands the bus's decision events of the kinds in `NOTIFIED` to NotifyFunction,
which calls `notify`. The message says what happened on which endpoint, with which models, why (the reason and the
evidence it rests on) and the command to see more. A notification is sent from the event, after the decision is
stored: a failure to notify never blocks or fails a rollout (the event is retried, then dead-lettered).
"""

from __future__ import annotations

from typing import Any

from rollouts.aws import store, topics
from rollouts.errors import RolloutNotFoundError
from rollouts.models.rollout import Decision, DecisionKind, Rollout
from rollouts.settings import get_settings

NOTIFIED = {
    DecisionKind.ROLLOUT_STARTED: "started",
    DecisionKind.ROLLOUT_PAUSED: "paused, waiting for an operator",
    DecisionKind.ROLLOUT_ROLLED_BACK: "rolled back",
    DecisionKind.ROLLBACK_FAILED: "ROLLBACK FAILED",
    DecisionKind.ROLLOUT_PROMOTED: "promoted",
}
# The decisions a rollback's evidence is read from: what fired, what the judge saw.
CAUSES = (DecisionKind.GUARDRAIL_BREACHED, DecisionKind.STEP_JUDGED, DecisionKind.AB_TEST_JUDGED)
MAX_SUBJECT = 100  # SNS's limit for a subject
MAX_EVIDENCE_LINES = 12


def notify(event: dict[str, Any]) -> dict[str, Any]:
    """Publish one decision event's notification: {"published": message id} or {"skipped": why}."""
    kind_name, detail = event.get("detail-type"), event.get("detail")
    kind = next((k for k in NOTIFIED if k.value == kind_name), None)
    if kind is None or not isinstance(detail, dict) or not isinstance(detail.get("rollout_id"), str):
        return {"skipped": f"{kind_name!r} is not a decision people are told of"}
    try:
        rollout = store.get_rollout(detail["rollout_id"])
    except RolloutNotFoundError:
        return {"skipped": f"rollout {detail['rollout_id']} is not in the table"}
    subject, text = message(kind, detail, rollout, store.list_decisions(rollout.rollout_id))
    topic = get_settings().notifications_topic_arn
    if not topic:
        return {"skipped": "no notifications topic is configured"}
    message_id = topics.publish(topic, subject, text, {"kind": kind.value, "endpoint_name": rollout.endpoint_name})
    return {"published": message_id}


def message(kind: DecisionKind, detail: dict[str, Any], rollout: Rollout, decisions: list[Decision]) -> tuple[str, str]:
    """(subject, text) of a notification: plain text, readable in a mail, a chat or a pager."""
    what = NOTIFIED[kind]
    candidates = ", ".join(c.model_name for c in rollout.spec.candidates)
    subject = f"Rollout {what}: {candidates} on {rollout.endpoint_name}"
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1] + "…"
    lines = [
        f"Rollout {rollout.rollout_id} on endpoint '{rollout.endpoint_name}': {what}.",
        f"{detail.get('message', '')}",
        "",
        f"Strategy: {rollout.spec.strategy.type}. Candidate model(s): {candidates}"
        + (f" (from {rollout.spec.candidate.model_package_arn})" if rollout.spec.candidate.model_package_arn else "")
        + f". Baseline variant: {rollout.baseline_variant or '-'}.",
        "Weights now: " + (", ".join(f"{v} {w:g} %" for v, w in rollout.weights.items()) or "none"),
    ]
    if rollout.reason and kind in (DecisionKind.ROLLOUT_ROLLED_BACK, DecisionKind.ROLLBACK_FAILED):
        lines.append(f"Why: {rollout.reason}")
    evidence = [line for line in _evidence(kind, detail, decisions) if line != f"  reason: {rollout.reason}"]
    if evidence:
        lines += ["", "Evidence:", *evidence[:MAX_EVIDENCE_LINES]]
    lines += ["", *_next_steps(kind, rollout.rollout_id), f"At: {detail.get('at', '')}"]
    return subject, "\n".join(lines)


def _evidence(kind: DecisionKind, detail: dict[str, Any], decisions: list[Decision]) -> list[str]:
    """The figures behind the decision: its own evidence, and for a rollback that of what caused it."""
    sources: list[tuple[str, dict[str, Any]]] = []
    if kind in (DecisionKind.ROLLOUT_ROLLED_BACK, DecisionKind.ROLLBACK_FAILED):
        cause = next((d for d in reversed(decisions) if d.kind in CAUSES and _is_failure(d)), None)
        if cause is not None:
            sources.append((f"{cause.kind.value}: {cause.message}", cause.evidence))
    own = detail.get("evidence")
    sources.append(("", own if isinstance(own, dict) else {}))
    lines: list[str] = []
    for title, evidence in sources:
        if title:
            lines.append(f"- {title}")
        for verdict in evidence.get("metrics") or []:
            if isinstance(verdict, dict):
                explanation = (verdict.get("evidence") or {}).get("explanation", "")
                lines.append(f"  {verdict.get('metric')}: {verdict.get('outcome')}: {explanation}")
        for key, value in evidence.items():
            if isinstance(value, str | int | float | bool) and key not in ("explanation",):
                lines.append(f"  {key}: {value}")
    return lines


def _is_failure(decision: Decision) -> bool:
    if decision.kind == DecisionKind.GUARDRAIL_BREACHED:
        return True
    return any(isinstance(v, dict) and v.get("outcome") == "Failed" for v in decision.evidence.get("metrics") or [])


def _next_steps(kind: DecisionKind, rollout_id: str) -> list[str]:
    see = [f"See more: rollouts get {rollout_id}   (or: rollouts report {rollout_id} -o report.html)"]
    if kind == DecisionKind.ROLLOUT_PAUSED:
        return [f"To go on: rollouts resume {rollout_id}; or rollouts promote|abort {rollout_id}", *see]
    if kind == DecisionKind.ROLLBACK_FAILED:
        return [
            "The endpoint's lock is held until the restore is verified: see the runbook, 'When a rollback fails'; "
            f"then rollouts retry {rollout_id}",
            *see,
        ]
    return see
