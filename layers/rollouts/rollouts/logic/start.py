"""Starting a rollout: validate the spec against the endpoint, take the endpoint's lock, start the state machine."""

from __future__ import annotations

import hashlib
import secrets

from rollouts.aws import store, workflows
from rollouts.errors import (
    AwsError,
    IdempotencyKeyReusedError,
    RolloutNotFoundError,
    RolloutNotRetryableError,
    RolloutNotStartedError,
)
from rollouts.logic.decisions import record
from rollouts.logic.signals import operator_command
from rollouts.logic.validation import check_against_endpoint
from rollouts.models.api import StartRolloutResponse
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.models.signal import OperatorCommand, SignalResult
from rollouts.models.spec import RolloutSpec
from rollouts.settings import get_settings


def new_rollout_id() -> str:
    return f"r-{secrets.token_hex(6)}"


def start_rollout(spec: RolloutSpec, idempotency_key: str | None = None) -> StartRolloutResponse:
    """Check the spec, take the endpoint's lock, store the rollout and start its execution.

    With an `idempotency_key`, a retry of the same request (same spec) answers what the first one started, even
    when the first answer never reached the caller; the key with another spec is refused.
    """
    rollout_id = new_rollout_id()
    if idempotency_key:
        fingerprint = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
        kept = store.remember_start(idempotency_key, fingerprint, rollout_id)
        if kept is not None:
            if kept["fingerprint"] != fingerprint:
                raise IdempotencyKeyReusedError(
                    f"Idempotency-Key {idempotency_key!r} was used for another request body (rollout "
                    f"{kept['rollout_id']}): use a new key for a new rollout"
                )
            try:
                started = store.get_rollout(kept["rollout_id"])
            except RolloutNotFoundError:
                rollout_id = kept["rollout_id"]  # the first request failed before storing it: start it now
            else:
                return StartRolloutResponse(
                    rollout_id=started.rollout_id, status=started.status, execution_arn=started.execution_arn
                )
    check_against_endpoint(spec)
    rollout = Rollout(rollout_id=rollout_id, spec=spec)
    store.acquire_lock(spec.lock_name, rollout.rollout_id)
    try:
        store.put_new_rollout(rollout)
    except Exception:
        store.release_lock(spec.lock_name, rollout.rollout_id)
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
        store.release_lock(spec.lock_name, rollout.rollout_id)
        raise RolloutNotStartedError(rollout.rollout_id, reason) from error
    rollout = store.update_rollout(rollout.rollout_id, lambda r: r.model_copy(update={"execution_arn": arn}))
    return StartRolloutResponse(rollout_id=rollout.rollout_id, status=rollout.status, execution_arn=arn)


def retry_rollout(
    rollout_id: str, idempotency_key: str | None = None, request_id: str = ""
) -> StartRolloutResponse | SignalResult:
    """Retry: a rollout that rolled back (or never started) runs its spec again as a new rollout, the same checks
    first; the new rollout's start is the answer, and the old one's log says where it went. A rollout whose
    rollback could not be verified has its restore tried again, as an operator's abort does."""
    rollout = store.get_rollout(rollout_id)
    if rollout.status == RolloutStatus.ROLLBACK_FAILED:
        return operator_command(rollout_id, OperatorCommand.ABORT, "retry of the restore", request_id)
    if rollout.status not in (RolloutStatus.ROLLED_BACK, RolloutStatus.FAILED):
        raise RolloutNotRetryableError(
            f"rollout {rollout_id} is {rollout.status.value}: retry re-runs a RolledBack or Failed rollout (and "
            "retries the restore of a RollbackFailed one); promote, abort or wait for this one"
        )
    started = start_rollout(rollout.spec, idempotency_key or f"retry:{rollout_id}")
    record(
        rollout,
        DecisionKind.OPERATOR_COMMAND,
        f"Retried as rollout {started.rollout_id}",
        {"command": "retry", "retried_as": started.rollout_id},
        dedup_key=f"retry:{started.rollout_id}",
    )
    return started
