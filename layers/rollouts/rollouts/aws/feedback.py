"""Feedback in AWS: the queue it arrives on, its dead letters, per-arm totals in the table, labels in S3."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from rollouts import clock
from rollouts.aws.clients import aws_error, client
from rollouts.aws.keys import rollout_pk
from rollouts.errors import AwsPermanentError, AwsRetryableError
from rollouts.settings import get_settings

if TYPE_CHECKING:  # the ingestion's event models load with the ingestion, not with every reader of totals
    from rollouts.models.feedback import Label

# An event id is remembered this long: a resend within it has no effect.
EVENT_TTL = timedelta(days=14)
# TransactWriteItems takes at most 100 actions.
MAX_ACTIONS = 100
_REASON_LIMIT = 1000


@dataclass
class ArmDelta:
    """What one batch adds to one arm's totals."""

    kind: str
    count: int = 0
    reward_sum: float = 0.0
    reward_sq_sum: float = 0.0

    def add(self, reward: float) -> None:
        self.count += 1
        self.reward_sum += reward
        self.reward_sq_sum += reward * reward


@dataclass(frozen=True)
class ArmTotals:
    variant: str
    kind: str
    count: int
    reward_sum: float
    reward_sq_sum: float


# An arm's totals as stored in a snapshot on the rollout: [count, reward sum, sum of squared rewards].
Snapshot = dict[str, list[float]]


def snapshot(totals: dict[str, ArmTotals], variants: list[str]) -> Snapshot:
    """The totals of these variants now, to subtract later (`since`)."""
    return {v: [float(t.count), t.reward_sum, t.reward_sq_sum] for v, t in totals.items() if v in variants}


def since(totals: dict[str, ArmTotals], seen: Snapshot, variant: str) -> tuple[float, float, float]:
    """A variant's (count, reward sum, sum of squares) since the snapshot `seen`; zeros when nothing came since."""
    total = totals.get(variant)
    now = [float(total.count), total.reward_sum, total.reward_sq_sum] if total else [0.0, 0.0, 0.0]
    count, reward_sum, reward_sq = (a - b for a, b in zip(now, seen.get(variant, [0.0, 0.0, 0.0]), strict=True))
    if count <= 0:
        return 0.0, 0.0, 0.0
    return count, reward_sum, max(0.0, reward_sq)


def endpoint_arm_key(endpoint: str, variant: str) -> tuple[str, str]:
    """Totals kept for every variant that gets feedback, managed by a rollout or not."""
    return f"FEEDBACK#{endpoint}", f"VARIANT#{variant}"


def rollout_arm_key(rollout_id: str, variant: str) -> tuple[str, str]:
    """Totals since a rollout started managing the variant: what its judge and its bandit read."""
    return rollout_pk(rollout_id), f"ARM#{variant}"


def _event_key(event_key: str) -> dict[str, Any]:
    return {"pk": {"S": f"FEEDBACK_EVENT#{event_key}"}, "sk": {"S": "EVENT"}}


# Why DynamoDB cancels a transaction, when trying again may succeed.
_RETRYABLE_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def write_totals(event_keys: list[str], deltas: dict[tuple[str, str], ArmDelta]) -> list[str]:
    """One transaction: remember every event id and add every delta. If some ids were already remembered, nothing
    is written and those ids are returned (the caller drops them and tries again); else an empty list."""
    table = get_settings().table_name
    moment = clock.now()
    expires = {"N": str(int((moment + EVENT_TTL).timestamp()))}
    now = {"S": moment.isoformat()}
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": {**_event_key(key), "expires_at": expires},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for key in event_keys
    ]
    for (pk, sk), delta in deltas.items():
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                    "UpdateExpression": "ADD #count :count, reward_sum :sum, reward_sq_sum :sq "
                    "SET updated_at = :now, reward_kind = :kind",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {
                        ":count": {"N": str(delta.count)},
                        ":sum": {"N": repr(delta.reward_sum)},
                        ":sq": {"N": repr(delta.reward_sq_sum)},
                        ":now": now,
                        ":kind": {"S": delta.kind},
                    },
                }
            }
        )
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"{len(actions)} actions in one transaction; at most {MAX_ACTIONS}")
    try:
        client("dynamodb").transact_write_items(TransactItems=actions)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise aws_error(error) from error
        reasons = error.response.get("CancellationReasons", [])
        duplicates = [
            key
            for key, reason in zip(event_keys, reasons, strict=False)
            if reason.get("Code") == "ConditionalCheckFailed"
        ]
        if duplicates:
            return duplicates
        codes = sorted({str(reason.get("Code")) for reason in reasons if reason.get("Code") not in (None, "None")})
        retryable = bool(set(codes) & _RETRYABLE_CANCELLATIONS)
        kind = AwsRetryableError if retryable else AwsPermanentError
        raise kind(
            operation="TransactWriteItems",
            code="TransactionCanceledException",
            message=", ".join(codes) or str(error),
            retryable=retryable,
        ) from error
    return []


def forget_events(event_keys: Iterable[str]) -> None:
    """Give event ids back when the work they guarded failed after the transaction, so that a resend counts."""
    keys = list(event_keys)
    table = get_settings().table_name
    for start in range(0, len(keys), 25):
        requests = [{"DeleteRequest": {"Key": _event_key(key)}} for key in keys[start : start + 25]]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def rollout_totals(rollout_id: str) -> dict[str, ArmTotals]:
    """Every arm's totals since the rollout started managing it, by variant."""
    response = client("dynamodb").query(
        TableName=get_settings().table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :arm)",
        ExpressionAttributeValues={":pk": {"S": rollout_pk(rollout_id)}, ":arm": {"S": "ARM#"}},
        ConsistentRead=True,
    )
    totals = {}
    for item in response.get("Items", []):
        variant = item["sk"]["S"].removeprefix("ARM#")
        totals[variant] = ArmTotals(
            variant=variant,
            kind=item.get("reward_kind", {}).get("S", "conversion"),
            count=int(item.get("count", {}).get("N", "0")),
            reward_sum=float(item.get("reward_sum", {}).get("N", "0")),
            reward_sq_sum=float(item.get("reward_sq_sum", {}).get("N", "0")),
        )
    return totals


def _split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def write_ground_truth(labels: list[Label], now: datetime) -> list[str]:
    """Labels as Model Monitor's ground truth (JSON Lines under <prefix>/<endpoint>/yyyy/mm/dd/hh/), one object per
    endpoint; the object's name is a digest of the labels' ids, so a resent batch overwrites its own file."""
    bucket, prefix = _split_s3_uri(get_settings().ground_truth_s3_uri)
    by_endpoint: dict[str, list[Label]] = {}
    for label in labels:
        by_endpoint.setdefault(label.endpoint or "unassigned", []).append(label)
    written = []
    for endpoint, group in sorted(by_endpoint.items()):
        digest = hashlib.sha256("\n".join(sorted(label.key for label in group)).encode()).hexdigest()[:32]
        key = "/".join(part for part in (prefix, endpoint, now.strftime("%Y/%m/%d/%H"), f"{digest}.jsonl") if part)
        body = "\n".join(
            json.dumps(
                {
                    "groundTruthData": {"data": label.csv, "encoding": "CSV"},
                    "eventMetadata": {"eventId": label.inference_id},
                    "eventVersion": "0",
                }
            )
            for label in group
        )
        client("s3").put_object(Bucket=bucket, Key=key, Body=(body + "\n").encode(), ContentType="application/jsonl")
        written.append(f"s3://{bucket}/{key}")
    return written


def send_to_dead_letters(body: str, reason: str) -> None:
    """A malformed message goes straight to the dead-letter queue, with the reason beside it."""
    client("sqs").send_message(
        QueueUrl=get_settings().feedback_dead_letter_queue_url,
        MessageBody=body,
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:_REASON_LIMIT] or "malformed"}},
    )


def enqueue(events: list[dict[str, Any]]) -> str:
    """Put a batch of feedback events on the feedback queue; the message id."""
    response = client("sqs").send_message(
        QueueUrl=get_settings().feedback_queue_url, MessageBody=json.dumps({"events": events})
    )
    return str(response["MessageId"])
