"""POST /invoke/{endpoint_name}: invoke an endpoint for a user on the variant of their A/B group (sticky, no table).

The route form of `rollouts.aws.invoke.invoke`, for callers that do not run Python: the variant is
`rollouts.assignment.assign(user_id, rollout_id, weights)`, with the weights of the request or, when it has none,
the endpoint's own current weights, so the split follows what the rollout sets.
"""

import base64
import json
from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from rollouts.assignment import shares
from rollouts.aws.clients import translated
from rollouts.aws.invoke import endpoint_weights, invoke_for
from rollouts.errors import AwsError, InvocationRefusedError, ModelInvocationError, field_errors
from rollouts.http import HTTPError, Response, Router, error_response, invalid_request
from rollouts.models.names import NAME_PATTERN
from rollouts.observability import logger, metrics

# DescribeEndpoint's errors reach the handlers as the project's AwsError, as InvokeEndpoint's do.
app = Router(translate=translated)
MAX_WEIGHT = 1e9  # a variant's weight, as SageMaker's own weights go; 1e308 overflowed the sum of the split


class InvokeRequest(BaseModel):
    """The body of POST /invoke/{endpoint_name}."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, description="Who is asking: the same user always gets the same variant")
    rollout_id: str = Field(min_length=1, description="The A/B test: another id assigns users anew")
    payload: JsonValue = Field(description="The model's input: a string is sent as is, anything else as JSON")
    content_type: str = Field(default="application/json", max_length=1024, pattern=r"^[\x20-\x7e]*$")
    weights: (
        Annotated[
            dict[Annotated[str, Field(pattern=NAME_PATTERN)], Annotated[float, Field(ge=0, le=MAX_WEIGHT)]],
            # At least one variant, and not every weight 0: the total must be positive to split the users.
            Field(
                min_length=1,
                json_schema_extra={
                    "propertyNames": {"pattern": NAME_PATTERN},
                    "not": {"additionalProperties": {"const": 0}},
                },
            ),
        ]
        | None
    ) = Field(
        default=None, description="Variant weights of any positive total; default: the endpoint's current weights"
    )
    inference_id: str | None = Field(default=None, min_length=1, max_length=64, description="InvokeEndpoint's")

    @field_validator("weights")
    @classmethod
    def _weights_can_split(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        if weights is not None:
            try:
                shares(weights)
            except ValueError as error:
                raise PydanticCustomError("weights", str(error).removeprefix("weights: ")) from error
        return weights

    def body(self) -> bytes:
        text = self.payload if isinstance(self.payload, str) else json.dumps(self.payload)
        return text.encode("utf-8")


class EndpointNotFoundError(HTTPError):
    """No weights were given and the endpoint to read them from does not exist."""

    status = 404
    error = "EndpointNotFound"


class NoTrafficError(HTTPError):
    """The endpoint has no variant with a weight above 0 to assign users to (yet)."""

    status = 409
    error = "NoVariantWithWeight"


class ModelFailedError(HTTPError):
    """The model's container answered with an error (SageMaker's ModelError); its status and message are the details."""

    status = 424
    error = "ModelError"


@app.exception_handler(ValidationError)
def _invalid_body(error: ValidationError) -> Response:
    return invalid_request(field_errors(error))


@app.exception_handler(InvocationRefusedError)
def _sagemaker_refused(error: InvocationRefusedError) -> Response:
    """No such endpoint or variant, or an endpoint not in service: the caller's to fix."""
    return error_response(400, "InvalidRequest", str(error))


@app.exception_handler(ModelInvocationError)
def _model_failed(error: ModelInvocationError) -> Response:
    return ModelFailedError(str(error), [{"status": error.status, "message": error.original}]).response()


# The tag an endpoint carries to be invoked through this route: the function's IAM policy allows no other.
OPT_IN_TAG = "rollouts:ab-invoke"
DENIED = ("AccessDenied", "AccessDeniedException")


class NotInvokableError(HTTPError):
    """IAM refused: the endpoint does not carry the opt-in tag (or the caller's account denies the call)."""

    status = 403
    error = "EndpointNotInvokable"


@app.exception_handler(AwsError)
def _sagemaker_unavailable(error: AwsError) -> Response:
    if error.code in DENIED:
        endpoint_name = app.current_event.path_parameters.get("endpoint_name", "")
        reason = (
            f"the control plane may not call {error.operation} on endpoint {endpoint_name!r}: tag the endpoint "
            f"{OPT_IN_TAG}=true (SageMaker AddTags) to open it to this route"
        )
        return NotInvokableError(reason, [{"field": "endpoint_name", "reason": reason}]).response()
    """Throttling and SageMaker's own failures: the caller may try again."""
    status, name = (503, "ServiceUnavailable") if error.retryable else (502, "BadGateway")
    return error_response(status, name, str(error), headers={"Retry-After": "1"} if error.retryable else None)


@app.post("/invoke/{endpoint_name}")
def invoke_endpoint(endpoint_name: str) -> Response:
    request = InvokeRequest.model_validate_json(app.current_event.body or "")
    weights = request.weights if request.weights is not None else endpoint_weights(endpoint_name)
    if weights is None:
        reason = f"no endpoint named {endpoint_name!r}"
        raise EndpointNotFoundError(f"endpoint_name: {reason}", [{"field": "endpoint_name", "reason": reason}])
    if not any(weight > 0 for weight in weights.values()):
        raise NoTrafficError(f"endpoint {endpoint_name!r} has no variant with a weight above 0: {weights}")
    extra = {"InferenceId": request.inference_id} if request.inference_id else {}
    response = invoke_for(
        endpoint_name,
        request.user_id,
        request.rollout_id,
        weights,
        request.body(),
        request.content_type,
        **extra,
    )
    metrics.add_metric(name="AbInvocations", unit="Count", value=1)
    answer: dict[str, Any] = {"variant": response["AssignedVariant"], "content_type": response.get("ContentType")}
    data: bytes = response["Body"].read()
    try:
        answer["body"] = data.decode("utf-8")
    except UnicodeDecodeError:
        answer["body_base64"] = base64.b64encode(data).decode("ascii")
    return Response.json(200, answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
