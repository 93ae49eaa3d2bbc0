"""An operator's pause of a strategy that loops on waits (the bandit's updates, the A/B test's looks): the weights
stay as they are until resume, promote or abort, and the pause's timeout (`guardrails.pause_timeout`) rolls back.

The task after a wait calls `held` first: a pause asked for makes it answer `pause` (the state machine waits in
Await Operator), and a resume sets the rollout going again. The canary's own pause is Judge Step's (a step baked
again after it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollouts.aws import store
from rollouts.logic.decisions import record
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus

Plan = Callable[[str, int], dict[str, Any]]


def held(rollout: Rollout, commands: list[str], plan: Plan, what: str) -> tuple[Rollout, dict[str, Any] | None]:
    """(the rollout, the pause's plan or None). A pause asked for and not overridden by a promote holds the weights;
    a resume of a paused rollout makes it Progressing again. `what` names what the pause holds back ('updates')."""
    if "pause" in commands and "promote" not in commands and rollout.status == RolloutStatus.PROGRESSING:
        timeout = int(rollout.spec.guardrails.pause_timeout)
        rollout = store.update_rollout(
            rollout.rollout_id,
            lambda r: r.model_copy(
                update={
                    "status": RolloutStatus.PAUSED,
                    "operator_paused": True,
                    "operator_pauses": r.operator_pauses + 1,
                }
            ),
        )
        weights = ", ".join(f"{variant} {weight:g} %" for variant, weight in sorted(rollout.weights.items()))
        record(
            rollout,
            DecisionKind.ROLLOUT_PAUSED,
            f"Paused by an operator: the weights stay at {weights or 'what they are'} and no {what} happen. POST "
            f"/rollouts/{rollout.rollout_id}/resume goes on, /promote promotes, /abort rolls back; with no command in "
            f"{timeout:,} s the rollout rolls back",
            {"weights": rollout.weights, "timeout_seconds": timeout, "by": "operator"},
            f"operator-pause-{rollout.operator_pauses}",
        )
        return rollout, plan("pause", timeout)
    if rollout.status == RolloutStatus.PAUSED and ("resume" in commands or "promote" in commands):
        rollout = store.update_rollout(
            rollout.rollout_id,
            lambda r: r.model_copy(update={"status": RolloutStatus.PROGRESSING, "operator_paused": False}),
        )
    return rollout, None
