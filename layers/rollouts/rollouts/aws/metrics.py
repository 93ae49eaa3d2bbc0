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


# GetMetricStatistics returns at most 1,440 data points a call.
MAX_DATAPOINTS = 1440


def _minutes(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    return start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _request(statistic: str) -> dict[str, list[str]]:
    if statistic.startswith("p"):
        return {"Statistics": ["SampleCount"], "ExtendedStatistics": [statistic]}
    return {"Statistics": sorted({statistic, "SampleCount"})}


def _value(point: dict[str, Any], statistic: str) -> float | None:
    value = point.get("ExtendedStatistics", {}).get(statistic) if statistic.startswith("p") else point.get(statistic)
    return None if value is None else float(value)


def period_values(
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    statistic: str,
    start: datetime,
    end: datetime,
    period: int,
) -> list[tuple[datetime, float, float]]:
    """(period start, statistic, sample count) of every period in [start, end] that has data, oldest first."""
    start, end = _minutes(start, end)
    response: dict[str, Any] = client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()],
        StartTime=max(start, end - timedelta(seconds=period * MAX_DATAPOINTS)),
        EndTime=end,
        Period=period,
        **_request(statistic),
    )
    points = []
    for point in sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"]):
        value = _value(point, statistic)
        if value is not None and point.get("SampleCount", 1.0) > 0:
            points.append((point["Timestamp"], value, float(point.get("SampleCount", 0.0))))
    return points


def window_value(
    namespace: str, metric: str, dimensions: dict[str, str], statistic: str, start: datetime, end: datetime
) -> tuple[float | None, int]:
    """The statistic over the whole of [start, end] (one period spanning it) and the data points behind it."""
    first, last = _minutes(start, end)
    period = max(PERIOD, int((last - first).total_seconds()) // PERIOD * PERIOD + PERIOD)
    points = period_values(namespace, metric, dimensions, statistic, start, end, period)
    if not points:
        return None, 0
    _, value, count = points[-1]
    return value, int(count)
