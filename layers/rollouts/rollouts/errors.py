"""Domain errors. Class names are part of the ASL contract (Retry/Catch match them) and of the API's error map."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class RolloutError(Exception):
    """Base of every domain error."""


class InvalidRolloutError(RolloutError):
    """The spec cannot be applied to the endpoint as it is (HTTP 400): `field` is the spec's field at fault, a
    dotted path (`candidate.model_name`), or None when no field is; the message is `field: reason`."""

    def __init__(self, *, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class RolloutNotFoundError(RolloutError):
    """No rollout has this id (HTTP 404)."""


class EndpointLockedError(RolloutError):
    """Another rollout is active on the endpoint, or on the inference component (`<endpoint>/<component>`) (HTTP
    409)."""

    def __init__(self, endpoint_name: str, active_rollout_id: str) -> None:
        what = "inference component" if "/" in endpoint_name else "endpoint"
        super().__init__(f"{what} '{endpoint_name}' already has an active rollout: {active_rollout_id}")
        self.active_rollout_id = active_rollout_id


class RolloutFinishedError(RolloutError):
    """A command arrived for a rollout that has already ended (HTTP 409)."""


class RolloutNotRetryableError(RolloutError):
    """Retry re-runs a rolled-back or failed rollout, or the restore of one whose rollback failed; nothing else."""


class RolloutNotPausableError(RolloutError):
    """Pause holds a running canary's weights; a paused rollout, or a strategy that cannot hold yet, refuses it."""


class RolloutNotPausedError(RolloutError):
    """Resume arrived for a rollout that is not paused (HTTP 409)."""


class EndpointUpdatingError(RolloutError):
    """The endpoint is still updating; the state machine retries the task."""


class ComponentUpdatingError(RolloutError):
    """An inference component is still updating; SageMaker sends no event for it, so the wait's task fails with
    this and the state machine looks again a minute later."""


class EndpointUpdateFailedError(RolloutError):
    """SageMaker did not apply an update; the state machine rolls back."""


class GuardrailBreachedError(RolloutError):
    """A guardrail fired; the state machine rolls back at once."""


class RolloutAbortedError(RolloutError):
    """An operator aborted the rollout; the state machine rolls back."""


class IdempotencyKeyReusedError(RolloutError):
    """An Idempotency-Key already used for another request body (HTTP 422)."""


class RolloutNotStartedError(RolloutError):
    """Step Functions refused to start the rollout's execution: the rollout is Failed and nothing changed (HTTP 503)."""

    def __init__(self, rollout_id: str, reason: str) -> None:
        super().__init__(f"rollout {rollout_id}: {reason}")
        self.rollout_id = rollout_id


class RollbackFailedError(RolloutError):
    """The rollback ended but DescribeEndpoint does not show the baseline alone serving; the lock stays held."""


class PromotionNotServingError(RolloutError):
    """The promotion ended but DescribeEndpoint does not show the candidate alone serving; the state machine rolls
    back."""


class DeploymentRolledBackError(RolloutError):
    """SageMaker rolled a blue/green deployment back: the endpoint is on the old config, not the one intended."""


class AwsError(RolloutError):
    """An AWS call failed, as an adapter reports it to code that imports no botocore.

    `code` is AWS's error code (`ThrottlingException`, `AccessDenied`, ...); `retryable` says whether the same call
    may succeed later (throttling, a 5xx), as opposed to one that will fail again until something changes.
    """

    def __init__(self, *, operation: str, code: str, message: str, retryable: bool) -> None:
        super().__init__(f"{operation}: {code}: {message}" if message else f"{operation}: {code}")
        self.operation = operation
        self.code = code
        self.retryable = retryable


class AwsRetryableError(AwsError):
    """AWS throttled the call or failed on its side (a 5xx): the same call may succeed later. Every state machine
    task retries it with backoff and jitter."""


class AwsPermanentError(AwsError):
    """AWS refused the call for a reason a retry does not change (access denied, a bad parameter, a limit)."""


class InvocationRefusedError(RolloutError):
    """SageMaker refused an InvokeEndpoint for the caller's input (its ValidationError): no such endpoint or variant,
    or an endpoint not in service (HTTP 400)."""


class ModelInvocationError(RolloutError):
    """The model's container answered with an error (SageMaker's ModelError); `status` and `original` are its own."""

    def __init__(self, message: str, status: int | None, original: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.original = original


def field_errors(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[dict[str, str]]:
    """A pydantic error as the API reports it: one {field, reason} per problem, the field a dotted path, the reason
    without pydantic's "Value error, " before a validator's own words."""
    return [
        {
            "field": ".".join(str(part) for part in (*prefix, *item["loc"])) or "body",
            "reason": item["msg"].removeprefix("Value error, "),
        }
        for item in error.errors(include_url=False)
    ]


class MonitorInputError(RolloutError):
    """A monitor run cannot judge: its baseline, its config or its input is missing or not in the documented form."""
