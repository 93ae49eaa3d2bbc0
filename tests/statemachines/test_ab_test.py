"""abtest.asl.json on the local ASL engine with the real handlers: a fixed split, feedback in, a verdict out."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.aws import store
from rollouts.settings import get_settings
from sandbox.moto_ext import core
from tests.statemachines.helpers import (
    BASELINE,
    CANDIDATE,
    ENDPOINT,
    ab_spec,
    assert_safe_rolled_back,
    endpoint_weights,
    fire_alarm,
    kinds,
    report,
    start,
    view,
    wait_until_guarded,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine


def wait_until_split(rollout_id: str) -> None:
    """Until the traffic is split and the first look is awaited."""

    def split() -> bool:
        rollout = store.get_rollout(rollout_id)
        return bool(rollout.task_token) and rollout.ab_test.started_at is not None

    until(split, f"rollout {rollout_id} never split its traffic")


def looks(rollout: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in rollout["decisions"] if d["kind"] == "A/B Test Judged"]


def test_a_better_candidate_wins_after_the_minimum_duration_and_serves_alone(cloud, endpoint, canary_spec):
    # Given an A/B test giving the candidate 30 % of the traffic
    started = start(cloud, ab_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.7, CANDIDATE: 0.3}

    # When users convert on the candidate at 15 % against 10 % on the baseline
    report(cloud, BASELINE, 2000, 200, "base")
    report(cloud, CANDIDATE, 2000, 300, "cand")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the first look (half an hour) waits for the minimum duration, a later one promotes the candidate
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    assert store.lock_holder(ENDPOINT) is None
    judged = looks(rollout)
    assert judged[0]["evidence"]["next"] == "wait"
    assert "minimum duration" in judged[0]["message"]
    assert judged[-1]["evidence"]["next"] == "promote"
    assert judged[-1]["evidence"]["winner"] == CANDIDATE
    assert [look["evidence"]["outcome"] for look in judged][-1] == "Successful"
    assert judged[-1]["evidence"]["elapsed_seconds"] >= 3600
    # On a busy machine part of the feedback may still be queued at the deciding look: it decides on what it has
    assert 200 <= judged[-1]["evidence"]["candidate"]["count"] <= 2000
    low, high = judged[-1]["evidence"]["interval"]
    assert 0 < low < high  # the always-valid interval of the difference excludes 0


def test_a_better_baseline_is_kept_on_its_original_config(cloud, endpoint, canary_spec):
    started = start(cloud, ab_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)

    report(cloud, BASELINE, 2000, 300, "base")
    report(cloud, CANDIDATE, 2000, 200, "cand")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    assert cloud.states_entered(started["execution_arn"])[-1] == "Baseline Kept"
    rollout = view(cloud, rollout_id)
    assert endpoint_weights(cloud) == ("churn-predictor-v1", {BASELINE: 1.0})
    assert rollout["reason"].startswith("BaselineKept")
    assert looks(rollout)[-1]["evidence"]["winner"] == BASELINE
    assert looks(rollout)[-1]["evidence"]["outcome"] == "Failed"  # the candidate's outcome
    assert store.lock_holder(ENDPOINT) is None


def test_no_winner_by_the_maximum_duration_stops_as_inconclusive(cloud, endpoint, canary_spec):
    # Given a test of two hours, looked at every half hour, where both models convert alike
    started = start(cloud, ab_spec(canary_spec, min_duration="30m", max_duration="2h"))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)
    report(cloud, BASELINE, 1000, 100, "base")
    report(cloud, CANDIDATE, 1000, 100, "cand")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then it ends inconclusive, the baseline alone on its config, every look in the log
    assert execution["status"] == "SUCCEEDED"
    assert cloud.states_entered(started["execution_arn"])[-1] == "Inconclusive"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert rollout["reason"].startswith("Inconclusive")
    judged = looks(rollout)
    # (looks every half hour: at most four, fewer if a busy machine delayed one)
    nexts = [look["evidence"]["next"] for look in judged]
    assert 2 <= len(nexts) <= 4
    assert nexts == ["wait"] * (len(nexts) - 1) + ["inconclusive"]
    assert all(look["evidence"]["winner"] is None for look in judged)
    assert {look["evidence"]["outcome"] for look in judged} == {"Inconclusive"}


def test_feedback_from_before_the_split_is_left_out(cloud, endpoint, canary_spec):
    # Given feedback on the baseline before the test (its users convert at 50 %)
    report(cloud, BASELINE, 500, 250, "before")
    started = start(cloud, ab_spec(canary_spec, min_duration="30m", max_duration="1h"))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)

    # When both convert alike during the test
    report(cloud, BASELINE, 1000, 100, "base")
    report(cloud, CANDIDATE, 1000, 100, "cand")
    cloud.wait_for_execution(started["execution_arn"])

    # Then the baseline's earlier feedback does not make it win
    judged = looks(view(cloud, rollout_id))
    assert judged[-1]["evidence"]["baseline"]["count"] == 1000
    assert judged[-1]["evidence"]["next"] == "inconclusive"


def test_an_alarm_while_waiting_for_a_look_rolls_back_at_once(cloud, endpoint, canary_spec):
    started = start(cloud, ab_spec(canary_spec, check_every="4h"))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)

    fire_alarm(cloud, rollout_id, "5XX rate above 2 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Guardrail Breached" in kinds(rollout)
    assert looks(rollout) == []


def test_an_alarm_while_the_endpoint_takes_the_tests_config_rolls_back_before_any_split(cloud, endpoint, canary_spec):
    # Given an endpoint that takes 3 s to apply the test's config
    core.REGISTRY.endpoint_update_seconds = 3000
    started = start(cloud, ab_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_guarded(rollout_id)

    # When a guardrail alarm fires before the candidate has any traffic
    fire_alarm(cloud, rollout_id, "5XX rate above 2 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the test never splits the traffic, and the endpoint is back on its config
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Traffic Shifted" not in kinds(rollout)


def test_an_alarm_while_the_candidate_only_config_is_applied_still_rolls_back(cloud, endpoint, canary_spec):
    # Given a winning candidate whose final config takes 3 s to apply
    started = start(cloud, ab_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)
    report(cloud, BASELINE, 2000, 200, "base")
    report(cloud, CANDIDATE, 2000, 300, "cand")
    core.REGISTRY.endpoint_update_seconds = 3000
    until(lambda: store.get_rollout(rollout_id).endpoint_token, "the winner's config was never applied")
    assert store.get_rollout(rollout_id).winner == CANDIDATE

    # When a guardrail alarm fires while the endpoint applies it
    fire_alarm(cloud, rollout_id, "5XX rate above 2 %")
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the promotion does not finish: the baseline's config comes back
    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Rollout Promoted" not in kinds(rollout)


def test_an_operator_abort_rolls_back_and_an_operator_promote_ends_the_test(cloud, endpoint, canary_spec):
    aborted = start(cloud, ab_spec(canary_spec, check_every="4h"))
    wait_until_split(aborted["rollout_id"])
    assert cloud.api("POST", f"/rollouts/{aborted['rollout_id']}/abort", {"reason": "wrong model"}).status == 202
    assert cloud.wait_for_execution(aborted["execution_arn"])["status"] == "FAILED"
    rollout = view(cloud, aborted["rollout_id"])
    assert_safe_rolled_back(cloud, rollout)
    assert "wrong model" in rollout["reason"]

    promoted = start(cloud, ab_spec(canary_spec, check_every="4h"))
    wait_until_split(promoted["rollout_id"])
    assert cloud.api("POST", f"/rollouts/{promoted['rollout_id']}/promote", {"reason": "ship it"}).status == 202
    assert cloud.wait_for_execution(promoted["execution_arn"])["status"] == "SUCCEEDED"
    assert view(cloud, promoted["rollout_id"])["status"] == "Promoted"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    command = looks(view(cloud, promoted["rollout_id"]))[-1]["evidence"]
    assert (command["outcome"], command["rule"]) == ("Successful", "operator promote")


@pytest.mark.parametrize(
    ("operation", "when"),
    [
        ("CreateEndpointConfig", "call"),
        ("PutMetricAlarm", "call"),
        ("UpdateEndpoint", "call"),
        ("UpdateEndpoint", "async"),
        ("UpdateEndpointWeightsAndCapacities", "call"),
    ],
)
def test_a_failing_sagemaker_call_ends_in_a_safe_state(cloud, endpoint, canary_spec, operation, when):
    cloud.inject_fault(operation, f"injected failure of {operation}", when=when)
    started = start(cloud, ab_spec(canary_spec))

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, view(cloud, started["rollout_id"]))


def test_a_spec_with_durations_out_of_order_gets_400_naming_the_field(cloud, endpoint, canary_spec):
    response = cloud.api("POST", "/rollouts", ab_spec(canary_spec, min_duration="7d", max_duration="1d"))

    assert response.status == 400
    assert "strategy.ab-test" in str(response.body)
    assert "min_duration" in str(response.body)


def continued_test(cloud, canary_spec) -> tuple[str, dict[str, Any]]:
    """A test of at least 3 hours whose candidate converts better, run until it is promoted: the rollout's id and
    view, once its first execution has handed over to a new one (as the test's settings make it)."""
    started = start(cloud, ab_spec(canary_spec, min_duration="3h", max_duration="8h"))
    rollout_id = started["rollout_id"]
    wait_until_split(rollout_id)
    report(cloud, BASELINE, 2000, 200, "base")
    report(cloud, CANDIDATE, 2000, 300, "cand")
    first = cloud.wait_for_execution(started["execution_arn"])
    assert first["status"] == "SUCCEEDED"
    assert cloud.states_entered(started["execution_arn"])[-2:] == ["Continue As New", "Continued"]
    until(lambda: store.get_rollout(rollout_id).status == "Promoted", "the continued test never ended")
    rollout = view(cloud, rollout_id)
    assert rollout["execution_arn"] != started["execution_arn"]
    assert store.lock_holder(ENDPOINT) is None
    return rollout_id, rollout


def test_a_long_test_continues_as_a_new_execution_and_ends_as_one(cloud, endpoint, canary_spec, monkeypatch):
    # Given executions that continue as new after two waits (400 by default)
    monkeypatch.setenv("ROLLOUTS_LOOPS_PER_EXECUTION", "2")
    get_settings.cache_clear()

    # When a test runs: its first execution hands over to a new one after two waits, and so on
    _, rollout = continued_test(cloud, canary_spec)

    # Then the rollout follows each, and the test ends in the last as usual
    assert cloud.wait_for_execution(rollout["execution_arn"])["status"] == "SUCCEEDED"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    assert kinds(rollout).count("Execution Continued") >= 2  # 6 looks at most, two per execution
    assert [look["evidence"]["look"] for look in looks(rollout)] == list(range(1, len(looks(rollout)) + 1))


def test_an_execution_continues_as_new_after_its_time_whatever_its_waits(cloud, endpoint, canary_spec, monkeypatch):
    # Given executions that continue after 2 hours (a week deployed), far fewer than 400 waits
    monkeypatch.setattr("rollouts.logic.lifecycle.CONTINUE_AFTER_SECONDS", 7200)

    # When a test of 3 hours runs
    _, rollout = continued_test(cloud, canary_spec)

    # Then its first execution handed over after its time, well before the state machine's timeout, and says why
    continued = next(d for d in rollout["decisions"] if d["kind"] == "Execution Continued")
    assert "the previous one had run 2h" in continued["message"]
