"""Reading a rollout for the API."""

from __future__ import annotations

from rollouts.aws import store
from rollouts.models.api import RolloutView


def describe_rollout(rollout_id: str) -> RolloutView:
    return RolloutView.of(store.get_rollout(rollout_id), store.list_decisions(rollout_id))
