"""Starting a rollout: validate the spec against the endpoint, take the endpoint's lock, start the state machine."""

from __future__ import annotations

import secrets

from rollouts.aws import store, workflows
from rollouts.errors import AwsError, RolloutNotStartedError
from rollouts.logic.validation import check_against_endpoint
from rollouts.models.api import StartRolloutResponse
from rollouts.models.rollout import Rollout, RolloutStatus
from rollouts.models.spec import RolloutSpec
from rollouts.settings import get_settings


def new_rollout_id() -> str:
    return f"r-{secrets.token_hex(6)}"


def start_rollout(spec: RolloutSpec) -> StartRolloutResponse:
    check_against_endpoint(spec)
    rollout = Rollout(rollout_id=new_rollout_id(), spec=spec)
    store.acquire_lock(spec.endpoint_name, rollout.rollout_id)
    try:
        store.put_new_rollout(rollout)
    except Exception:
        store.release_lock(spec.endpoint_name, rollout.rollout_id)
        raise
    # Each strategy's state machine is named after the stack and the strategy's type (template.yaml).
    machine = get_settings().state_machine_arn_prefix + spec.strategy.type
    try:
        arn = workflows.start(machine, rollout.rollout_id, {"rollout_id": rollout.rollout_id})
    except AwsError as error:
        # Nothing changed on the endpoint: the rollout ends Failed, saying why, and the endpoint is free again.
        reason = f"the rollout could not start: {error}"
        store.update_rollout(
            rollout.rollout_id, lambda r: r.model_copy(update={"status": RolloutStatus.FAILED, "reason": reason})
        )
        store.release_lock(spec.endpoint_name, rollout.rollout_id)
        raise RolloutNotStartedError(rollout.rollout_id, reason) from error
    rollout = store.update_rollout(rollout.rollout_id, lambda r: r.model_copy(update={"execution_arn": arn}))
    return StartRolloutResponse(rollout_id=rollout.rollout_id, status=rollout.status, execution_arn=arn)
