"""Waiting for an endpoint update: a callback wait that SageMaker's state-change event, or the task itself, ends."""

from __future__ import annotations

from typing import Any

from rollouts import clock
from rollouts.aws import endpoints, store, workflows
from rollouts.errors import ComponentUpdatingError, EndpointUpdateFailedError
from rollouts.logic import components
from rollouts.models.rollout import Rollout
from rollouts.strategies.base import ENDPOINT_UPDATE_SECONDS

BUSY = ("Creating", "Updating", "SystemUpdating", "RollingBack")
SETTLED = ("InService", "Failed", "OutOfService", "UpdateRollbackFailed")


def endpoint_of(rollout: Rollout) -> dict[str, Any]:
    endpoint = endpoints.describe_endpoint(rollout.endpoint_name)
    if endpoint is None:
        raise EndpointUpdateFailedError(f"endpoint '{rollout.endpoint_name}' no longer exists")
    return endpoint


MAX_WAIT_SECONDS = ENDPOINT_UPDATE_SECONDS  # an endpoint update that has not settled in 2 h is taken as failed


def await_endpoint(rollout_id: str, task_token: str, max_wait_seconds: int = MAX_WAIT_SECONDS) -> dict[str, Any]:
    """Await Endpoint (callback): the endpoint's state-change event ends the wait; so does a settled endpoint now.

    The wait looks again after each timeout (… Still Updating), up to `max_wait_seconds` from its first look; then
    EndpointUpdateFailedError ends it. An inference component sends no event: while it updates, the task fails
    with ComponentUpdatingError, which the state machine retries a minute later, under the same bound.
    """
    now = clock.now()

    def start(r: Rollout) -> Rollout:
        return r.model_copy(update={"endpoint_token": task_token, "endpoint_wait_since": r.endpoint_wait_since or now})

    rollout = store.update_rollout(rollout_id, start)
    since = rollout.endpoint_wait_since or now
    if (now - since).total_seconds() >= max_wait_seconds:
        store.update_rollout(
            rollout_id, lambda r: r.model_copy(update={"endpoint_token": None, "endpoint_wait_since": None})
        )
        if rollout.component_name:
            status = components.component_of(rollout).get("InferenceComponentStatus")
            what = f"inference component '{rollout.component_name}'"
        else:
            status, what = endpoint_of(rollout)["EndpointStatus"], f"endpoint '{rollout.endpoint_name}'"
        raise EndpointUpdateFailedError(
            f"{what} is still {status} {int((now - since).total_seconds())} s after the wait began (at most "
            f"{max_wait_seconds} s)"
        )
    # The update may have finished before the token was stored: its event found no token to answer.
    if endpoint_settled(rollout_id) or not rollout.component_name:
        return {"awaiting": True}
    # No event will end the wait for a component: the task fails now and the state machine looks again in a minute.
    store.update_rollout(
        rollout_id, lambda r: r.model_copy(update={"endpoint_token": None}) if r.endpoint_token == task_token else None
    )
    raise ComponentUpdatingError(f"inference component '{rollout.component_name}' is still updating")


def endpoint_settled(rollout_id: str) -> bool:
    """End the wait for the endpoint, once, if the endpoint has settled; False if it has not or no wait runs.

    The endpoint is described after the token is taken, so a late event about an earlier update cannot answer a
    wait for a later one with stale facts.
    """
    token: list[str | None] = [None]

    def take(r: Rollout) -> Rollout | None:
        token[0] = r.endpoint_token
        return r.model_copy(update={"endpoint_token": None}) if r.endpoint_token else None

    rollout = store.update_rollout(rollout_id, take)
    taken = token[0]
    if not taken:
        return False
    answer = _answer(rollout)
    if answer is None:
        store.update_rollout(rollout_id, lambda r: r.model_copy(update={"endpoint_token": r.endpoint_token or taken}))
        # An event that came while the token was out found none to answer: look again now that it is back. An
        # update that settles after this look sends its event to a stored token.
        if _answer(rollout) is not None:
            return endpoint_settled(rollout_id)
        return False
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"endpoint_wait_since": None}))
    return workflows.succeed_task(taken, answer)


def _answer(rollout: Rollout) -> dict[str, Any] | None:
    """The wait's answer once what it waits for has settled (None before): the endpoint's status and config, or an
    inference component's status and model."""
    if rollout.component_name:
        component = components.component_of(rollout)
        return components.status_of(component) if components.settled(component) else None
    endpoint = endpoint_of(rollout)
    if endpoint["EndpointStatus"] not in SETTLED:
        return None
    return {"status": endpoint["EndpointStatus"], "config_name": endpoint["EndpointConfigName"]}
