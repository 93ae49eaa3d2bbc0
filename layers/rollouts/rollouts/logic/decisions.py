"""Recording a decision: append it to the log and, for the ones that matter outside, publish it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from rollouts.aws import bus, store
from rollouts.errors import AwsError, AwsRetryableError
from rollouts.models.rollout import PUBLISHED_KINDS, Decision, DecisionKind, Rollout
from rollouts.observability import logger, metrics


def record(
    rollout: Rollout,
    kind: DecisionKind,
    message: str,
    evidence: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> Decision | None:
    """Append once per dedup key; returns None when this decision was already recorded.

    A published kind is logged with its event in the rollout's outbox (one write), then delivered: a bus that refuses
    it leaves it in the outbox for the next decision of the rollout, or its retried task, to deliver, and does not
    change the rollout's course.
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
    if event is not None or not appended:
        deliver(rollout.rollout_id)
    return decision if appended else None


def deliver(rollout_id: str, strict: bool = False) -> int:
    """Publish the rollout's outbox, oldest first; how many events are left in it.

    What the bus refuses stays for the next call. `strict` (the last task of an execution, after which nothing else
    would deliver) raises the bus's error instead, so that the task is retried.
    """
    try:
        waiting = store.outbox(rollout_id)
        if not waiting:
            return 0
        accepted = bus.put([event for _, event in waiting])
    except AwsError as error:
        if strict:
            raise
        logger.warning("Decisions not published yet", extra={"rollout_id": rollout_id, "error": str(error)})
        metrics.add_metric(name="PublishDeferred", unit=MetricUnit.Count, value=1)
        return -1
    for (key, _), ok in zip(waiting, accepted, strict=True):
        if ok:
            store.published(rollout_id, key)
    left = accepted.count(False)
    if left and strict:
        raise AwsRetryableError(
            operation="PutEvents", code="FailedEntries", message=f"{left} events refused", retryable=True
        )
    return left
