"""Reading the per-variant metrics SageMaker publishes (AWS/SageMaker, EndpointName and VariantName)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rollouts.aws.clients import client

NAMESPACE = "AWS/SageMaker"
PERIOD = 60


def variant_sum(endpoint_name: str, variant_name: str, metric: str, start: datetime, end: datetime) -> float:
    """The Sum of a variant's metric over [start, end], whole minutes around it (SageMaker publishes per minute)."""
    start = start.replace(second=0, microsecond=0)
    end = end.replace(second=0, microsecond=0) + timedelta(minutes=1)
    response: dict[str, Any] = client("cloudwatch").get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint_name},
            {"Name": "VariantName", "Value": variant_name},
        ],
        StartTime=start,
        EndTime=end,
        Period=PERIOD,
        Statistics=["Sum"],
    )
    return float(sum(point.get("Sum", 0.0) for point in response.get("Datapoints", [])))
