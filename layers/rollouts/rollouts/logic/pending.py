"""Signals that arrived while no bake ran: the next task that can act on them does."""

from __future__ import annotations

from typing import Any

from rollouts.aws import store
from rollouts.errors import GuardrailBreachedError, RolloutAbortedError
from rollouts.models.rollout import PendingSignal, Rollout


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
    return rollout, commands_of(pending, bake)
