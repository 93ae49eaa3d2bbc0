"""Reading rollouts for the API."""

from __future__ import annotations

import base64
import binascii
import json

from rollouts.aws import store
from rollouts.errors import InvalidRolloutError
from rollouts.models.api import ListRolloutsQuery, RolloutList, RolloutSummary, RolloutView


def describe_rollout(rollout_id: str) -> RolloutView:
    return RolloutView.of(store.get_rollout(rollout_id), store.list_decisions(rollout_id))


def list_rollouts(query: ListRolloutsQuery) -> RolloutList:
    """A page of rollouts, newest first; `next_token` is the page's last key, opaque to the caller."""
    start_key = _key_of(query.next_token) if query.next_token else None
    if start_key is not None and ("gsi1pk" in start_key) != (query.endpoint is not None):
        raise InvalidRolloutError(field="next_token", reason="it belongs to a listing with other parameters")
    statuses = [status.value for status in query.status]
    rollouts, next_key = store.list_rollouts(query.endpoint, statuses, query.limit, start_key)
    token = base64.urlsafe_b64encode(json.dumps(next_key).encode()).decode() if next_key else None
    return RolloutList(rollouts=[RolloutSummary.of(rollout) for rollout in rollouts], next_token=token)


def _key_of(token: str) -> dict[str, dict[str, str]]:
    reason = "not a next_token this API returned"
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error) as error:
        raise InvalidRolloutError(field="next_token", reason=reason) from error
    if not isinstance(key, dict):
        raise InvalidRolloutError(field="next_token", reason=reason)
    names = {"pk", "sk", "gsi1pk", "gsi1sk"} if "gsi1pk" in key else {"pk", "sk", "gsi2pk", "gsi2sk"}
    if set(key) != names or not all(
        isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()
    ):
        raise InvalidRolloutError(field="next_token", reason=reason)
    return {str(name): {"S": str(value["S"])} for name, value in key.items()}
