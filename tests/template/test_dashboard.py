"""The CloudWatch dashboard and the operator's health alarms in template.yaml: the widgets an operator looks for, only
metrics that someone publishes, and alarms on the right metrics of resources the stack declares."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rollouts.models.rollout import DecisionKind
from rollouts.models.signal import SignalSource
from sandbox.template import load

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = {
    "AWS::Region": "eu-west-1",
    "AWS::StackName": "rollouts",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
}
NAMESPACES = {"SageMakerRollouts", "AWS/SageMaker", "AWS/Lambda", "AWS/States", "AWS/SQS"}
OWN = "SageMakerRollouts"
MACHINE_TYPE = "AWS::Serverless::StateMachine"
TOPIC_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def resolve(text: str, resources: dict[str, Any]) -> str:
    """`!Sub` with dummy values: a pseudo parameter's, or `<resource>-<attribute>` for a resource the stack declares."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in PSEUDO:
            return PSEUDO[name]
        logical = name.split(".")[0]
        assert logical in resources, f"${{{name}}} names no resource of the stack"
        return name.replace(".", "-")

    return re.sub(r"\$\{([^}!]+)\}", value, text)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load()


@pytest.fixture(scope="module")
def body(template: dict[str, Any]) -> dict[str, Any]:
    sub = template["Resources"]["RolloutsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(sub, str)
    parsed = json.loads(resolve(sub, template["Resources"]))
    assert isinstance(parsed, dict)
    return parsed


def metric_widgets(body: dict[str, Any]) -> dict[str, list[Any]]:
    return {w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"] if w["type"] == "metric"}


def plain_metrics(body: dict[str, Any]) -> list[list[Any]]:
    """Every metric named by namespace and name (not an expression), without its options."""
    rows = [row for rows in metric_widgets(body).values() for row in rows]
    return [[part for part in row if not isinstance(part, dict)] for row in rows if isinstance(row[0], str)]


def expressions(body: dict[str, Any]) -> list[str]:
    rows = [row for rows in metric_widgets(body).values() for row in rows]
    return [part["expression"] for row in rows for part in row if isinstance(part, dict) and "expression" in part]


def dimensions(row: list[Any]) -> dict[str, str]:
    return dict(zip(row[2::2], row[3::2], strict=True))


def own_names_emitted() -> set[str]:
    """The metric names the code publishes: `add_metric(name=...)` and `emit(...)` literals."""
    sources = [*(ROOT / "layers/rollouts/rollouts").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    text = "\n".join(path.read_text() for path in sources)
    names = set(re.findall(r'add_metric\(name="(\w+)"', text)) | set(re.findall(r'emit\(\s*"(\w+)"', text))
    # decisions.record also counts each kind under its own name (`Rollback Failed` as RollbackFailed)
    return names | {kind.value.replace(" ", "") for kind in DecisionKind}


def test_the_dashboard_is_named_after_the_stack(template: dict[str, Any]) -> None:
    dashboard = template["Resources"]["RolloutsDashboard"]

    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    assert dashboard["Properties"]["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-rollouts"}


@pytest.mark.parametrize(
    "words",
    [
        ("started", "promoted", "rolled back"),
        ("time to decision",),
        ("signals by source",),
        ("guardrail breaches",),
        ("feedback ingested", "dead-lettered"),
        ("dead-letter queues",),
        ("lambda errors", "throttles"),
        ("executions failed", "timed out", "aborted", "canary"),
        ("endpoint invocations",),
        ("endpoint 5xx errors",),
        ("endpoint model latency",),
    ],
)
def test_a_widget_an_operator_looks_for_is_there(body: dict[str, Any], words: tuple[str, ...]) -> None:
    titles = [title.lower() for title in metric_widgets(body)]

    assert any(all(word in title for word in words) for title in titles), titles


def test_every_widget_fits_the_grid_and_names_its_region(body: dict[str, Any]) -> None:
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == PSEUDO["AWS::Region"]


def test_every_namespace_is_the_stacks_own_or_one_aws_publishes(body: dict[str, Any]) -> None:
    searched = [re.search(r"\{([^,}]+)", e) for e in [*expressions(body), body["variables"][0]["search"]]]
    used = {row[0] for row in plain_metrics(body)} | {m.group(1) for m in searched if m}

    assert used <= NAMESPACES
    assert used >= NAMESPACES


def test_the_stacks_own_metrics_are_ones_the_code_emits_with_the_service_dimension(body: dict[str, Any]) -> None:
    own = [row for row in plain_metrics(body) if row[0] == OWN]
    emitted = own_names_emitted()

    assert own
    for row in own:
        assert row[1] in emitted, f"{row[1]}: no code publishes it"
        assert dimensions(row).get("service") == "rollouts", row


def test_decision_kinds_and_signal_sources_are_real_values(body: dict[str, Any]) -> None:
    own = [dimensions(row) for row in plain_metrics(body) if row[0] == OWN]
    kinds = {d["Kind"] for d in own if "Kind" in d}
    sources = {d["Source"] for d in own if "Source" in d}

    assert kinds <= {kind.value for kind in DecisionKind}
    assert {"Rollout Started", "Rollout Promoted", "Rollout Rolled Back", "Guardrail Breached"} <= kinds
    assert sources == {source.value for source in SignalSource}


def test_the_dead_letter_queues_are_both_on_the_dashboard(body: dict[str, Any]) -> None:
    queues = {
        dimensions(row)["QueueName"]
        for row in plain_metrics(body)
        if row[:2] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible"]
    }

    assert queues == {"SignalsDeadLetterQueue-QueueName", "FeedbackDeadLetterQueue-QueueName"}


def test_every_state_machine_has_its_failed_timed_out_and_aborted_executions(
    body: dict[str, Any], template: dict[str, Any]
) -> None:
    names = [
        resolve(resource["Properties"]["Name"]["Fn::Sub"], template["Resources"])
        for resource in template["Resources"].values()
        if resource["Type"] == MACHINE_TYPE
    ]
    shown = {(dimensions(row)["StateMachineArn"], row[1]) for row in plain_metrics(body) if row[0] == "AWS/States"}
    prefix = "arn:aws:states:eu-west-1:123456789012:stateMachine:"

    assert len(names) == 7
    assert shown == {
        (prefix + name, metric)
        for name in names
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
    }


def test_lambda_errors_and_throttles_are_searched_among_the_stacks_functions(body: dict[str, Any]) -> None:
    lambda_searches = [e for e in expressions(body) if "{AWS/Lambda,FunctionName}" in e]

    assert {re.search(r'MetricName="(\w+)"', e).group(1) for e in lambda_searches} == {"Errors", "Throttles"}  # type: ignore[union-attr]
    assert all("FunctionName=rollouts" in e for e in lambda_searches)


def test_the_endpoint_widgets_follow_the_endpoint_variable(body: dict[str, Any]) -> None:
    (variable,) = body["variables"]
    endpoint_searches = [e for e in expressions(body) if "{AWS/SageMaker,EndpointName,VariantName}" in e]
    metrics = {re.search(r'MetricName="(\w+)"', e).group(1) for e in endpoint_searches}  # type: ignore[union-attr]

    assert variable["type"] == "pattern"
    assert variable["populateFrom"] == "EndpointName"
    assert metrics == {"Invocations", "Invocation5XXErrors", "ModelLatency"}
    assert all(f'EndpointName="{variable["pattern"]}"' in e for e in endpoint_searches)


# --- alarms -----------------------------------------------------------------------------------------------------


def alarm(template: dict[str, Any], name: str) -> dict[str, Any]:
    resource = template["Resources"][name]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    properties: dict[str, Any] = resource["Properties"]
    assert properties["TreatMissingData"] == "notBreaching"
    assert properties["AlarmActions"] == TOPIC_ACTIONS
    return properties


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("SignalsDeadLetterQueueAlarm", "SignalsDeadLetterQueue"),
        ("FeedbackDeadLetterQueueAlarm", "FeedbackDeadLetterQueue"),
    ],
)
def test_a_dead_letter_queue_that_is_not_empty_alarms(template: dict[str, Any], name: str, queue: str) -> None:
    properties = alarm(template, name)

    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert properties["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert properties["Threshold"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_every_state_machine_alarms_on_executions_timed_out_or_aborted_not_failed(template: dict[str, Any]) -> None:
    """A rolled-back rollout ends its execution FAILED (RolloutRolledBack) on purpose: ExecutionsFailed would page on
    every rollback."""
    machines = {name for name, r in template["Resources"].items() if r["Type"] == MACHINE_TYPE}
    watched: dict[str, set[str]] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm" or "Metrics" not in resource["Properties"]:
            continue
        properties = alarm(template, name)
        queries = properties["Metrics"]
        stats = [q["MetricStat"] for q in queries if "MetricStat" in q]
        (expression,) = [q for q in queries if "Expression" in q]
        for stat in stats:
            metric = stat["Metric"]
            assert metric["Namespace"] == "AWS/States"
            (dimension,) = metric["Dimensions"]
            assert dimension["Name"] == "StateMachineArn"
            machine = dimension["Value"]["Ref"]
            watched.setdefault(machine, set()).add(metric["MetricName"])
        ids = {q["Id"] for q in queries if "MetricStat" in q}
        assert set(re.findall(r"[a-z]\w*", expression["Expression"])) - {"FILL"} <= ids
        assert all(q.get("ReturnData") is False for q in queries if "MetricStat" in q)

    assert set(watched) == machines
    # ... except the monitor's: its runs end in a step of their own on any failure, so a failed execution is news
    assert watched.pop("MonitorStateMachine") == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert all(metrics == {"ExecutionsTimedOut", "ExecutionsAborted"} for metrics in watched.values())


def test_the_rollback_failed_alarm_stays(template: dict[str, Any]) -> None:
    properties = alarm(template, "RollbackFailedAlarm")

    assert (properties["Namespace"], properties["MetricName"]) == (OWN, "RollbackFailed")


def test_an_execution_that_ends_without_finishing_its_rollout_alarms(template: dict[str, Any]) -> None:
    # A failure no Catch took is no ExecutionsFailed worth paging on (every rollback fails its execution on purpose):
    # the watchdog's "Execution Ended" decision is the signal.
    properties = alarm(template, "ExecutionEndedAlarm")

    assert (properties["Namespace"], properties["MetricName"]) == (OWN, "ExecutionEnded")
    assert properties["Dimensions"] == [{"Name": "service", "Value": "rollouts"}]
    assert properties["TreatMissingData"] == "notBreaching"


def test_the_dashboard_url_is_an_output_with_the_region(template: dict[str, Any]) -> None:
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]

    assert url.startswith("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}")
    assert url.endswith("#dashboards/dashboard/${RolloutsDashboard}")
