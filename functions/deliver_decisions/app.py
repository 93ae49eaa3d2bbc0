"""Every minute (rule DeliverDecisionsSchedule): publish the decisions the bus refused when they were made.

A decision and its event are written together to the rollout's outbox; the task that made it publishes the event at
once. What EventBridge refused then (throttling, an outage) waits in the outbox, and this delivers it, so no
published kind is lost and a failed publish never changes a rollout's course.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.aws.clients import aws_errors
from rollouts.logic.decisions import deliver_waiting
from rollouts.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    with aws_errors():
        return deliver_waiting()
