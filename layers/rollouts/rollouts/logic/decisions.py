"""Recording a decision: append it to the log and, for the ones that matter outside, publish it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from rollouts.aws import bus, store
from rollouts.models.rollout import PUBLISHED_KINDS, Decision, DecisionKind, Rollout
from rollouts.observability import logger, metrics


def record(
    rollout: Rollout,
    kind: DecisionKind,
    message: str,
    evidence: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> Decision | None:
    """Append once per dedup key; returns None when this decision was already recorded."""
    decision = Decision(rollout_id=rollout.rollout_id, kind=kind, message=message, evidence=evidence or {})
    if not store.append_decision(decision, dedup_key):
        return None
    logger.info(message, extra={"decision": kind.value, "evidence": decision.evidence})
    metrics.add_metric(name=kind.value.replace(" ", ""), unit=MetricUnit.Count, value=1)
    if kind in PUBLISHED_KINDS:
        bus.publish(
            decision,
            {
                "endpoint_name": rollout.endpoint_name,
                "baseline_variant": rollout.baseline_variant,
                "candidate_variant": rollout.candidate_variant,
            },
        )
    return decision
