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


# --- the bandit's tunables: floor, cap, discount, change detector, batch schedule ----------------------------------


def continuous_spec(canary_spec: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    """A bandit that never decides: it reweights when the test says, for as long as the test runs."""
    spec = bandit_spec(canary_spec)
    spec["strategy"].update({"mode": "continuous", **strategy})
    return spec


def serve_batch(
    cloud: LocalCloud, rollout_id: str, rates: dict[str, float], requests: int, name: str
) -> dict[str, float]:
    """Users send `requests` requests, routed by the endpoint's current weights, and convert at each variant's rate;
    their feedback is the next batch. Returns the endpoint's weights after the update that counts it."""
    weights = endpoint_weights(cloud)[1]
    updates = store.get_rollout(rollout_id).bandit.updates
    for variant, rate in rates.items():
        served = round(requests * weights[variant])
        if served:
            report(cloud, variant, served, round(served * rate), f"{name}-{variant}")
    next_update(cloud, rollout_id)
    wait_for_update(rollout_id, updates + 1)
    return endpoint_weights(cloud)[1]


def reweighted(cloud: LocalCloud, rollout_id: str) -> list[dict[str, Any]]:
    return [d for d in view(cloud, rollout_id)["decisions"] if d["kind"] == "Bandit Reweighted"]


BETTER_CANDIDATE = {BASELINE: 0.10, CANDIDATE: 0.20}
WORSE_CANDIDATE = {BASELINE: 0.10, CANDIDATE: 0.04}


def test_when_the_better_arm_gets_worse_the_change_detector_moves_the_traffic_back_within_one_update(
    cloud, endpoint, canary_spec
):
    # Given a continuous bandit whose candidate converts at 20 % against the baseline's 10 %: traffic moves to it
    started = start(cloud, continuous_spec(canary_spec))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    assert endpoint_weights(cloud)[1] == {BASELINE: 0.5, CANDIDATE: 0.5}
    for batch in ("a", "b"):
        weights = serve_batch(cloud, rollout_id, BETTER_CANDIDATE, 600, batch)
    assert weights[CANDIDATE] > 0.999  # the baseline is starved: the next batches tell nothing new about it

    # When the candidate's conversion rate drops to 4 %, below the baseline's
    weights = serve_batch(cloud, rollout_id, WORSE_CANDIDATE, 600, "c")

    # Then the very next update gives the baseline the traffic back, on the endpoint itself
    assert weights[BASELINE] > 0.99
    # And the log says why: the change detector found the candidate's latest batch far below its history and reset it
    update = reweighted(cloud, rollout_id)[-1]
    assert update["evidence"]["reset"] == [CANDIDATE]
    [test] = [t for t in update["evidence"]["change_tests"] if t["variant"] == CANDIDATE]
    assert test["changed"] and test["z"] <= -4.0
    assert update["evidence"]["change_threshold"] == 4.0
    assert f"the change detector reset {CANDIDATE}" in update["message"]
    candidate = next(arm for arm in update["evidence"]["posterior"]["arms"] if arm["variant"] == CANDIDATE)
    assert candidate["count"] == 600  # its history is forgotten: only the batch after the change counts
    assert not any(d["evidence"]["reset"] for d in reweighted(cloud, rollout_id)[:-1])  # no false alarm before

    # And the traffic stays with the baseline while the candidate stays worse
    weights = serve_batch(cloud, rollout_id, WORSE_CANDIDATE, 600, "d")
    assert weights[BASELINE] > 0.99


def test_without_the_change_detector_the_traffic_stays_on_the_arm_that_got_worse_for_longer(
    cloud, endpoint, canary_spec
):
    # Given the same bandit with the change detector off and no discount: it remembers everything equally
    started = start(cloud, continuous_spec(canary_spec, change_threshold=None, discount=1))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    for batch in ("a", "b"):
        serve_batch(cloud, rollout_id, BETTER_CANDIDATE, 600, batch)

    # When the candidate gets worse than the baseline
    weights = serve_batch(cloud, rollout_id, WORSE_CANDIDATE, 600, "c")

    # Then its history outweighs the new batch: the candidate keeps most of the traffic, and nothing was reset
    assert weights[CANDIDATE] > 0.9
    update = reweighted(cloud, rollout_id)[-1]
    assert update["evidence"]["reset"] == [] and update["evidence"]["change_tests"] == []
    assert "change detector" not in update["message"]
    # And the traffic only drifts back as the new batches pile up
    weights = serve_batch(cloud, rollout_id, WORSE_CANDIDATE, 600, "d")
    assert 0.05 < weights[BASELINE] < 0.9


@pytest.mark.parametrize(
    ("tunables", "expected"),
    [
        ({}, {BASELINE: 0.0, CANDIDATE: 1.0}),  # the defaults: P(best) decides, the baseline is all but starved
        ({"floor": 0.1}, {BASELINE: 0.1, CANDIDATE: 0.9}),  # every arm keeps at least 10 %
        ({"cap": 0.75}, {BASELINE: 0.25, CANDIDATE: 0.75}),  # no arm gets more than 75 % before the bandit decides
    ],
)
def test_a_floor_or_a_cap_in_the_spec_bounds_the_weights_the_endpoint_serves(
    cloud, endpoint, canary_spec, tunables, expected
):
    # Given a bandit tuned by the spec
    started = start(cloud, continuous_spec(canary_spec, **tunables))
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)

    # When the candidate converts twice as often as the baseline, batch after batch
    for batch in ("a", "b"):
        weights = serve_batch(cloud, rollout_id, BETTER_CANDIDATE, 600, batch)

    # Then the endpoint serves the weights the tunables allow
    assert weights == pytest.approx(expected, abs=1e-3)
    probabilities = reweighted(cloud, rollout_id)[-1]["evidence"]["posterior"]["arms"]
    assert max(arm["probability_best"] for arm in probabilities) > 0.999  # the posterior is as sure in each case


def test_a_smaller_first_batch_in_the_spec_starts_the_update_on_less_feedback(cloud, endpoint, canary_spec):
    # Given a bandit whose schedule starts at 50 rewards (the default waits for 100), updating at most every 30 s
    spec = bandit_spec(canary_spec)
    spec["strategy"].update(
        {"update_every": "12h", "min_update_interval": "30s", "initial_batch": 50, "maximum_batch": 200}
    )
    started = start(cloud, spec)
    rollout_id = started["rollout_id"]
    wait_for_update(rollout_id, 1)
    time.sleep(30)
    asked = now()

    # When the feedback of 60 requests arrives
    report(cloud, BASELINE, 30, 3, "a-base")
    report(cloud, CANDIDATE, 30, 9, "a-cand")

    # Then it is the next batch: the update starts at once, long before its 12 hours
    wait_for_update(rollout_id, 2)
    assert now() - asked < 3600
    update = reweighted(cloud, rollout_id)[-1]
    assert sum(arm["count"] for arm in update["evidence"]["posterior"]["arms"]) == 60


INVALID_TUNABLES: list[tuple[dict[str, Any], str, str]] = [
    # (the strategy's changes, the field the message names, why)
    (
        {"floor": 0.4, "more_candidates": [{"model_name": THIRD, "instance_type": "ml.m5.large"}]},
        "floor (0.4)",
        "x 3 arms is 1.2, more than all the traffic: with 3 arms floor must be at most 1/3 (0.333333)",
    ),
    ({"floor": 0.3, "cap": 0.3}, "floor (0.3)", "must be below cap (0.3)"),
    (
        {"cap": 0.4},
        "cap (0.4)",
        "x 2 arms is 0.8, less than all the traffic: with 2 arms cap must be at least 1/2 (0.5)",
    ),
    ({"initial_batch": 1000}, "initial_batch (1000)", "must not exceed maximum_batch (500)"),
    ({"discount": 0.2}, "strategy.bandit.discount", "greater than or equal to 0.5"),
    ({"change_threshold": 1}, "strategy.bandit.change_threshold", "greater than or equal to 2"),
    ({"batch_growth": 0.5}, "strategy.bandit.batch_growth", "greater than or equal to 1"),
    ({"floor": -0.1}, "strategy.bandit.floor", "greater than or equal to 0"),
    ({"maximum_batch": "500"}, "strategy.bandit.maximum_batch", "a valid integer"),
]


def test_invalid_tunables_get_400_naming_the_field_and_change_nothing(cloud, endpoint, canary_spec):
    for tunables, field, reason in INVALID_TUNABLES:
        spec = three_arm_spec(canary_spec, cloud) if "more_candidates" in tunables else bandit_spec(canary_spec)
        spec["strategy"].update(tunables)

        response = cloud.api("POST", "/rollouts", spec)

        assert response.status == 400, (tunables, response.body)
        message = response.body["message"]
        assert field in message and reason in message, (tunables, message)
    assert store.lock_holder(ENDPOINT) is None
    assert endpoint_weights(cloud) == ("churn-predictor-v1", {BASELINE: 1.0})
