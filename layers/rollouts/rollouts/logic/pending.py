"""Signals that arrived while no bake ran: the next task that can act on them does."""

from __future__ import annotations

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
