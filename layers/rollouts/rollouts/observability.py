"""Logger and metrics shared by every handler, and the wrapper that makes a use case a Step Functions task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.aws.clients import aws_errors

logger = Logger(service="rollouts")
metrics = Metrics(namespace="SageMakerRollouts", service="rollouts")

Handler = Callable[[dict[str, Any], LambdaContext], Any]


def task_handler(use_case: Callable[..., dict[str, Any]]) -> Handler:
    """A Lambda handler for a state machine task whose payload is the use case's keyword arguments."""

    @logger.inject_lambda_context(correlation_id_path="rollout_id", clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        with aws_errors():
            return use_case(**event)

    return lambda_handler
