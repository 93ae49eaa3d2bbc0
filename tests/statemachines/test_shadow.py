"""shadow.asl.json on the local ASL engine with the real handlers: a challenger shadows production, then is judged."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.moto_ext import clock, core
from sandbox.scenarios import BASELINE_MODEL, CANDIDATE_MODEL
from tests.statemachines.helpers import (
    BASELINE,
    CANDIDATE,
    ENDPOINT,
    assert_safe_rolled_back,
    endpoint_weights,
    fire_alarm,
    kinds,
    shadow_spec,
    start,
    view,
    wait_until_deployment_bakes,
    wait_until_guarded,
    wait_until_watching,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine

FAST, SLOW = ModelBehaviour(error_rate=0.0, latency_ms=40.0), ModelBehaviour(error_rate=0.0, latency_ms=80.0)


def wait_until_shadowing(rollout_id: str) -> None:
    def shadowing() -> bool:
        rollout = store.get_rollout(rollout_id)
        return bool(rollout.task_token) and rollout.started_at is not None

    until(shadowing, f"rollout {rollout_id} never started shadowing")


_served_until = [datetime.now(UTC)]


def serve(cloud: LocalCloud, challenger: ModelBehaviour, minutes: int = 10) -> DataPlane:
    """Production's traffic for `minutes` simulated minutes, the challenger answering its copies as `challenger`."""
    plane = DataPlane(cloud, ENDPOINT, {BASELINE_MODEL: FAST, CANDIDATE_MODEL: challenger}, requests_per_second=5)
    for _ in range(minutes):
        plane.step(60)
    plane.flush_capture()
    _served_until[0] = plane.now()
    return plane


def end_shadowing(cloud: LocalCloud, rollout_id: str) -> None:
    """Let the simulated clock pass the data's last minute, then end the wait as its timeout would."""
    time.sleep(max(0.0, (_served_until[0] - clock.now()).total_seconds()) + 60)
    token = store.get_rollout(rollout_id).task_token
    assert token
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": None}))
    cloud.client("stepfunctions").send_task_success(taskToken=token, output="{}")


def shadowed(cloud: LocalCloud, spec: dict[str, Any], challenger: ModelBehaviour = FAST) -> tuple[dict[str, Any], str]:
    """Start a shadow rollout, serve ten minutes of traffic with `challenger` in the shadow, and end the shadowing:
    the judge runs next. Returns the start response and the rollout id."""
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    wait_until_shadowing(rollout_id)
    serve(cloud, challenger)
    end_shadowing(cloud, rollout_id)
    return started, rollout_id


def described(cloud: LocalCloud) -> dict[str, Any]:
    return dict(cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT))


def judged(rollout: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in rollout["decisions"] if d["message"].startswith("Challenger"))


def test_a_challenger_that_agrees_and_keeps_up_replaces_production_through_blue_green(cloud, endpoint, canary_spec):
    # Given a challenger shadowing production, answering a copy of every request
    started = start(cloud, shadow_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_shadowing(rollout_id)
    endpoint_now = described(cloud)
    assert [v["VariantName"] for v in endpoint_now["ShadowProductionVariants"]] == [CANDIDATE]
    assert endpoint_weights(cloud)[1] == {BASELINE: 1.0}

    # When it predicts as production does, as fast, with no errors
    plane = serve(cloud, FAST)
    end_shadowing(cloud, rollout_id)
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then it passed every check and SageMaker deployed it in production's variant; the shadow is gone
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    checks = {c["check"]: c for c in judged(rollout)["evidence"]["checks"]}
    assert all(c["passed"] and c["outcome"] == "Successful" for c in checks.values())
    assert judged(rollout)["evidence"]["outcome"] == "Successful"
    assert checks["agreement"]["observed"] == 1.0
    # Each comparison is a test at a third of guardrails.family_alpha, and its evidence says which and how it came out
    assert judged(rollout)["evidence"]["family_alpha"] == 0.05
    for name, test in (("5xx-rate", "Farrington-Manning"), ("latency", "Mann-Whitney"), ("agreement", "binomial")):
        assert test in checks[name]["test"]
        assert checks[name]["alpha"] == pytest.approx(0.05 / 3)
        assert checks[name]["p_value"] > checks[name]["alpha"]
        assert "Bonferroni" in checks[name]["alpha_source"]
    assert checks["agreement"]["samples"] == plane.sent[BASELINE] == checks["requests"]["observed"]
    final = described(cloud)
    assert final["EndpointConfigName"].endswith("-green")
    assert not final.get("ShadowProductionVariants")
    config = cloud.client("sagemaker").describe_endpoint_config(EndpointConfigName=final["EndpointConfigName"])
    assert [(v["VariantName"], v["ModelName"]) for v in config["ProductionVariants"]] == [(BASELINE, CANDIDATE_MODEL)]
    assert store.lock_holder(ENDPOINT) is None


@pytest.mark.parametrize(
    ("challenger", "failing", "words"),
    [
        (ModelBehaviour(error_rate=0.0, latency_ms=40.0, score_shift=0.4), "agreement", "exact binomial test"),
        (SLOW, "latency", "Mann-Whitney rank test"),
        (ModelBehaviour(error_rate=0.03, latency_ms=40.0), "5xx-rate", "Farrington-Manning score test"),
    ],
)
def test_a_challenger_that_disagrees_or_lags_is_removed_and_production_goes_on(
    cloud, endpoint, canary_spec, challenger, failing, words
):
    # The comparison judges the challenger here, not the 5XX alarm rule, which would remove it sooner
    canary_spec["guardrails"]["alarm_rules"] = []
    started, rollout_id = shadowed(cloud, shadow_spec(canary_spec), challenger)
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    assert cloud.states_entered(started["execution_arn"])[-1] == "Challenger Rejected"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert not described(cloud).get("ShadowProductionVariants")
    assert rollout["reason"].startswith("ChallengerRejected")
    checks = {c["check"]: c for c in judged(rollout)["evidence"]["checks"]}
    assert not checks[failing]["passed"]
    assert checks[failing]["outcome"] == judged(rollout)["evidence"]["outcome"] == "Failed"
    # Failed on evidence: the test's p-value is at or below its alpha, and the reason names the test
    assert checks[failing]["p_value"] <= checks[failing]["alpha"] == pytest.approx(0.05 / 3)
    assert words in checks[failing]["reason"] and words in rollout["reason"]


def test_a_challenger_with_too_few_requests_is_not_promoted_on_no_evidence(cloud, endpoint, canary_spec):
    started = start(cloud, shadow_spec(canary_spec))
    wait_until_shadowing(started["rollout_id"])

    end_shadowing(cloud, started["rollout_id"])
    cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "0 requests copied to the challenger" in rollout["reason"]
    # No evidence either way is Inconclusive, not Failed: the challenger is still not promoted
    assert judged(rollout)["evidence"]["outcome"] == "Inconclusive"
    assert "rejected (Inconclusive)" in rollout["reason"]


def test_a_verdict_only_shadow_removes_a_challenger_that_passed(cloud, endpoint, canary_spec):
    started = start(cloud, shadow_spec(canary_spec, on_success="remove-shadow"))
    wait_until_shadowing(started["rollout_id"])

    serve(cloud, FAST)
    end_shadowing(cloud, started["rollout_id"])
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    assert cloud.states_entered(started["execution_arn"])[-1] == "Shadow Removed"
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert rollout["reason"].startswith("ShadowEnded")


def test_an_alarm_on_the_challenger_while_it_shadows_removes_it_at_once(cloud, endpoint, canary_spec):
    started = start(cloud, shadow_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_shadowing(rollout_id)

    fire_alarm(cloud, rollout_id, "5XX rate above 2 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Guardrail Breached" in kinds(rollout)
    assert not described(cloud).get("ShadowProductionVariants")


def test_an_operator_abort_removes_the_shadow(cloud, endpoint, canary_spec):
    started = start(cloud, shadow_spec(canary_spec))
    wait_until_shadowing(started["rollout_id"])

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort", {"reason": "wrong model"})
    cloud.wait_for_execution(started["execution_arn"])

    assert response.status == 202
    rollout = view(cloud, started["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "wrong model" in rollout["reason"]


@pytest.mark.parametrize(
    ("operation", "when"),
    [
        ("CreateEndpointConfig", "call"),
        ("PutMetricAlarm", "call"),
        ("UpdateEndpoint", "call"),
        ("UpdateEndpoint", "async"),
    ],
)
def test_a_failing_call_to_set_up_the_shadow_ends_in_a_safe_state(cloud, endpoint, canary_spec, operation, when):
    cloud.inject_fault(operation, f"ResourceLimitExceeded ({operation})", when=when)
    started = start(cloud, shadow_spec(canary_spec))

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, view(cloud, started["rollout_id"]))
    assert not described(cloud).get("ShadowProductionVariants")


def test_a_promotion_that_sagemaker_rolls_back_ends_on_production_alone(cloud, endpoint, canary_spec):
    # Given a challenger that passed, whose blue/green deployment fails while SageMaker bakes it
    started = start(cloud, shadow_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_shadowing(rollout_id)
    serve(cloud, FAST)
    cloud.inject_fault("UpdateEndpoint", "the green fleet failed its health check", when="baking")
    end_shadowing(cloud, rollout_id)
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the rollback is reported and the endpoint is on its original config, production alone
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Deployment Rolled Back" in kinds(rollout)
    assert not described(cloud).get("ShadowProductionVariants")


def test_an_endpoint_with_two_production_variants_cannot_take_a_shadow(cloud, endpoint, canary_spec):
    spec = shadow_spec(canary_spec)
    sagemaker = cloud.client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName="churn-predictor-v1")
    second = {**config["ProductionVariants"][0], "VariantName": "v1b"}
    sagemaker.create_endpoint_config(
        EndpointConfigName="churn-predictor-two", ProductionVariants=[config["ProductionVariants"][0], second]
    )
    sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="churn-predictor-two")
    until(lambda: described(cloud)["EndpointStatus"] == "InService", "the endpoint never took its new config")
    spec["baseline_variant"] = BASELINE

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400
    assert "endpoint_name" in str(response.body)
    assert "single production variant" in str(response.body)


def test_an_alarm_while_sagemaker_deploys_the_challenger_rolls_back_natively(cloud, endpoint, canary_spec):
    # Given a challenger that passed, whose blue/green deployment bakes a canary for an hour (3.6 s here)
    promotion = {
        "type": "blue-green",
        "traffic_routing": "canary",
        "canary_size": {"type": "capacity-percent", "value": 50},
        "wait_interval": "1h",
        "termination_wait": "0s",
    }
    spec = shadow_spec(canary_spec, promotion=promotion)
    started, rollout_id = shadowed(cloud, spec)
    wait_until_deployment_bakes(cloud)

    # When the 5XX alarm fires on the new fleet
    fire_alarm(cloud, rollout_id, "5XX rate 8 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then SageMaker rolled back by itself and production serves alone, as before the rollout
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Deployment Rolled Back" in kinds(rollout)
    assert not described(cloud).get("ShadowProductionVariants")


def test_a_breach_in_the_watch_after_promotion_brings_production_back(cloud, endpoint, canary_spec):
    spec = shadow_spec(
        canary_spec,
        promotion={
            "type": "blue-green",
            "wait_interval": "1m",
            "termination_wait": "0s",
            "watch_after_promotion": "12h",
        },
    )
    started, rollout_id = shadowed(cloud, spec)
    wait_until_watching(rollout_id)

    fire_alarm(cloud, rollout_id, "5XX rate 6 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "5XX rate 6 %" in rollout["reason"]


def test_an_alarm_while_the_endpoint_takes_the_shadow_config_removes_it(cloud, endpoint, canary_spec):
    # Given an endpoint that takes 3 s to apply the shadow config
    core.REGISTRY.endpoint_update_seconds = 3000
    started = start(cloud, shadow_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_guarded(rollout_id)

    # When the challenger's alarm fires before the shadowing starts
    fire_alarm(cloud, rollout_id, "5XX rate above 2 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the shadowing never starts and the original config, with no shadow, comes back
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Traffic Shifted" not in kinds(rollout)
    assert not described(cloud).get("ShadowProductionVariants")
