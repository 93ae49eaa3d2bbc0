"""REST API for release tooling: start a rollout, read it, abort it, promote it, resume it from a pause."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from rollouts.errors import (
    EndpointLockedError,
    InvalidRolloutError,
    RolloutFinishedError,
    RolloutNotFoundError,
    RolloutNotPausedError,
    field_errors,
)
from rollouts.logic.queries import describe_rollout
from rollouts.logic.signals import operator_command
from rollouts.logic.start import start_rollout
from rollouts.models.api import CommandResponse, ErrorResponse
from rollouts.models.signal import OperatorCommand
from rollouts.models.spec import RolloutSpec
from rollouts.observability import logger, metrics

app = APIGatewayRestResolver()


def _error(status: int, error: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[str]:
    body = ErrorResponse(error=error, message=message, details=details or [])
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


@app.exception_handler(ValidationError)
def _invalid(error: ValidationError) -> Response[str]:
    details = field_errors(error)
    summary = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
    return _error(400, "InvalidRequest", summary, details)


@app.exception_handler(InvalidRolloutError)
def _invalid_rollout(error: InvalidRolloutError) -> Response[str]:
    field, _, reason = str(error).partition(": ")
    return _error(400, "InvalidRollout", str(error), [{"field": field, "reason": reason}])


@app.exception_handler(RolloutNotFoundError)
def _not_found(error: RolloutNotFoundError) -> Response[str]:
    return _error(404, "RolloutNotFound", str(error))


@app.exception_handler(EndpointLockedError)
def _locked(error: EndpointLockedError) -> Response[str]:
    return _error(409, "EndpointLocked", str(error), [{"active_rollout_id": error.active_rollout_id}])


@app.exception_handler(RolloutFinishedError)
def _finished(error: RolloutFinishedError) -> Response[str]:
    return _error(409, "RolloutFinished", str(error))


@app.exception_handler(RolloutNotPausedError)
def _not_paused(error: RolloutNotPausedError) -> Response[str]:
    return _error(409, "RolloutNotPaused", str(error))


@app.post("/rollouts")
def start() -> Response[str]:
    spec = RolloutSpec.model_validate_json(app.current_event.body or "")
    response = start_rollout(spec)
    metrics.add_metric(name="RolloutsStarted", unit="Count", value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=response.model_dump_json())


@app.get("/rollouts/<rollout_id>")
def get(rollout_id: str) -> dict[str, Any]:
    return describe_rollout(rollout_id).model_dump(mode="json")


def _command(rollout_id: str, command: OperatorCommand) -> Response[str]:
    body = app.current_event.json_body if app.current_event.body else {}
    reason = str((body or {}).get("reason", ""))
    request_id = app.current_event.request_context.request_id or ""
    result = operator_command(rollout_id, command, reason, request_id)
    payload = CommandResponse(
        rollout_id=rollout_id, command=command.value, outcome=result.outcome.value, message=result.message
    )
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=payload.model_dump_json())


@app.post("/rollouts/<rollout_id>/abort")
def abort(rollout_id: str) -> Response[str]:
    return _command(rollout_id, OperatorCommand.ABORT)


@app.post("/rollouts/<rollout_id>/promote")
def promote(rollout_id: str) -> Response[str]:
    return _command(rollout_id, OperatorCommand.PROMOTE)


@app.post("/rollouts/<rollout_id>/resume")
def resume(rollout_id: str) -> Response[str]:
    return _command(rollout_id, OperatorCommand.RESUME)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
