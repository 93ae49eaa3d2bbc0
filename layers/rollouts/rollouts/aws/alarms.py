"""CloudWatch alarms: the ones a rollout creates on its candidate variant, and reading guardrail states."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from rollouts.aws.clients import aws_error, aws_errors, client
from rollouts.models.spec import AlarmRule

NAMESPACE = "AWS/SageMaker"
ABORT_NAMESPACE = "SageMakerRollouts"
ABORT_METRIC = "AbortSwitch"


def _cw() -> Any:
    return client("cloudwatch")


def alarm_name(rollout_id: str, rule: AlarmRule, variant: str | None = None) -> str:
    """The rule's alarm on the candidate; a bandit's further candidates add their variant name."""
    return f"rollouts-{rollout_id}-{rule.name}" + (f"-{variant}" if variant else "")


def put_variant_alarm(
    name: str, rule: AlarmRule, endpoint_name: str, variant_name: str, rollout_id: str, component: str | None = None
) -> None:
    """The rule's alarm on the variant's metrics; with `component`, on the inference component's (SageMaker
    publishes a component's invocation metrics under the one dimension InferenceComponentName)."""
    dimensions = (
        [{"Name": "InferenceComponentName", "Value": component}]
        if component
        else [{"Name": "EndpointName", "Value": endpoint_name}, {"Name": "VariantName", "Value": variant_name}]
    )
    kwargs: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": f"Guardrail '{rule.name}' of rollout {rollout_id} on "
        + (f"inference component {component}" if component else f"variant {variant_name}"),
        "Namespace": NAMESPACE,
        "MetricName": rule.metric.value,
        "Dimensions": dimensions,
        "Period": rule.period_seconds,
        "EvaluationPeriods": rule.evaluation_periods,
        "DatapointsToAlarm": rule.datapoints_to_alarm or rule.evaluation_periods,
        "Threshold": rule.threshold,
        "ComparisonOperator": rule.comparison.value,
        # No traffic is no evidence against the candidate; missing points must not fire the alarm.
        "TreatMissingData": "notBreaching",
        "Tags": [{"Key": "rollouts:rollout-id", "Value": rollout_id}],
    }
    if rule.is_percentile:
        kwargs["ExtendedStatistic"] = rule.statistic
    else:
        kwargs["Statistic"] = rule.statistic
    _cw().put_metric_alarm(**kwargs)


def delete_alarms(names: list[str]) -> None:
    """Delete the alarms; raises `AwsError` when CloudWatch refuses."""
    with aws_errors():
        for start in range(0, len(names), 100):
            _cw().delete_alarms(AlarmNames=names[start : start + 100])


def firing(names: list[str]) -> list[dict[str, str]]:
    """The alarms among `names` that are in ALARM now, with their reasons."""
    result: list[dict[str, str]] = []
    for start in range(0, len(names), 100):
        page = _cw().describe_alarms(AlarmNames=names[start : start + 100])
        result.extend(
            {"alarm": alarm["AlarmName"], "reason": alarm.get("StateReason", "")}
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]
            if alarm.get("StateValue") == "ALARM"
        )
    return result


def abort_alarm_name(rollout_id: str) -> str:
    return f"rollouts-{rollout_id}-abort"


def put_abort_alarm(rollout_id: str) -> str:
    """The rollout's abort switch: an alarm on a metric only the rollout writes, in SageMaker's auto-rollback list.

    It stays OK (no data is not breaching) until the rollout trips it; SageMaker then rolls the deployment back.
    """
    name = abort_alarm_name(rollout_id)
    _cw().put_metric_alarm(
        AlarmName=name,
        AlarmDescription=f"Abort switch of rollout {rollout_id}: ALARM makes SageMaker roll its deployment back",
        Namespace=ABORT_NAMESPACE,
        MetricName=ABORT_METRIC,
        Dimensions=[{"Name": "RolloutId", "Value": rollout_id}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        Tags=[{"Key": "rollouts:rollout-id", "Value": rollout_id}],
    )
    return name


def trip_abort_alarm(rollout_id: str, reason: str) -> None:
    """Set the abort switch to ALARM now, and write the data point that keeps it there when CloudWatch re-evaluates.

    Raises `AwsError` when CloudWatch refuses either call.
    """
    try:
        _trip(rollout_id, reason)
    except ClientError as error:
        raise aws_error(error) from error


def _trip(rollout_id: str, reason: str) -> None:
    _cw().put_metric_data(
        Namespace=ABORT_NAMESPACE,
        MetricData=[
            {"MetricName": ABORT_METRIC, "Dimensions": [{"Name": "RolloutId", "Value": rollout_id}], "Value": 1.0}
        ],
    )
    _cw().set_alarm_state(AlarmName=abort_alarm_name(rollout_id), StateValue="ALARM", StateReason=reason[:1023])


def missing(names: list[str]) -> list[str]:
    """The alarms among `names` that do not exist."""
    found: set[str] = set()
    for start in range(0, len(names), 100):
        page = _cw().describe_alarms(AlarmNames=names[start : start + 100])
        found |= {alarm["AlarmName"] for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]}
    return [name for name in names if name not in found]
