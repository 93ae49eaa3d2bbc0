"""POST /feedback: rewards and labels, validated here and queued; IngestFeedbackFunction counts them.

A function of its own: feedback is the API's high-volume path, and it needs only to validate and queue (its role
may send to the feedback queue and nothing else), none of the rollout control code.
"""

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from rollouts.aws.feedback import enqueue
from rollouts.errors import field_errors
from rollouts.http import Response, Router, error_response, invalid_request
from rollouts.models.feedback import FeedbackBatch, parse_feedback
from rollouts.observability import logger, metrics

app = Router()
MAX_MESSAGE_BYTES = 262_144  # SQS's largest message


@app.exception_handler(ValidationError)
def _invalid_body(error: ValidationError) -> Response:
    return invalid_request(field_errors(error))


@app.post("/feedback")
def feedback() -> Response:
    """Validate every event first: one bad event refuses the request (400 naming it) and queues nothing."""
    batch = FeedbackBatch.model_validate_json(app.current_event.body or "")
    details: list[dict[str, str]] = []
    for index, item in enumerate(batch.events):
        try:
            parse_feedback(item)
        except ValidationError as error:
            details += field_errors(error, ("events", index))
    if details:
        return invalid_request(details)
    message = json.dumps({"events": batch.events})
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        reason = (
            f"the events take {len(message.encode()):,} bytes as a queue message; at most {MAX_MESSAGE_BYTES:,} "
            "(SQS's limit): send them in smaller requests"
        )
        return error_response(413, "PayloadTooLarge", reason, [{"field": "events", "reason": reason}])
    message_id = enqueue(batch.events)
    metrics.add_metric(name="FeedbackAccepted", unit="Count", value=len(batch.events))
    body = {"accepted": len(batch.events), "message_id": message_id}
    return Response(202, json.dumps(body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
