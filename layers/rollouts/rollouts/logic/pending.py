"""Signals that arrived while no bake ran: the next task that can act on them does."""

from __future__ import annotations

from typing import Any

from rollouts.aws import alarms, store
from rollouts.errors import GuardrailBreachedError, RolloutAbortedError
from rollouts.logic.decisions import record
from rollouts.models.rollout import DecisionKind, PendingSignal, Rollout


def raise_pending(pending: list[PendingSignal]) -> None:
    for signal in pending:
        if signal.error == RolloutAbortedError.__name__:
            raise RolloutAbortedError(signal.cause)
    for signal in pending:
        if signal.error == GuardrailBreachedError.__name__:
            raise GuardrailBreachedError(signal.cause)


def take_pending(rollout_id: str) -> list[PendingSignal]:
    taken: list[PendingSignal] = []

    def change(r: Rollout) -> Rollout | None:
        taken[:] = r.pending
        if not r.pending and not r.task_token:
            return None
        return r.model_copy(update={"pending": [], "task_token": None})

    store.update_rollout(rollout_id, change)
    return taken


def commands_of(pending: list[PendingSignal], bake: dict[str, Any] | None) -> list[str]:
    """The operator commands (promote, resume) that reached a task: those left pending and the one that ended its
    wait (the bake's output)."""
    return [p.command for p in pending if p.command] + ([bake["command"]] if bake and "command" in bake else [])


def take_commands(rollout_id: str, bake: dict[str, Any] | None) -> tuple[Rollout, list[str]]:
    """For a task after a wait: take the pending signals, raise a breach or an abort among them, and return the
    rollout with the operator commands to act on."""
    pending = take_pending(rollout_id)
    rollout = store.get_rollout(rollout_id)
    raise_pending(pending)
    raise_firing(rollout)
    return rollout, commands_of(pending, bake)


def raise_firing(rollout: Rollout) -> None:
    """A judgement reads its guard alarms' state: an alarm in ALARM since before the rollout began, or whose event
    never came, sends no signal, and must not be missed. An alarm of one arm of a strategy that removes a breached
    arm is the signal path's to act on (`remove_arm`)."""
    removes_arm = rollout.spec.strategy.removes_arm_on_breach()
    names = [name for name in rollout.guard_alarm_names if not (removes_arm and name in rollout.alarm_variants)]
    firing = alarms.firing(names)
    if not firing:
        return
    cause = "alarms in ALARM at the judgement: " + ", ".join(f"'{a['alarm']}' ({a['reason']})" for a in firing)
    record(
        rollout,
        DecisionKind.GUARDRAIL_BREACHED,
        f"Guardrail breached: {cause}",
        {"alarms_firing": firing, "alarms_checked": names},
    )
    raise GuardrailBreachedError(cause)
