"""The canary's own task: shift the traffic to the next step of its plan (`rollouts.strategies.canary`)."""

from __future__ import annotations

from typing import Any

from rollouts import clock
from rollouts.aws import endpoints, store
from rollouts.logic.decisions import record
from rollouts.logic.pending import raise_pending
from rollouts.models.rollout import DecisionKind
from rollouts.strategies import canary
from rollouts.strategies.canary import CanaryStrategy


def shift_traffic(rollout_id: str, step_index: int) -> dict[str, Any]:
    """Shift Traffic: give the candidate the step's weight."""
    rollout = store.get_rollout(rollout_id)
    raise_pending(rollout.pending)
    strategy = rollout.strategy_as(CanaryStrategy)
    step = canary.step_at(strategy, step_index)
    weights = canary.split(step.weight, rollout.baseline_variant or "", rollout.candidate_variant)
    endpoints.set_weights(rollout.endpoint_name, weights)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                "step_index": step_index,
                "weights": weights,
                "started_at": r.started_at or clock.now(),
                "extra_bakes": 0 if r.step_index != step_index else r.extra_bakes,
            }
        ),
    )
    record(
        rollout,
        DecisionKind.TRAFFIC_SHIFTED,
        f"Step {step_index + 1}/{strategy.step_count()}: candidate '{rollout.candidate_variant}' at "
        f"{step.weight:g} % for {step.bake_seconds} s",
        # The verdicts that allowed this step travel with the event that announces it.
        {"step": step_index, "weights": weights, "bake_seconds": step.bake_seconds, "judgement": rollout.judgement},
        dedup_key=f"shift-{step_index}",
    )
    return {"index": step.index, "weight": step.weight, "bake_seconds": step.bake_seconds, "is_last": step.is_last}
