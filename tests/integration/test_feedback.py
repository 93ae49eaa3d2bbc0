"""Feedback from every way in (API, queue, EventBridge) to per-arm totals and ground truth, on the local cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.aws import feedback as aws_feedback
from rollouts.aws import store
from sandbox.cloud import LocalCloud
from tests.waiting import until

ENDPOINT = "churn-predictor"


def reward(event_id: str, variant: str = "v1", value: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "endpoint": ENDPOINT, "variant": variant, "reward": value, **extra}


def endpoint_totals(cloud: LocalCloud, variant: str) -> dict[str, Any] | None:
    key = aws_feedback.endpoint_arm_key(ENDPOINT, variant)
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.environment["ROLLOUTS_TABLE_NAME"], Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}
    )
    found = item.get("Item")
    if found is None:
        return None
    return {"count": int(found["count"]["N"]), "reward_sum": float(found["reward_sum"]["N"])}


def dead_letters(cloud: LocalCloud) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    url = cloud.physical["FeedbackDeadLetterQueue"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return list(received.get("Messages", []))


def ground_truth(cloud: LocalCloud) -> list[dict[str, Any]]:
    bucket = cloud.environment["GROUND_TRUTH_S3_URI"].removeprefix("s3://").split("/")[0]
    s3 = cloud.client("s3")
    lines = []
    for item in s3.list_objects_v2(Bucket=bucket, Prefix="ground-truth/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        lines += [{"key": item["Key"], **json.loads(line)} for line in body.splitlines() if line]
    return lines


def test_a_batch_posted_to_the_api_is_counted_per_variant(cloud):
    events = [reward("e1"), reward("e2", value=0.0), reward("e3", variant="v2", value=0.5)]

    response = cloud.api("POST", "/feedback", {"events": events})

    assert response.status == 202
    assert response.body["accepted"] == 3
    assert endpoint_totals(cloud, "v1") == {"count": 2, "reward_sum": 1.0}
    assert endpoint_totals(cloud, "v2") == {"count": 1, "reward_sum": 0.5}


def test_the_same_events_sent_twice_count_once(cloud):
    events = [reward("dup-1"), reward("dup-2")]

    cloud.api("POST", "/feedback", {"events": events})
    cloud.api("POST", "/feedback", {"events": [*events, reward("dup-3")]})

    assert endpoint_totals(cloud, "v1") == {"count": 3, "reward_sum": 3.0}


def test_a_bad_event_in_a_posted_batch_gets_400_naming_it_and_nothing_is_counted(cloud):
    events = [reward("ok-1"), reward("bad-1", value=1.5), {"event_id": "bad-2", "endpoint": ENDPOINT, "reward": 1}]

    response = cloud.api("POST", "/feedback", {"events": events})

    assert response.status == 400
    fields = {detail["field"] for detail in response.body["details"]}
    assert fields == {"events.1", "events.2.variant"}
    assert "from 0 to 1" in response.body["message"]
    assert endpoint_totals(cloud, "v1") is None


def test_a_malformed_event_on_the_queue_goes_to_the_dead_letters_with_its_reason_and_the_rest_counts(cloud):
    body = {"events": [reward("q-1"), {"event_id": "q-2", "endpoint": ENDPOINT, "variant": "v1"}, reward("q-3")]}

    cloud.client("sqs").send_message(QueueUrl=cloud.physical["FeedbackQueue"], MessageBody=json.dumps(body))

    assert endpoint_totals(cloud, "v1") == {"count": 2, "reward_sum": 2.0}
    [letter] = dead_letters(cloud)
    assert json.loads(letter["Body"])["event_id"] == "q-2"
    assert letter["MessageAttributes"]["reason"]["StringValue"] == "reward: Field required"


def test_a_message_that_is_not_json_goes_to_the_dead_letters(cloud):
    cloud.client("sqs").send_message(QueueUrl=cloud.physical["FeedbackQueue"], MessageBody="reward=1")

    [letter] = dead_letters(cloud)
    assert letter["Body"] == "reward=1"
    assert letter["MessageAttributes"]["reason"]["StringValue"].startswith("not JSON")


def test_feedback_published_on_eventbridge_reaches_the_queue_and_counts(cloud):
    detail = {"events": [reward("eb-1"), reward("eb-2", value=0.0)]}

    cloud.client("events").put_events(
        Entries=[{"Source": "shop.checkout", "DetailType": "Rollout Feedback", "Detail": json.dumps(detail)}]
    )

    # EventBridge delivers within seconds; the queue's consumer counts the batch as it arrives
    until(lambda: endpoint_totals(cloud, "v1"), "the feedback did not reach the totals", timeout=60)
    assert endpoint_totals(cloud, "v1") == {"count": 2, "reward_sum": 1.0}


def test_labels_are_written_once_as_model_monitor_ground_truth(cloud):
    labels = [
        {"inference_id": "inf-1", "label": 1, "endpoint": ENDPOINT},
        {"inference_id": "inf-2", "label": False, "endpoint": ENDPOINT},
    ]

    cloud.api("POST", "/feedback", {"events": labels})
    cloud.api("POST", "/feedback", {"events": labels[:1]})  # the same label again

    lines = ground_truth(cloud)
    assert sorted((line["eventMetadata"]["eventId"], line["groundTruthData"]["data"]) for line in lines) == [
        ("inf-1", "1"),
        ("inf-2", "0"),
    ]
    assert all(line["groundTruthData"]["encoding"] == "CSV" and line["eventVersion"] == "0" for line in lines)
    assert all(line["key"].startswith(f"ground-truth/{ENDPOINT}/") for line in lines)


def test_feedback_for_a_variant_a_rollout_manages_is_counted_for_the_rollout_too(cloud, endpoint, canary_spec):
    # Given a rollout baking its first step on the endpoint
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = cloud.api("POST", "/rollouts", canary_spec).body
    rollout_id = started["rollout_id"]
    # (the candidate's fleet starts in 120 simulated seconds, then the bake begins)
    until(lambda: store.get_rollout(rollout_id).task_token, "the rollout did not begin its bake", timeout=600)

    # When feedback arrives for its candidate, its baseline, and a variant it does not manage
    events = [reward("r-1", "churn-xgb-v2"), reward("r-2", "churn-xgb-v2", 0.0), reward("r-3"), reward("r-4", "other")]
    cloud.api("POST", "/feedback", {"events": events})

    # Then the rollout's arms hold their feedback; the other variant's is kept for the endpoint only
    totals = aws_feedback.rollout_totals(rollout_id)
    assert {variant: (t.count, t.reward_sum) for variant, t in totals.items()} == {
        "churn-xgb-v2": (2, 1.0),
        "v1": (1, 1.0),
    }
    assert endpoint_totals(cloud, "other") == {"count": 1, "reward_sum": 1.0}
    cloud.api("POST", f"/rollouts/{rollout_id}/abort")
    cloud.wait_for_execution(started["execution_arn"])


def test_a_failed_write_is_delivered_again_and_counts_once(cloud, monkeypatch: pytest.MonkeyPatch):
    # Given a table write that fails once
    real = aws_feedback.write_totals
    calls = {"n": 0}

    def flaky(keys: list[str], deltas: Any) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real(keys, deltas)

    monkeypatch.setattr(aws_feedback, "write_totals", flaky)

    # When a batch arrives
    cloud.api("POST", "/feedback", {"events": [reward("f-1"), reward("f-2")]})

    # Then the message was delivered again and counted once
    assert calls["n"] == 2
    assert endpoint_totals(cloud, "v1") == {"count": 2, "reward_sum": 2.0}
    assert dead_letters(cloud) == []


def test_a_message_that_keeps_failing_is_moved_to_the_dead_letters_after_five_receives(
    cloud, monkeypatch: pytest.MonkeyPatch
):
    calls = {"n": 0}

    def broken(keys: list[str], deltas: Any) -> list[str]:
        calls["n"] += 1
        raise RuntimeError("the table is unreachable")

    monkeypatch.setattr(aws_feedback, "write_totals", broken)

    cloud.api("POST", "/feedback", {"events": [reward("x-1")]})

    assert calls["n"] == 5  # maxReceiveCount of the queue's redrive policy
    [letter] = dead_letters(cloud)
    assert json.loads(letter["Body"])["events"][0]["event_id"] == "x-1"
    reason = letter["MessageAttributes"]["reason"]["StringValue"]
    assert reason == "its write failed on all 5 receives; last: RuntimeError: the table is unreachable"


def test_an_event_the_table_refuses_goes_to_the_dead_letters_and_the_rest_of_the_batch_counts_once(cloud):
    # Given DynamoDB refusing the next three writes: the batch's, then each half's first half
    cloud.inject_aws_fault("TransactWriteItems", "ValidationException", times=3)

    # When four events arrive in one message
    response = cloud.api("POST", "/feedback", {"events": [reward(f"p-{n}") for n in range(1, 5)]})

    # Then the write is halved until the refused event stands alone: it goes to the dead letters, saying why, and
    # the three others count, once
    assert response.status == 202
    assert endpoint_totals(cloud, "v1") == {"count": 3, "reward_sum": 3.0}
    [letter] = dead_letters(cloud)
    assert [event["event_id"] for event in json.loads(letter["Body"])["events"]] == ["p-1"]
    assert "the table refused its totals" in letter["MessageAttributes"]["reason"]["StringValue"]
    assert "ValidationException" in letter["MessageAttributes"]["reason"]["StringValue"]


def test_a_message_whose_rollout_lookup_keeps_failing_goes_to_the_dead_letters_with_the_reason(cloud):
    # Given the read of the endpoint's lock (which rollout manages the variant) throttled on all five receives
    cloud.inject_aws_fault("GetItem", "ThrottlingException", times=5)

    # When an event arrives
    response = cloud.api("POST", "/feedback", {"events": [reward("g-1")]})

    # Then it is delivered again, and after the fifth receive the ingestion moves it to the dead letters saying
    # why (the queue's own redrive would move it with no reason)
    assert response.status == 202
    assert endpoint_totals(cloud, "v1") is None
    [letter] = dead_letters(cloud)
    assert json.loads(letter["Body"])["events"][0]["event_id"] == "g-1"
    reason = letter["MessageAttributes"]["reason"]["StringValue"]
    assert reason.startswith("its write failed on all 5 receives; last: ")
    assert "ThrottlingException" in reason


@pytest.mark.parametrize(
    ("value", "kind", "why"),
    [
        ("1", "conversion", "valid number"),
        (True, "conversion", "valid number"),
        (1e200, "real", "at most 1e+12"),
    ],
)
def test_a_reward_that_is_not_a_finite_bounded_number_gets_400_naming_it(cloud, value, kind, why):
    response = cloud.api("POST", "/feedback", {"events": [reward("ok-1"), reward("bad-1", value=value, kind=kind)]})

    assert response.status == 400
    assert [d["field"] for d in response.body["details"]] == [
        "events.1.reward" if why == "valid number" else "events.1"
    ]
    assert why in response.body["message"]
    assert endpoint_totals(cloud, "v1") is None  # nothing of the request is queued


def test_a_batch_larger_than_a_queue_message_gets_413_naming_the_limit(cloud):
    # 300 labels of a kilobyte each: valid events, but more than one SQS message holds
    events = [{"inference_id": f"i-{n}", "label": "y" * 1000, "endpoint": ENDPOINT} for n in range(300)]

    response = cloud.api("POST", "/feedback", {"events": events})

    assert response.status == 413
    assert response.body["error"] == "PayloadTooLarge"
    assert "262,144" in response.body["message"] and response.body["details"][0]["field"] == "events"
