"""Logger and metrics shared by every handler, and the wrapper that makes a use case a Step Functions task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.aws.clients import aws_errors

logger = Logger(service="rollouts")
NAMESPACE = "SageMakerRollouts"
SERVICE = "rollouts"
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def emit(name: str, dimension: str, value: str, amount: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    """One metric with a dimension of its own (and `service`), written to stdout as EMF at once: on the shared
    `metrics` the dimension would be put on every metric of the invocation. Nothing when metrics are disabled."""
    one = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    one.add_dimension(name=dimension, value=value)
    one.add_metric(name=name, unit=unit, value=amount)
    one.flush_metrics()


Handler = Callable[[dict[str, Any], LambdaContext], Any]


def task_handler(use_case: Callable[..., dict[str, Any]]) -> Handler:
    """A Lambda handler for a state machine task whose payload is the use case's keyword arguments."""

    @logger.inject_lambda_context(correlation_id_path="rollout_id", clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        with aws_errors():
            return use_case(**event)

    return lambda_handler
