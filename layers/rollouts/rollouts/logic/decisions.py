"""Recording a decision: append it to the log and, for the ones that matter outside, publish it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from rollouts import clock
from rollouts.aws import bus, store
from rollouts.errors import AwsError
from rollouts.models.rollout import PUBLISHED_KINDS, Decision, DecisionKind, Rollout
from rollouts.observability import emit, logger, metrics

# An outbox event this old was refused when it was decided (its own delivery takes well under a second).
WAITING_SECONDS = 60.0
# The decisions that end a rollout: their time since the rollout began is the metric DecisionSeconds.
FINAL_KINDS = (DecisionKind.ROLLOUT_PROMOTED, DecisionKind.ROLLOUT_ROLLED_BACK)


def record(
    rollout: Rollout,
    kind: DecisionKind,
    message: str,
    evidence: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> Decision | None:
    """Append once per dedup key; returns None when this decision was already recorded.

    A published kind is logged with its event in the rollout's outbox (one write), then delivered: a bus that refuses
    it leaves it in the outbox for the next decision of the rollout, its retried task or the scheduled delivery
    (`deliver_waiting`) to deliver, and does not change the rollout's course.
    """
    decision = Decision(rollout_id=rollout.rollout_id, kind=kind, message=message, evidence=evidence or {})
    context = {
        "endpoint_name": rollout.endpoint_name,
        "baseline_variant": rollout.baseline_variant,
        "candidate_variant": rollout.candidate_variant,
    }
    event = bus.entry(decision, context) if kind in PUBLISHED_KINDS else None
    appended = store.append_decision(decision, dedup_key, event)
    if appended:
        logger.info(message, extra={"decision": kind.value, "evidence": decision.evidence})
        metrics.add_metric(name=kind.value.replace(" ", ""), unit=MetricUnit.Count, value=1)
        emit("Decisions", "Kind", kind.value)
        if kind in FINAL_KINDS:
            seconds = (decision.at - rollout.created_at).total_seconds()
            emit("DecisionSeconds", "Kind", kind.value, max(seconds, 0.0), MetricUnit.Seconds)
    if event is not None or not appended:
        deliver(rollout.rollout_id)
    return decision if appended else None


def deliver(rollout_id: str) -> int:
    """Publish the rollout's outbox, oldest first; how many events are left in it (-1: the bus could not be reached).

    What the bus refuses stays for the next call: the rollout's next decision, or the scheduled delivery.
    """
    try:
        waiting = store.outbox(rollout_id)
        if not waiting:
            return 0
        accepted = bus.put([event for _, event in waiting])
    except AwsError as error:
        logger.warning("Decisions not published yet", extra={"rollout_id": rollout_id, "error": str(error)})
        metrics.add_metric(name="PublishDeferred", unit=MetricUnit.Count, value=1)
        return -1
    for (key, _), ok in zip(waiting, accepted, strict=True):
        if ok:
            store.published(rollout_id, key)
    left = accepted.count(False)
    if left:
        metrics.add_metric(name="PublishDeferred", unit=MetricUnit.Count, value=1)
    return left


def deliver_waiting(older_than_seconds: float = WAITING_SECONDS) -> dict[str, int]:
    """The scheduled delivery (DeliverDecisionsFunction, every minute): publish every outbox whose events have waited
    longer than `older_than_seconds`, those the bus refused when they were decided (a younger event is still its own
    task's to deliver). The counts of rollouts and of events left waiting."""
    before = clock.now() - timedelta(seconds=older_than_seconds)
    rollouts = store.waiting_outboxes(before)
    left = [deliver(rollout_id) for rollout_id in rollouts]
    waiting = sum(count for count in left if count > 0) + left.count(-1)
    metrics.add_metric(name="DecisionsWaiting", unit=MetricUnit.Count, value=waiting)
    if rollouts:
        logger.info("Outboxes delivered", extra={"rollouts": rollouts, "left": left})
    return {"rollouts": len(rollouts), "left": waiting}
