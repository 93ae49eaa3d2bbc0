"""bandit.asl.json on the local ASL engine with the real handlers: feedback in, weights and a winner out."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from rollouts.aws import feedback as aws_feedback
from rollouts.aws import store
from sandbox.cloud import LocalCloud
from sandbox.moto_ext import core
from tests.statemachines.helpers import (
    BASELINE,
    CANDIDATE,
    ENDPOINT,
    assert_safe_rolled_back,
    bandit_spec,
    endpoint_weights,
    kinds,
    report,
    start,
    view,
)
from tests.waiting import DAY, now, until

pytestmark = pytest.mark.statemachine


def wait_for_update(rollout_id: str, updates: int, timeout: float = DAY) -> None:
    """Until the rollout waits for feedback after its `updates`-th reweighting."""

    def waiting() -> bool:
        rollout = store.get_rollout(rollout_id)
        return bool(rollout.task_token) and rollout.bandit.updates == updates

    until(waiting, f"rollout {rollout_id} never waited after update {updates}", timeout)


def next_update(cloud: LocalCloud, rollout_id: str) -> None:
    token = store.get_rollout(rollout_id).task_token
    assert token
    store.update_rollout(rollout_id, lambda r: r.model_copy(update={"task_token": None}))
    cloud.client("stepfunctions").send_task_success(taskToken=token, output="{}")


def test_traffic_moves_to_the_better_variant_and_the_winner_is_promoted(cloud, endpoint, canary_spec):
    # Given a bandit between the baseline and the candidate, exploring at equal weights
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.5, CANDIDATE: 0.5}

    # When users convert twice as often on the candidate, update after update
    report(cloud, BASELINE, 300, 30, "a-base")
    report(cloud, CANDIDATE, 300, 60, "a-cand")
    next_update(cloud, rollout_id)
    wait_for_update(rollout_id, 2)
    assert endpoint_weights(cloud)[1][CANDIDATE] > 0.9  # P(best) after one batch
    report(cloud, BASELINE, 300, 30, "b-base")
    report(cloud, CANDIDATE, 300, 60, "b-cand")
    next_update(cloud, rollout_id)  # a second update at P(best) >= 0.95: the candidate wins
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the candidate won and serves alone; every update is in the log with its posterior
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    updates = [d for d in rollout["decisions"] if d["kind"] == "Bandit Reweighted"]
    assert len(updates) == 3  # equal weights at the start, then one per batch of feedback
    assert updates[-1]["evidence"]["posterior"]["leader"] == CANDIDATE
    decided = next(d for d in rollout["decisions"] if d["message"].startswith("Bandit decided"))
    assert (decided["kind"], decided["evidence"]["outcome"]) == ("Step Judged", "Successful")


def test_a_better_baseline_is_kept_on_its_original_config(cloud, endpoint, canary_spec):
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    report(cloud, BASELINE, 400, 80, "a-base")
    report(cloud, CANDIDATE, 400, 20, "a-cand")
    next_update(cloud, rollout_id)
    wait_for_update(rollout_id, 2)
    report(cloud, BASELINE, 400, 80, "b-base")
    report(cloud, CANDIDATE, 400, 20, "b-cand")
    next_update(cloud, rollout_id)
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    config, weights = endpoint_weights(cloud)
    assert (config, weights) == ("churn-predictor-v1", {BASELINE: 1.0})
    assert rollout["reason"].startswith("BaselineKept")
    assert store.lock_holder(ENDPOINT) is None
    decided = next(d for d in rollout["decisions"] if d["message"].startswith("Bandit decided"))
    assert decided["evidence"]["outcome"] == "Failed"  # no candidate beat the baseline


def test_an_alarm_while_waiting_for_feedback_rolls_back_at_once(cloud, endpoint, canary_spec):
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate above 2 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Guardrail Breached" in kinds(rollout)


THIRD = "churn-xgb-v3"


def three_arm_spec(canary_spec: dict[str, Any], cloud: LocalCloud, **strategy: Any) -> dict[str, Any]:
    """A bandit between the baseline, the candidate and a third model, churn-xgb-v3."""
    cloud.client("sagemaker").create_model(
        ModelName=THIRD,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker-execution",
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"},
    )
    spec = bandit_spec(canary_spec)
    spec["strategy"]["more_candidates"] = [{"model_name": THIRD, "instance_type": "ml.m5.large"}]
    spec["strategy"].update(strategy)
    return spec


def test_three_arms_the_best_of_two_candidates_wins_and_serves_alone(cloud, endpoint, canary_spec):
    # Given a bandit of the baseline and two candidates, exploring at equal weights
    started = start(cloud, three_arm_spec(canary_spec, cloud))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    assert endpoint_weights(cloud)[1] == pytest.approx({BASELINE: 1 / 3, CANDIDATE: 1 / 3, THIRD: 1 / 3}, abs=1e-3)

    # When the second candidate converts best, batch after batch
    for batch in ("a", "b"):
        report(cloud, BASELINE, 400, 40, f"{batch}-base")
        report(cloud, CANDIDATE, 400, 44, f"{batch}-cand")
        report(cloud, THIRD, 400, 90, f"{batch}-third")
        next_update(cloud, rollout_id)
        if batch == "a":
            wait_for_update(rollout_id, 2)
            assert endpoint_weights(cloud)[1][THIRD] > 0.9
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the second candidate is promoted: the endpoint serves it alone, on a config of its own
    assert execution["status"] == "SUCCEEDED"
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    config, weights = endpoint_weights(cloud)
    assert weights == {THIRD: 1.0}
    variants = cloud.client("sagemaker").describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    assert [(v["VariantName"], v["ModelName"]) for v in variants] == [(THIRD, THIRD)]
    promoted = next(d for d in rollout["decisions"] if d["kind"] == "Rollout Promoted")
    assert f"candidate '{THIRD}'" in promoted["message"]
    assert store.lock_holder(ENDPOINT) is None


def test_an_alarm_on_one_arm_removes_it_and_the_bandit_goes_on(cloud, endpoint, canary_spec):
    # Given a three-arm bandit with the 5XX alarm rule, which watches each candidate's variant
    started = start(cloud, three_arm_spec(canary_spec, cloud))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    # When the third model's own alarm fires (twice: EventBridge may deliver an event again)
    alarm = f"rollouts-{rollout_id}-5xx-rate-{THIRD}"
    for _ in range(2):
        cloud.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5XX above 2 %")
    until(lambda: endpoint_weights(cloud)[1].get(THIRD) == 0.0, "the failing arm kept its traffic")

    # Then it serves nothing at once, the others share its traffic, and the rollout goes on
    weights = endpoint_weights(cloud)[1]
    assert weights == pytest.approx({BASELINE: 0.5, CANDIDATE: 0.5, THIRD: 0.0}, abs=1e-3)
    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Progressing"
    removed = [d for d in rollout["decisions"] if d["kind"] == "Arm Removed"]
    assert len(removed) == 1
    assert removed[0]["evidence"]["alarm"] == alarm
    assert removed[0]["evidence"]["variant"] == THIRD

    # And the next updates leave it out, whatever its feedback says, until the candidate wins
    report(cloud, THIRD, 400, 200, "a-third")
    for batch in ("a", "b"):
        report(cloud, BASELINE, 400, 30, f"{batch}-base")
        report(cloud, CANDIDATE, 400, 60, f"{batch}-cand")
        next_update(cloud, rollout_id)
        if batch == "a":
            wait_for_update(rollout_id, 2)
            assert endpoint_weights(cloud)[1][THIRD] == 0.0
    execution = cloud.wait_for_execution(started["execution_arn"])
    assert execution["status"] == "SUCCEEDED"
    assert endpoint_weights(cloud)[1] == {CANDIDATE: 1.0}
    updates = [d for d in view(cloud, rollout_id)["decisions"] if d["kind"] == "Bandit Reweighted"]
    assert all(THIRD not in [arm["variant"] for arm in d["evidence"]["posterior"]["arms"]] for d in updates[1:])


def test_an_alarm_on_an_arm_rolls_everything_back_when_the_policy_says_so(cloud, endpoint, canary_spec):
    started = start(cloud, three_arm_spec(canary_spec, cloud, on_arm_breach="roll-back"))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-5xx-rate-{THIRD}", StateValue="ALARM", StateReason="5XX above 2 %"
    )
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert "Arm Removed" not in kinds(rollout)


def test_the_last_candidate_removed_rolls_back(cloud, endpoint, canary_spec):
    started = start(cloud, three_arm_spec(canary_spec, cloud))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    watch = cloud.client("cloudwatch")
    watch.set_alarm_state(AlarmName=f"rollouts-{rollout_id}-5xx-rate-{THIRD}", StateValue="ALARM", StateReason="x")
    watch.set_alarm_state(AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="y")
    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    rollout = view(cloud, rollout_id)
    assert_safe_rolled_back(cloud, rollout)
    assert kinds(rollout).count("Arm Removed") == 1


def test_two_candidates_with_one_variant_name_get_400_naming_the_field(cloud, endpoint, canary_spec):
    spec = three_arm_spec(canary_spec, cloud)
    spec["strategy"]["more_candidates"][0]["variant_name"] = CANDIDATE

    response = cloud.api("POST", "/rollouts", spec)

    assert response.status == 400
    assert "more_candidates.0" in response.body["message"]
    assert store.lock_holder(ENDPOINT) is None


def test_a_duplicated_batch_counts_once_and_a_malformed_event_is_set_aside(cloud, endpoint, canary_spec):
    # Given a bandit waiting for feedback
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    # When a producer sends one batch twice on the queue, and a message with one event that has no reward
    sqs = cloud.client("sqs")
    queue = cloud.physical["FeedbackQueue"]
    batch = [{"event_id": f"q-{i}", "endpoint": ENDPOINT, "variant": CANDIDATE, "reward": i % 2} for i in range(200)]
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"events": batch}))
    mixed = [
        *({"event_id": f"m-{i}", "endpoint": ENDPOINT, "variant": BASELINE, "reward": 0} for i in range(150)),
        {"event_id": "m-bad", "endpoint": ENDPOINT, "variant": BASELINE},
    ]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"events": mixed}))
    until(
        lambda: not store.get_rollout(rollout_id).task_token
        or {v: t.count for v, t in aws_feedback.rollout_totals(rollout_id).items()} == {CANDIDATE: 200, BASELINE: 150},
        "the batch was never counted",
    )
    next_update(cloud, rollout_id)
    wait_for_update(rollout_id, 2)

    # Then the update counted each event once, and the bad event waits in the dead letters with its reason
    update = [d for d in view(cloud, rollout_id)["decisions"] if d["kind"] == "Bandit Reweighted"][-1]
    counts = {arm["variant"]: arm["count"] for arm in update["evidence"]["posterior"]["arms"]}
    assert counts == {BASELINE: 150, CANDIDATE: 200}
    letters = sqs.receive_message(
        QueueUrl=cloud.physical["FeedbackDeadLetterQueue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert [json.loads(m["Body"])["event_id"] for m in letters] == ["m-bad"]
    assert letters[0]["MessageAttributes"]["reason"]["StringValue"] == "reward: Field required"


def test_the_next_batch_of_feedback_starts_the_update_before_its_time(cloud, endpoint, canary_spec):
    # Given a bandit that updates at least every 12 hours, and at most every 30 s
    spec = bandit_spec(canary_spec)
    spec["strategy"].update({"update_every": "12h", "min_update_interval": "30s", "max_duration": "7d"})
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    time.sleep(30)
    asked = now()

    # When, 30 s after that update, the feedback of the schedule's first batch (100 requests) arrives, and then more
    report(cloud, BASELINE, 60, 6, "a-base")
    report(cloud, CANDIDATE, 60, 18, "a-cand")

    # Then the update starts at once, long before its 12 hours, and counts that feedback
    wait_for_update(rollout_id, 2)
    assert now() - asked < 3600
    update = [d for d in view(cloud, rollout_id)["decisions"] if d["kind"] == "Bandit Reweighted"][-1]
    assert sum(arm["count"] for arm in update["evidence"]["posterior"]["arms"]) >= 100


def test_feedback_below_the_next_batch_waits_for_more(cloud, endpoint, canary_spec):
    spec = bandit_spec(canary_spec)
    spec["strategy"].update({"update_every": "12h", "min_update_interval": "30s", "max_duration": "7d"})
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    report(cloud, BASELINE, 40, 4, "a-base")
    report(cloud, CANDIDATE, 40, 8, "a-cand")
    time.sleep(600)

    rollout = store.get_rollout(rollout_id)
    assert rollout.bandit.updates == 1
    assert rollout.task_token  # still waiting: 80 of the 100 requests the first batch needs


def test_feedback_from_before_the_candidates_had_traffic_does_not_move_the_first_weights(cloud, endpoint, canary_spec):
    # Given a bandit whose endpoint takes 3 s to apply the new config
    core.REGISTRY.endpoint_update_seconds = 3000
    started = start(cloud, bandit_spec(canary_spec))
    rollout_id = started["rollout_id"]

    # When the baseline's users report conversions while only the baseline serves (the rollout manages it)
    until(lambda: store.get_rollout(rollout_id).baseline_variant is not None, "the rollout never took the endpoint")
    report(cloud, BASELINE, 300, 12, "before")
    assert aws_feedback.rollout_totals(rollout_id)[BASELINE].count == 300
    wait_for_update(rollout_id, 1)

    # Then the first weights are equal: those rewards tell nothing about the candidate
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.5, CANDIDATE: 0.5}
    first = next(d for d in view(cloud, rollout_id)["decisions"] if d["kind"] == "Bandit Reweighted")
    assert [arm["count"] for arm in first["evidence"]["posterior"]["arms"]] == [0, 0]
