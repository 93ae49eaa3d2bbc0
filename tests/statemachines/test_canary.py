"""canary.asl.json executed on the local ASL engine with the real handlers, from the API to the end state."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.aws import monitoring as monitoring_adapter
from rollouts.aws import store, workflows
from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, DataQualityMonitor, ModelBehaviour
from sandbox.moto_ext import core, events
from tests.statemachines.helpers import (
    BASELINE,
    CANDIDATE,
    ENDPOINT,
    assert_safe_rolled_back,
    endpoint_weights,
    kinds,
    start,
    subscribe,
    view,
)
from tests.waiting import now, until

pytestmark = pytest.mark.statemachine


def wait_until_baking(rollout_id: str, step: int = 0) -> None:
    def baking() -> bool:
        rollout = store.get_rollout(rollout_id)
        return bool(rollout.task_token) and rollout.step_index == step

    until(baking, f"rollout {rollout_id} never baked step {step}")


def test_healthy_canary_is_promoted_and_the_endpoint_serves_the_candidate_alone(cloud, endpoint, canary_spec):
    # Given an endpoint on v1 and a canary of churn-xgb-v2 in two steps
    started = start(cloud, canary_spec)

    # When nothing fires during the bakes
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the candidate is alone on a final config, the lock is free and the log tells the story
    assert execution["status"] == "SUCCEEDED"
    config, weights = endpoint_weights(cloud)
    assert config.endswith("-final")
    assert weights == {CANDIDATE: 1.0}
    final = cloud.client("sagemaker").describe_endpoint_config(EndpointConfigName=config)
    assert [v["ModelName"] for v in final["ProductionVariants"]] == [CANDIDATE]
    assert final["DataCaptureConfig"]["EnableCapture"] is True
    assert store.lock_holder(ENDPOINT) is None
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == "Promoted"
    assert kinds(rollout) == [
        "Rollout Started",
        "Variants Prepared",
        "Traffic Shifted",
        "Step Judged",
        "Traffic Shifted",
        "Step Judged",
        "Traffic Shifted",
        "Rollout Promoted",
    ]
    shifted = [d["evidence"]["weights"] for d in rollout["decisions"] if d["kind"] == "Traffic Shifted"]
    assert shifted == [
        {BASELINE: 90.0, CANDIDATE: 10.0},
        {BASELINE: 50.0, CANDIDATE: 50.0},
        {BASELINE: 0.0, CANDIDATE: 100.0},
    ]
    assert cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix="rollouts-")["MetricAlarms"] == []


def test_canary_rolls_back_when_alarm_fires_during_bake_before_the_bake_ends(cloud, endpoint, canary_spec):
    # Given a step that bakes for an hour
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])

    # When the candidate's 5XX alarm fires
    fired = now()
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{started['rollout_id']}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 8 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the baseline had the traffic back long before the bake would have ended
    restored = next(
        call["at"]
        for call in core.REGISTRY.calls
        if call["operation"] == "UpdateEndpointWeightsAndCapacities" and call["weights"].get(BASELINE) == 1.0
    )
    # The bake would have lasted an hour; the control plane's reaction costs no simulated time at all (its real
    # duration is measured by `make bench`).
    assert restored - fired < 60
    assert execution["status"] == "FAILED"
    assert execution["error"] == "RolloutRolledBack"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    breach = next(d for d in rollout["decisions"] if d["kind"] == "Guardrail Breached")
    assert breach["evidence"]["alarm"] == f"rollouts-{started['rollout_id']}-5xx-rate"
    assert "5XX rate 8 %" in rollout["reason"]


def test_an_alarm_that_finds_the_token_of_a_bake_already_over_still_rolls_back(cloud, endpoint, canary_spec):
    # Given a canary whose first bake ended (its time ran out) and whose second bake runs
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "5m"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id, step=0)
    stale = store.get_rollout(rollout_id).task_token
    wait_until_baking(rollout_id, step=1)

    # Then the first bake's token is refused, as Step Functions refuses a task that is closed
    assert workflows.fail_task(stale or "", "GuardrailBreachedError", "late") is False

    # When an alarm fires while the rollout still holds that token (as between a bake's timeout and its judge)
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": stale}))
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 8 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the breach is kept for the next judge, and the candidate is rolled back, not promoted
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "5XX rate 8 %" in rollout["reason"]


def test_duplicated_alarm_event_has_one_effect(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    alarm = f"rollouts-{started['rollout_id']}-5xx-rate"
    detail = {
        "alarmName": alarm,
        "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2026-11-27T09:05:00.000+0000"},
        "previousState": {"value": "OK", "reason": "", "timestamp": "2026-11-27T09:00:00.000+0000"},
    }

    # When EventBridge delivers the same alarm event twice
    events.put_event("aws.cloudwatch", "CloudWatch Alarm State Change", detail, [])
    events.put_event("aws.cloudwatch", "CloudWatch Alarm State Change", detail, [])
    execution = cloud.wait_for_execution(started["execution_arn"])
    until(lambda: kinds(view(cloud, started["rollout_id"])).count("Guardrail Breached") >= 1, "no breach recorded")
    time.sleep(60)  # the second delivery is over by then: deliveries take no simulated time

    # Then there is one breach and one rollback
    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "FAILED"
    assert kinds(rollout).count("Guardrail Breached") == 1
    assert kinds(rollout).count("Rollout Rolled Back") == 1
    restores = [
        c
        for c in core.REGISTRY.calls
        if c["operation"] == "UpdateEndpointWeightsAndCapacities" and c["weights"].get(BASELINE) == 1.0
    ]
    assert len(restores) == 1
    assert_safe_rolled_back(cloud, rollout)


@pytest.mark.parametrize("listing", ["first page", "beyond the first page", "missing"])
def test_data_quality_violations_roll_back_and_name_the_drifted_features(
    cloud, endpoint, canary_spec, listing, monkeypatch
):
    # Given a candidate whose inputs drift, baking its first step of 12 hours
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    plane = DataPlane(cloud, ENDPOINT, {CANDIDATE: ModelBehaviour(input_shift={"income": 1.6})}, requests_per_second=20)
    for _ in range(5):
        plane.step(60)
    monitor = DataQualityMonitor(plane, "churn-predictor-data-quality", variant=CANDIDATE)
    # ... and ListMonitoringExecutions showing its execution first, after 150 newer ones, or not at all (then the
    # event's ExitMessage says how the job ended)
    if listing == "beyond the first page":
        later = datetime(2099, 1, 1, tzinfo=UTC)
        core.REGISTRY.monitoring_executions[monitor.schedule_name] += [
            {
                "MonitoringScheduleName": monitor.schedule_name,
                "ScheduledTime": later + timedelta(minutes=n),
                "CreationTime": later,
                "LastModifiedTime": later,
                "MonitoringExecutionStatus": "Completed",
                "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/other-{n}",
                "MonitoringType": "DataQuality",
            }
            for n in range(150)
        ]
    elif listing == "missing":
        monkeypatch.setattr(monitoring_adapter, "find_execution", lambda schedule, job: None)

    # When the monitoring execution finishes with violations
    result = monitor.run()
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the rollout rolls back and the decision says which feature drifted
    assert result["status"] == "CompletedWithViolations"
    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    breach = next(d for d in rollout["decisions"] if d["kind"] == "Guardrail Breached")
    assert breach["evidence"]["monitoring_type"] == "DataQuality"
    assert "income" in breach["evidence"]["violated"]
    assert breach["evidence"]["violations_file"].endswith("constraint_violations.json")


def test_operator_abort_rolls_back_at_once(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort", {"reason": "wrong model"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    assert response.body["outcome"] == "interrupted"
    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "RolloutAbortedError" in rollout["reason"]
    assert "wrong model" in rollout["reason"]


def test_operator_promote_skips_the_remaining_steps(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/promote")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == "Promoted"
    assert kinds(rollout).count("Traffic Shifted") == 2  # step 1 at 10 %, then 100 %
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    assert store.lock_holder(ENDPOINT) is None


def test_failing_update_endpoint_call_rolls_back_to_a_safe_state(cloud, endpoint, canary_spec):
    # Given SageMaker refuses the UpdateEndpoint that would add the candidate
    cloud.inject_fault("UpdateEndpoint", "ResourceLimitExceeded: no ml.m5.large capacity")
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "no ml.m5.large capacity" in rollout["reason"]


def test_update_endpoint_that_fails_while_updating_rolls_back_to_a_safe_state(cloud, endpoint, canary_spec):
    # Given SageMaker accepts the update but keeps the old config (as it does when the new fleet fails)
    cloud.inject_fault("UpdateEndpoint", "the candidate's container failed its health check", when="async")
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "EndpointUpdateFailedError" in rollout["reason"]
    assert "Traffic Shifted" not in kinds(rollout)


def test_bad_spec_gets_400_naming_the_field_and_starts_nothing(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"][0]["bake"] = "soon"

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400
    fields = [detail["field"] for detail in response.body["details"]]
    assert "strategy.canary.steps.0.bake" in fields
    assert "soon" in response.body["message"]
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=cloud.state_machines["CanaryStateMachine"]
    )
    assert executions["executions"] == []
    assert store.lock_holder(ENDPOINT) is None


def test_unknown_model_gets_400_naming_the_field(cloud, endpoint, canary_spec):
    canary_spec["candidate"]["model_name"] = "no-such-model"

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400
    assert response.body["details"][0]["field"] == "candidate.model_name"
    assert store.lock_holder(ENDPOINT) is None


def test_second_rollout_on_a_locked_endpoint_gets_409(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    first = start(cloud, canary_spec)

    second = cloud.api("POST", "/rollouts", canary_spec)

    assert second.status == 409
    assert second.body["details"][0]["active_rollout_id"] == first["rollout_id"]
    cloud.api("POST", f"/rollouts/{first['rollout_id']}/abort")
    cloud.wait_for_execution(first["execution_arn"])


def test_promote_requested_before_the_first_bake_ends_the_bake_at_once(cloud, endpoint, canary_spec):
    # Given a rollout still waiting for SageMaker to add the candidate (a 50-minute update here)
    core.REGISTRY.endpoint_update_seconds = 3000
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}]
    started = start(cloud, canary_spec)

    # When an operator asks to promote before any bake has begun
    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/promote")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the command waits on the rollout and the first bake ends as soon as it starts
    assert response.body["outcome"] == "deferred"
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == "Promoted"
    assert kinds(rollout).count("Traffic Shifted") == 2
    # The bake ended by the command, not by its hour running out
    history = cloud.history(started["execution_arn"])
    names = [e.get("stateEnteredEventDetails", {}).get("name") for e in history]
    bake = history[names.index("Bake") : names.index("Judge Step")]
    assert bake
    assert not [e for e in bake if e["type"] == "TaskTimedOut"]


# Each update (120 s) ends well within a wait's 900 s timeout.
@pytest.mark.parametrize("paced_cloud", [120], indirect=True)
def test_endpoint_waits_end_on_the_state_change_event_not_by_polling(paced_cloud, canary_spec):
    started = start(paced_cloud, canary_spec)

    paced_cloud.wait_for_execution(started["execution_arn"])

    # Each endpoint update is awaited once: the event ends the wait, no timeout loop runs.
    entered = paced_cloud.states_entered(started["execution_arn"])
    assert "Endpoint Still Updating" not in entered, entered
    assert entered.count("Await Endpoint") == 1, entered
    assert entered.count("Await Promotion") == 1, entered


# Each update (3,000 s) outlasts a wait's timeout (900 s): with no event, only a timeout can end the wait.
@pytest.mark.parametrize("paced_cloud", [3000], indirect=True)
def test_a_lost_endpoint_event_costs_one_timeout_not_the_rollout(paced_cloud, canary_spec):
    # Given SageMaker's state-change events do not arrive
    core.REGISTRY.emit_endpoint_events = False
    started = start(paced_cloud, canary_spec)

    execution = paced_cloud.wait_for_execution(started["execution_arn"])

    # Then each wait looks again after its timeout and the rollout still completes
    assert execution["status"] == "SUCCEEDED"
    entered = paced_cloud.states_entered(started["execution_arn"])
    assert "Endpoint Still Updating" in entered, entered
    assert view(paced_cloud, started["rollout_id"])["status"] == "Promoted"


def test_decisions_that_matter_outside_are_published_on_the_bus(cloud, endpoint, canary_spec):
    # Given a subscriber to the control plane's events
    received_so_far = subscribe(cloud)

    started = start(cloud, canary_spec)
    cloud.wait_for_execution(started["execution_arn"])

    received = received_so_far()
    detail_types = [event["detail-type"] for event in received]
    assert detail_types.count("Rollout Started") == 1
    assert detail_types.count("Traffic Shifted") == 3
    assert detail_types.count("Rollout Promoted") == 1
    promoted = next(event for event in received if event["detail-type"] == "Rollout Promoted")
    assert promoted["detail"]["rollout_id"] == started["rollout_id"]
    assert promoted["detail"]["endpoint_name"] == ENDPOINT
    assert promoted["detail"]["candidate_variant"] == CANDIDATE


def test_breach_while_the_final_config_is_applied_still_rolls_back(cloud, endpoint, canary_spec):
    # Given a rollout promoting: the candidate has all the traffic and its final config takes 50 minutes to apply
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    core.REGISTRY.endpoint_update_seconds = 3000
    cloud.api("POST", f"/rollouts/{started['rollout_id']}/promote")
    until(lambda: store.get_rollout(started["rollout_id"]).final_config, "the final config was never applied")

    # When the candidate's alarm fires before the promotion is final
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{started['rollout_id']}-5xx-rate", StateValue="ALARM", StateReason="5XX rate 8 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the candidate does not stay: the baseline is back on its original config
    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "Rollout Promoted" not in kinds(rollout)


def publish_counts(cloud: LocalCloud, variant: str, requests: int, errors: int) -> None:
    dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": variant}]
    cloud.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": dims,
                "Unit": "Count",
                "StatisticValues": {"SampleCount": requests, "Sum": requests, "Minimum": 1, "Maximum": 1},
            },
            {
                "MetricName": "Invocation5XXErrors",
                "Dimensions": dims,
                "Unit": "Count",
                "StatisticValues": {"SampleCount": requests, "Sum": errors, "Minimum": 0, "Maximum": 1},
            },
        ],
    )


def end_bake(cloud: LocalCloud, rollout_id: str) -> None:
    token = store.get_rollout(rollout_id).task_token
    assert token
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": None}))
    cloud.client("stepfunctions").send_task_success(taskToken=token, output="{}")


@pytest.mark.parametrize(
    ("candidate_errors", "status", "outcome"), [(250, "RolledBack", "Failed"), (52, "Promoted", "Successful")]
)
def test_the_judge_decides_on_the_error_rates_with_its_evidence(
    cloud, endpoint, canary_spec, candidate_errors, status, outcome
):
    # Given a one-step canary whose 5XX rate is judged, and the counts CloudWatch holds at the end of the bake
    canary_spec["strategy"]["steps"] = [{"weight": 20, "bake": "1h"}]
    canary_spec["guardrails"]["alarm_rules"] = []
    canary_spec["guardrails"]["rate_checks"] = [{"name": "5xx-rate", "alpha": 0.05}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    publish_counts(cloud, BASELINE, requests=20_000, errors=200)  # 1 %
    publish_counts(cloud, CANDIDATE, requests=5_000, errors=candidate_errors)  # 5 % or about 1 %

    # When the bake ends
    end_bake(cloud, started["rollout_id"])
    cloud.wait_for_execution(started["execution_arn"])

    # Then the step's verdict and its evidence are in the decision log, and the rollout ends accordingly
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == status
    judged = next(d for d in rollout["decisions"] if d["kind"] == "Step Judged")
    verdict = judged["evidence"]["metrics"][0]
    assert verdict["outcome"] == outcome
    assert verdict["evidence"]["candidate_samples"] == 5_000
    assert verdict["evidence"]["baseline_samples"] >= 20_000
    assert verdict["evidence"]["boundary"] == pytest.approx(1.645, abs=1e-3)
    assert "O'Brien-Fleming" in judged["message"]
    # The check's own alpha, the family's bound it makes, and the power against a doubled rate
    assert verdict["evidence"]["alpha_source"] == "the check's own alpha"
    assert verdict["evidence"]["family_alpha"] == 0.05
    assert verdict["evidence"]["detectable_change"] == 1.0 and 0 < verdict["evidence"]["power"] <= 1
    final = rollout["decisions"][-1]
    assert final["kind"] in ("Rollout Promoted", "Rollout Rolled Back")
    assert final["evidence"]["judgement"][0]["outcome"] == outcome  # the published event carries the evidence
    if status == "RolledBack":
        assert_safe_rolled_back(cloud, rollout)


def test_a_step_with_too_few_requests_bakes_again_then_is_judged(cloud, endpoint, canary_spec):
    # Given a rate check that needs 1,000 requests per variant and may bake a step once more
    canary_spec["strategy"]["steps"] = [{"weight": 20, "bake": "1h"}]
    canary_spec["guardrails"]["alarm_rules"] = []
    canary_spec["guardrails"]["rate_checks"] = [{"name": "5xx-rate", "minimum_samples": 1000}]
    canary_spec["guardrails"]["extra_bakes_when_inconclusive"] = 1
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    publish_counts(cloud, BASELINE, requests=4_000, errors=40)
    publish_counts(cloud, CANDIDATE, requests=300, errors=3)

    # When the first bake ends with too few candidate requests
    first_token = store.get_rollout(rollout_id).task_token
    end_bake(cloud, rollout_id)
    until(lambda: store.get_rollout(rollout_id).task_token not in (None, first_token), "the step was not baked again")
    publish_counts(cloud, CANDIDATE, requests=1_000, errors=10)
    end_bake(cloud, rollout_id)
    cloud.wait_for_execution(started["execution_arn"])

    # Then the step was baked a second time and judged on all the requests
    rollout = view(cloud, rollout_id)
    judged = [d for d in rollout["decisions"] if d["kind"] == "Step Judged"]
    assert [d["evidence"]["outcome"] for d in judged] == ["Inconclusive", "Successful"]
    assert "baking again (1/1)" in judged[0]["message"]
    assert judged[1]["evidence"]["metrics"][0]["evidence"]["candidate_samples"] == 1_300
    assert rollout["status"] == "Promoted"
    assert cloud.states_entered(started["execution_arn"]).count("Bake") == 2


def wait_until_paused(cloud: LocalCloud, rollout_id: str) -> dict[str, Any]:
    def paused() -> bool:
        rollout = store.get_rollout(rollout_id)
        return rollout.status == "Paused" and bool(rollout.task_token)

    until(paused, f"rollout {rollout_id} never paused")
    return view(cloud, rollout_id)


def rate_judged(
    cloud: LocalCloud,
    canary_spec: dict[str, Any],
    weights: list[int],
    check: dict[str, Any],
    counts: tuple[tuple[int, int], tuple[int, int]],
    **guardrails: Any,
) -> dict[str, Any]:
    """A canary judged on its 5XX rate alone: started, its first bake given (requests, errors) per variant, ended."""
    canary_spec["strategy"]["steps"] = [{"weight": weight, "bake": "1h"} for weight in weights]
    canary_spec["guardrails"].update({"alarm_rules": [], "rate_checks": [check], **guardrails})
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    for variant, (requests, errors) in zip((BASELINE, CANDIDATE), counts, strict=True):
        publish_counts(cloud, variant, requests=requests, errors=errors)
    end_bake(cloud, started["rollout_id"])
    return started


def paused_rollout(cloud: LocalCloud, canary_spec: dict[str, Any], pause_timeout: str = "1h") -> dict[str, Any]:
    """A one-step canary whose rate check needs 1,000 requests per variant and only gets 300: paused."""
    return rate_judged(
        cloud,
        canary_spec,
        [20],
        {"name": "5xx-rate", "minimum_samples": 1000},
        ((4_000, 40), (300, 3)),
        when_inconclusive="pause",
        pause_timeout=pause_timeout,
    )


@pytest.mark.parametrize(("command", "judged"), [("resume", "an operator asked to resume"), ("promote", "promote")])
def test_an_inconclusive_step_pauses_until_an_operator_resumes_or_promotes(
    cloud, endpoint, canary_spec, command, judged
):
    # Given a rollout paused because its last step had too few requests to judge
    started = paused_rollout(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    paused = wait_until_paused(cloud, rollout_id)
    assert paused["status"] == "Paused"
    notice = next(d for d in paused["decisions"] if d["kind"] == "Rollout Paused")
    assert f"/rollouts/{rollout_id}/resume" in notice["message"]
    assert notice["evidence"]["judgement"][0]["outcome"] == "Inconclusive"
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.8, CANDIDATE: 0.2}  # the weights hold while paused

    # When an operator decides
    response = cloud.api("POST", f"/rollouts/{rollout_id}/{command}", {"reason": "checked the dashboards"})
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the rollout goes on from the pause and is promoted
    assert response.status == 202
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert any(d["kind"] == "Step Judged" and judged in d["message"] for d in rollout["decisions"])
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}


def test_abort_during_a_pause_rolls_back_to_a_safe_state(cloud, endpoint, canary_spec):
    started = paused_rollout(cloud, canary_spec)
    wait_until_paused(cloud, started["rollout_id"])

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort", {"reason": "not worth the wait"})
    cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "not worth the wait" in rollout["reason"]


def test_a_pause_no_operator_answers_rolls_back_when_it_times_out(cloud, endpoint, canary_spec):
    # Given a pause that waits 10 minutes (0.6 s here)
    started = paused_rollout(cloud, canary_spec, pause_timeout="10m")
    wait_until_paused(cloud, started["rollout_id"])

    # When nobody answers
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the rollout rolls back and says why
    assert execution["status"] == "FAILED"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert rollout["reason"].startswith("PauseTimedOutError")


def test_resume_of_a_rollout_that_is_not_paused_gets_409_and_changes_nothing(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/resume")

    assert response.status == 409
    assert response.body["error"] == "RolloutNotPaused"
    assert "Progressing, not paused" in response.body["message"]
    assert store.get_rollout(started["rollout_id"]).task_token  # still baking
    cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort")
    cloud.wait_for_execution(started["execution_arn"])


def test_fail_policy_rolls_back_an_inconclusive_step_before_the_last(cloud, endpoint, canary_spec):
    # Given a two-step canary that fails, rather than goes on, when a step has too little data to judge;
    # When the first step's bake ends with 300 candidate requests where the check needs 1,000
    started = rate_judged(
        cloud,
        canary_spec,
        [20, 50],
        {"name": "5xx-rate", "minimum_samples": 1000},
        ((4_000, 40), (300, 3)),
        when_inconclusive="fail",
    )
    cloud.wait_for_execution(started["execution_arn"])

    # Then it rolls back at step 1 and says the check had too few requests
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    judged = next(d for d in rollout["decisions"] if d["kind"] == "Step Judged")
    assert judged["message"].startswith("Step 1/2 failed")
    assert "fewer than the minimum" in judged["message"]


def post_conversions(cloud: LocalCloud, variant: str, count: int, converted: int, prefix: str) -> None:
    events = [
        {"event_id": f"{prefix}-{i}", "endpoint": ENDPOINT, "variant": variant, "reward": 1 if i < converted else 0}
        for i in range(count)
    ]
    for start_at in range(0, count, 500):
        response = cloud.api("POST", "/feedback", {"events": events[start_at : start_at + 500]})
        assert response.status == 202, response.body


@pytest.mark.parametrize(
    ("candidate_converted", "status", "outcome"), [(20, "RolledBack", "Failed"), (50, "Promoted", "Successful")]
)
def test_the_judge_decides_on_the_conversions_users_report(
    cloud, endpoint, canary_spec, candidate_converted, status, outcome
):
    # Given a one-step canary judged on the feedback users send, and their conversions during the bake
    canary_spec["strategy"]["steps"] = [{"weight": 30, "bake": "24h"}]  # ended by the test, not by its time
    canary_spec["guardrails"]["alarm_rules"] = []
    canary_spec["guardrails"]["feedback_checks"] = [{"name": "conversion"}]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    post_conversions(cloud, BASELINE, 1000, 100, "b")  # 10 %
    post_conversions(cloud, CANDIDATE, 500, candidate_converted, "c")  # 4 % or 10 %

    # When the bake ends
    end_bake(cloud, started["rollout_id"])
    cloud.wait_for_execution(started["execution_arn"])

    # Then the step's verdict rests on the reported conversions
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == status
    judged = next(d for d in rollout["decisions"] if d["kind"] == "Step Judged")
    [verdict] = judged["evidence"]["metrics"]
    assert verdict["metric"] == "feedback reward (conversion)"
    assert verdict["outcome"] == outcome
    # Without an alpha of its own, the only critical check takes all of guardrails.family_alpha
    assert verdict["evidence"]["alpha"] == 0.05
    assert verdict["evidence"]["alpha_source"] == (
        "guardrails.family_alpha 0.05: the only critical check without its own"
    )
    assert (verdict["evidence"]["baseline_samples"], verdict["evidence"]["candidate_samples"]) == (1000, 500)
    if status == "RolledBack":
        assert_safe_rolled_back(cloud, rollout)


def test_a_non_critical_check_that_fails_is_advisory_and_the_step_goes_on(cloud, endpoint, canary_spec):
    # Given a one-step canary whose 5XX rate check is advisory, and a candidate that errs five times as often;
    # When the bake ends
    started = rate_judged(
        cloud, canary_spec, [20], {"name": "5xx-rate", "critical": False}, ((20_000, 200), (5_000, 250))
    )
    cloud.wait_for_execution(started["execution_arn"])

    # Then the failed verdict is recorded as advisory, and the rollout is promoted
    rollout = view(cloud, started["rollout_id"])
    assert rollout["status"] == "Promoted"
    judged = next(d for d in rollout["decisions"] if d["kind"] == "Step Judged")
    assert judged["evidence"]["metrics"][0]["outcome"] == "Failed"
    assert "advisory: 5XX rate (5xx-rate)" in judged["message"]
