"""CloudWatch: alarm state changes reach EventBridge, percentiles (ExtendedStatistics) are computed, and calls can
be made to fail (`LocalCloud.inject_fault`). The clock its data points are stamped with is `clock`'s."""

from __future__ import annotations

import math
from typing import Any

from sandbox.moto_ext import clock, core, events


def percentile(values: list[float], statistic: str) -> float:
    """CloudWatch's pNN of raw values, nearest rank: the smallest value with at least NN % of them at or below."""
    ordered = sorted(values)
    rank = math.ceil(float(statistic[1:]) / 100 * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


def _fail_if_injected(operation: str) -> None:
    """An injected failure of a CloudWatch call (`LocalCloud.inject_fault`), as a LimitExceeded (400): the SDK
    retries a 5XX or a throttling by itself, so those would not reach the caller."""
    from moto.cloudwatch.exceptions import CloudWatchException  # moto serialises an error by its service's module

    fault = core.REGISTRY.take_fault(operation)
    if fault:
        raise CloudWatchException("LimitExceeded", fault.get("message", f"injected failure of {operation}"))


def install() -> None:
    _install_alarm_events()
    _install_extended_statistics()


def _install_alarm_events() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    def put_metric_alarm_or_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        _fail_if_injected("PutMetricAlarm")
        return put_metric_alarm(self, *args, **kwargs)

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        _fail_if_injected("SetAlarmState")
        alarm = self.alarms.get(alarm_name)
        previous = alarm.state_value if alarm else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is None or previous == state_value:
            return
        now = clock.wall_now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        detail = {
            "alarmName": alarm_name,
            "state": {"value": state_value, "reason": reason, "reasonData": reason_data or "{}", "timestamp": now},
            "previousState": {"value": previous, "reason": "", "timestamp": now},
            "configuration": {
                "description": alarm.description or "",
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": alarm.namespace,
                                "name": alarm.metric_name,
                                "dimensions": {d.name: d.value for d in alarm.dimensions},
                            },
                            "period": alarm.period,
                            "stat": alarm.statistic or alarm.extended_statistic,
                        },
                        "returnData": True,
                    }
                ],
            },
        }
        events.put_event("aws.cloudwatch", "CloudWatch Alarm State Change", detail, [alarm.alarm_arn])

    original = core.replace(CloudWatchBackend, "set_alarm_state", set_alarm_state)
    put_metric_alarm = core.replace(CloudWatchBackend, "put_metric_alarm", put_metric_alarm_or_fail)


def _install_extended_statistics() -> None:
    """moto ignores ExtendedStatistics; CloudWatch computes percentiles from the raw values of each period."""
    from moto.cloudwatch.models import Statistics
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def get_metric_statistics(self: Any) -> Any:
        requested = self._get_param("ExtendedStatistics") or []
        if not requested:
            return original(self)
        stats = self._get_param("Statistics", [])
        datapoints = self.cloudwatch_backend.get_metric_statistics(
            self._get_param("Namespace"),
            self._get_param("MetricName"),
            self._get_param("StartTime"),
            self._get_param("EndTime"),
            self._get_int_param("Period"),
            stats,
            unit=self._get_param("Unit"),
            dimensions=self._get_param("Dimensions", []),
        )
        for point in datapoints:
            values = point.metric_single_values_list
            point._extended = {name: percentile(values, name) for name in requested} if values else None
        return ActionResult({"Label": self._get_param("MetricName"), "Datapoints": datapoints})

    # moto serialises a data point from its attributes: ExtendedStatistics from `extended_statistics`.
    core.replace(Statistics, "extended_statistics", property(lambda self: getattr(self, "_extended", None)), added=True)
    original = core.replace(CloudWatchResponse, "get_metric_statistics", get_metric_statistics)
