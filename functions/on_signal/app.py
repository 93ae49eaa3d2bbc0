"""EventBridge target for alarm state changes and monitoring executions: one path for every signal."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.logic.signals import handle_event
from rollouts.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results = handle_event(event)
    return {"results": [result.model_dump(mode="json") for result in results]}
