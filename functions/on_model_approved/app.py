"""Rule ModelPackageApproved: a version approved in the Model Registry rolls out as its group's release policy
says (`rollouts.logic.approval`)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.aws.clients import aws_errors
from rollouts.logic.approval import on_model_package_event
from rollouts.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail")
    with aws_errors():
        return on_model_package_event(detail if isinstance(detail, dict) else {})
