"""What every strategy's state machine must do alike, on the local ASL engine with the real handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.statemachines.helpers import (
    ab_spec,
    assert_failed_before_any_change,
    bandit_spec,
    blue_green_spec,
    shadow_spec,
    start,
    view,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine

STRATEGIES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "canary": lambda spec: spec,
    "bandit": bandit_spec,
    "blue-green": blue_green_spec,
    "ab-test": ab_spec,
    "shadow": shadow_spec,
}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("operation", ["DescribeEndpoint", "DescribeEndpointConfig"])
def test_a_failing_read_of_the_endpoint_ends_in_a_safe_state(cloud, endpoint, canary_spec, strategy, operation):
    # The API checked the endpoint; the state machine's first read of it fails
    started = start(cloud, STRATEGIES[strategy](canary_spec))
    cloud.inject_fault(operation, f"ThrottlingException ({operation})")

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    assert_failed_before_any_change(cloud, view(cloud, started["rollout_id"]), f"ThrottlingException ({operation})")


@pytest.mark.parametrize("strategy", ["canary", "bandit", "ab-test", "shadow"])
def test_an_operator_promote_is_judged_successful_by_the_operator_in_every_strategy(
    cloud, endpoint, canary_spec, strategy
):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, STRATEGIES[strategy](canary_spec))
    rollout_id = started["rollout_id"]
    until(lambda: view(cloud, rollout_id)["status"] == "Progressing", "the rollout is under way")

    assert cloud.api("POST", f"/rollouts/{rollout_id}/promote", {"reason": "ship it"}).status == 202
    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "SUCCEEDED"

    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    judged = [d for d in rollout["decisions"] if d["kind"] in ("Step Judged", "A/B Test Judged")]
    assert (judged[-1]["evidence"]["outcome"], judged[-1]["evidence"]["rule"]) == ("Successful", "operator promote")


def test_an_operator_promote_during_a_blue_green_deployment_ends_the_watch_once_it_lands(cloud, endpoint, canary_spec):
    # SageMaker owns the traffic while it deploys (no API stops a deployment midway): the promote waits for the
    # deployment, then skips the watch that would have followed
    started = start(cloud, blue_green_spec(canary_spec))
    rollout_id = started["rollout_id"]
    until(lambda: view(cloud, rollout_id)["status"] == "Progressing", "the deployment is under way")

    assert cloud.api("POST", f"/rollouts/{rollout_id}/promote", {"reason": "ship it"}).status == 202
    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "SUCCEEDED"

    decisions = {d["kind"]: d for d in view(cloud, rollout_id)["decisions"]}
    assert view(cloud, rollout_id)["status"] == "Promoted"
    assert decisions["Operator Command"]["message"] == "Promotion requested by an operator"
    assert decisions["Rollout Promoted"]["at"] == decisions["Traffic Shifted"]["at"]  # no watch after landing


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_guardrail_alarm_that_does_not_exist_gets_400_naming_it_and_changes_nothing(
    cloud, endpoint, canary_spec, strategy
):
    spec = STRATEGIES[strategy](canary_spec)
    spec["guardrails"]["alarms"] = ["churn-predictor-5xx-rate-misspelt"]

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == ["guardrails.alarms.0"]
    assert "churn-predictor-5xx-rate-misspelt" in response.body["message"]
    assert cloud.client("stepfunctions").list_state_machines()["stateMachines"]  # deployed, and nothing started:
    assert all(
        not cloud.client("stepfunctions").list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        for m in cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    )


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("strategy", "steps", 0, "weight"), "10", "strategy.canary.steps.0.weight"),
        (("strategy", "steps", 0, "weight"), True, "strategy.canary.steps.0.weight"),
        (("strategy", "steps", 0, "bake"), "0.5s", "strategy.canary.steps.0.bake"),
        (("guardrails", "alarms"), ["a" * 256], "guardrails.alarms.0"),
    ],
)
def test_a_number_that_is_not_a_number_or_a_wait_under_a_second_gets_400_naming_it(
    cloud, endpoint, canary_spec, path, value, field
):
    target = canary_spec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400, response.body
    assert field in [d["field"] for d in response.body["details"]]


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_monitoring_schedule_that_does_not_exist_gets_400_naming_it(cloud, endpoint, canary_spec, strategy):
    spec = STRATEGIES[strategy](canary_spec)
    spec["guardrails"]["monitoring_schedules"] = [{"schedule_name": "churn-predictor-data-qualty"}]

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == ["guardrails.monitoring_schedules.0.schedule_name"]
    assert "churn-predictor-data-qualty" in response.body["message"]


def put_existing_alarm(cloud, name: str, state: str, reason: str) -> None:
    """An alarm of the team's own (an endpoint-wide error rate), in `state` before the rollout starts."""
    cw = cloud.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": "churn-predictor"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_guardrail_alarm_already_in_alarm_before_the_start_refuses_it_naming_the_alarm(
    cloud, endpoint, canary_spec, strategy
):
    # An alarm in ALARM before the rollout begins changes no state, so no event would tell the control plane
    put_existing_alarm(cloud, "churn-predictor-errors", "ALARM", "Threshold Crossed: 42 errors")
    spec = STRATEGIES[strategy](canary_spec)
    spec["guardrails"]["alarms"] = ["churn-predictor-errors"]

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400, response.body
    assert [d["field"] for d in response.body["details"]] == ["guardrails.alarms.0"]
    assert "'churn-predictor-errors' is in ALARM already (Threshold Crossed: 42 errors)" in response.body["message"]
    assert all(
        not cloud.client("stepfunctions").list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        for m in cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    )


@pytest.mark.parametrize("strategy", ["canary", "bandit", "ab-test", "shadow"])
def test_an_alarm_that_fired_without_an_event_is_read_at_the_judgement(cloud, endpoint, canary_spec, strategy):
    # Given a rollout guarded by the team's alarm, OK at the start, waiting for its next judgement
    from moto.cloudwatch.models import cloudwatch_backends

    from rollouts.aws import store
    from sandbox.moto_ext import core
    from tests.statemachines.helpers import assert_safe_rolled_back

    put_existing_alarm(cloud, "churn-predictor-errors", "OK", "fine")
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "12h"}]
    spec = STRATEGIES[strategy](canary_spec)
    spec["guardrails"]["alarms"] = ["churn-predictor-errors"]
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    until(lambda: store.get_rollout(rollout_id).task_token, "the rollout never waited for its judgement")

    # When the alarm goes to ALARM with no event the control plane hears (a lost delivery), and the wait ends
    with core.REGISTRY.lock:
        alarm = cloudwatch_backends[core.ACCOUNT][core.REGION].alarms["churn-predictor-errors"]
        alarm.update_state("Threshold Crossed: 42 errors", "{}", "ALARM")
    token = store.get_rollout(rollout_id).task_token
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": None}))
    cloud.client("stepfunctions").send_task_success(taskToken=token, output="{}")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the judgement read the alarm's state and rolled back
    rollout = view(cloud, rollout_id)
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    assert "churn-predictor-errors" in rollout["reason"]
    assert "Threshold Crossed: 42 errors" in str(rollout["decisions"])
