"""REST API for release tooling: start a rollout, list and read them, abort, promote, resume from a pause, retry;
and the release policies that turn an approved Model Registry version into rollouts."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from rollouts.aws import store
from rollouts.aws.clients import translated
from rollouts.errors import (
    AwsError,
    EndpointLockedError,
    IdempotencyKeyReusedError,
    InvalidRolloutError,
    RolloutFinishedError,
    RolloutNotFoundError,
    RolloutNotPausableError,
    RolloutNotPausedError,
    RolloutNotRetryableError,
    RolloutNotStartedError,
    field_errors,
)
from rollouts.http import BadRequestError, Response, Router, error_response, invalid_request
from rollouts.logic.approval import spec_of_request
from rollouts.logic.queries import describe_rollout, list_rollouts
from rollouts.logic.signals import operator_command
from rollouts.logic.start import retry_rollout, start_rollout
from rollouts.models.api import CommandResponse, ListRolloutsQuery, StartRolloutResponse
from rollouts.models.policy import ReleasePolicy
from rollouts.models.signal import OperatorCommand, SignalResult
from rollouts.observability import logger, metrics

app = Router(translate=translated)


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response:
    return invalid_request(field_errors(error))


@app.exception_handler(InvalidRolloutError)
def _invalid_rollout(error: InvalidRolloutError) -> Response:
    details = [{"field": error.field, "reason": error.reason}] if error.field else []
    return error_response(400, "InvalidRollout", str(error), details)


@app.exception_handler(RolloutNotFoundError)
def _not_found(error: RolloutNotFoundError) -> Response:
    return error_response(404, "RolloutNotFound", str(error))


@app.exception_handler(EndpointLockedError)
def _locked(error: EndpointLockedError) -> Response:
    details = [{"active_rollout_id": error.active_rollout_id}]
    return error_response(409, "EndpointLocked", str(error), details)


@app.exception_handler(RolloutFinishedError)
def _finished(error: RolloutFinishedError) -> Response:
    return error_response(409, "RolloutFinished", str(error))


@app.exception_handler(IdempotencyKeyReusedError)
def _key_reused(error: IdempotencyKeyReusedError) -> Response:
    return error_response(422, "IdempotencyKeyReused", str(error), [{"field": "Idempotency-Key", "reason": str(error)}])


@app.exception_handler(AwsError)
def _aws_unavailable(error: AwsError) -> Response:
    """AWS throttled or failed a call the request needed: nothing the caller sent is wrong; try again."""
    status, name = (503, "ServiceUnavailable") if error.retryable else (502, "BadGateway")
    return error_response(status, name, str(error), headers={"Retry-After": "5"} if error.retryable else None)


@app.exception_handler(RolloutNotStartedError)
def _not_started(error: RolloutNotStartedError) -> Response:
    details = [{"rollout_id": error.rollout_id}]
    return error_response(503, "RolloutNotStarted", str(error), details, {"Retry-After": "5"})


@app.exception_handler(RolloutNotPausableError)
def _not_pausable(error: RolloutNotPausableError) -> Response:
    return error_response(409, "RolloutNotPausable", str(error))


@app.exception_handler(RolloutNotRetryableError)
def _not_retryable(error: RolloutNotRetryableError) -> Response:
    return error_response(409, "RolloutNotRetryable", str(error))


@app.exception_handler(RolloutNotPausedError)
def _not_paused(error: RolloutNotPausedError) -> Response:
    return error_response(409, "RolloutNotPaused", str(error))


def _idempotency_key() -> str | None:
    key = app.current_event.header("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 255:
        reason = "from 1 to 255 characters"
        raise BadRequestError(f"Idempotency-Key: {reason}", [{"field": "Idempotency-Key", "reason": reason}])
    return key


def _started(response: StartRolloutResponse) -> Response:
    metrics.add_metric(name="RolloutsStarted", unit="Count", value=1)
    return Response(201, response.model_dump_json())


@app.post("/rollouts")
def start() -> Response:
    return _started(start_rollout(spec_of_request(app.current_event.body or ""), _idempotency_key()))


@app.get("/rollouts")
def list_() -> dict[str, Any] | Response:
    query = ListRolloutsQuery.model_validate(
        {
            name: values if name == "status" else values[-1]
            for name, values in app.current_event.query_parameters.items()
        }
    )
    try:
        return list_rollouts(query).model_dump(mode="json")
    except InvalidRolloutError as error:  # a next_token that is not one of ours: the request's, not a spec's
        return invalid_request([{"field": error.field or "next_token", "reason": error.reason}])


@app.get("/rollouts/{rollout_id}")
def get(rollout_id: str) -> dict[str, Any]:
    return describe_rollout(rollout_id).model_dump(mode="json")


MAX_REASON = 1024  # characters of an operator's reason: it goes into decisions, events and SendTaskFailure's cause


def _command(rollout_id: str, command: OperatorCommand) -> Response:
    body = app.current_event.json_body
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    if len(reason) > MAX_REASON:
        return invalid_request([{"field": "reason", "reason": f"{len(reason):,} characters; at most {MAX_REASON:,}"}])
    return _taken(
        rollout_id, command.value, operator_command(rollout_id, command, reason, app.current_event.request_id)
    )


def _taken(rollout_id: str, command: str, result: SignalResult) -> Response:
    payload = CommandResponse(
        rollout_id=rollout_id, command=command, outcome=result.outcome.value, message=result.message
    )
    return Response(202, payload.model_dump_json())


@app.post("/rollouts/{rollout_id}/abort")
def abort(rollout_id: str) -> Response:
    return _command(rollout_id, OperatorCommand.ABORT)


@app.post("/rollouts/{rollout_id}/promote")
def promote(rollout_id: str) -> Response:
    return _command(rollout_id, OperatorCommand.PROMOTE)


@app.post("/rollouts/{rollout_id}/resume")
def resume(rollout_id: str) -> Response:
    return _command(rollout_id, OperatorCommand.RESUME)


@app.post("/rollouts/{rollout_id}/pause")
def pause(rollout_id: str) -> Response:
    return _command(rollout_id, OperatorCommand.PAUSE)


@app.post("/rollouts/{rollout_id}/retry")
def retry(rollout_id: str) -> Response:
    """A new rollout of the same spec (201, as POST /rollouts), or a failed restore tried again (202, as abort)."""
    result = retry_rollout(rollout_id, _idempotency_key(), app.current_event.request_id)
    return _started(result) if isinstance(result, StartRolloutResponse) else _taken(rollout_id, "retry", result)


# -- release policies -----------------------------------------------------------------------------------------------


def _policy_not_found(group: str) -> Response:
    return error_response(404, "PolicyNotFound", f"model package group '{group}' has no release policy")


@app.put("/policies/{group}")
def put_policy(group: str) -> Response:
    """Create or replace a group's release policy, validated: each target's template must make a valid spec."""
    body = app.current_event.json_body if app.current_event.body else None
    if not isinstance(body, dict):
        return invalid_request([{"field": "body", "reason": "a JSON object: the release policy"}])
    if body.setdefault("model_package_group", group) != group:
        reason = f"'{body['model_package_group']}' is not the group of the path, '{group}'"
        return invalid_request([{"field": "model_package_group", "reason": reason}])
    policy = ReleasePolicy.model_validate(body)
    created = store.get_policy(group) is None
    store.put_policy(policy)
    return Response(201 if created else 200, policy.model_dump_json())


@app.get("/policies/{group}")
def get_policy(group: str) -> dict[str, Any] | Response:
    policy = store.get_policy(group)
    return _policy_not_found(group) if policy is None else policy.model_dump(mode="json")


@app.get("/policies")
def list_policies() -> dict[str, Any]:
    return {"policies": [policy.model_dump(mode="json") for policy in store.list_policies()]}


@app.delete("/policies/{group}")
def delete_policy(group: str) -> Response:
    return Response(204, "") if store.delete_policy(group) else _policy_not_found(group)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
