"""The rollouts table (single-table design): rollout items, decision log, endpoint locks, guard index, dedup keys."""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from rollouts import clock
from rollouts.aws.clients import client
from rollouts.aws.keys import rollout_pk
from rollouts.errors import EndpointLockedError, RolloutNotFoundError
from rollouts.settings import get_settings

if TYPE_CHECKING:
    from rollouts.models.policy import ReleasePolicy
    from rollouts.models.rollout import Decision, Rollout

META = "META"
# Kinds of guardrail in the guard index (GUARD#<kind>#<name> -> the rollouts it protects).
ALARM_GUARD = "ALARM"
SCHEDULE_GUARD = "SCHEDULE"
# Rollouts whose spec has monitors of its own, under one name: the monitors' one-minute schedule reads them alone.
MONITOR_GUARD, MONITORED = "MONITOR", "monitored"
ROLLOUTS_INDEX_KEY = "ROLLOUT"
# The index key of every outbox item (the ByEndpoint index, whose other keys are ENDPOINT#<name>).
OUTBOX_INDEX_KEY = "OUTBOX"
# Dedup and claim keys only need to outlive the redeliveries they guard against.
KEY_TTL = timedelta(days=30)
_APPENDED = itertools.count()
MAX_CONFLICT_RETRIES = 20


def utcnow() -> datetime:
    return clock.now()


class ConcurrentUpdateError(Exception):
    """The item changed between read and write more often than we retry."""


def _table() -> str:
    return get_settings().table_name


def _ddb() -> Any:
    return client("dynamodb")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _is_conditional_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def _expiry() -> dict[str, str]:
    return {"N": str(int((utcnow() + KEY_TTL).timestamp()))}


def _item_of(rollout: Rollout) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": _s(rollout_pk(rollout.rollout_id)),
        "sk": _s(META),
        "body": _s(rollout.model_dump_json()),
        "version": {"N": str(rollout.version)},
        "status": _s(rollout.status.value),
        "gsi1pk": _s(f"ENDPOINT#{rollout.endpoint_name}"),
        "gsi1sk": _s(f"{rollout.created_at.isoformat()}#{rollout.rollout_id}"),
        # Every rollout under one key of the ByCreation index, newest last: GET /rollouts without an endpoint.
        "gsi2pk": _s(ROLLOUTS_INDEX_KEY),
        "gsi2sk": _s(f"{rollout.created_at.isoformat()}#{rollout.rollout_id}"),
    }
    if rollout.task_token:
        item["task_token"] = _s(rollout.task_token)
    return item


def put_new_rollout(rollout: Rollout) -> None:
    _ddb().put_item(TableName=_table(), Item=_item_of(rollout), ConditionExpression="attribute_not_exists(pk)")


def get_rollout(rollout_id: str) -> Rollout:
    response = _ddb().get_item(
        TableName=_table(), Key={"pk": _s(rollout_pk(rollout_id)), "sk": _s(META)}, ConsistentRead=True
    )
    if "Item" not in response:
        raise RolloutNotFoundError(f"no rollout has the id '{rollout_id}'")
    # The models load on first use: the feedback ingestion reads a rollout only for an endpoint under one.
    from rollouts.models.rollout import Rollout

    return Rollout.model_validate_json(response["Item"]["body"]["S"])


def list_rollouts(
    endpoint_name: str | None, statuses: list[str], limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Rollout], dict[str, Any] | None]:
    """Rollouts newest first, of one endpoint (index ByEndpoint) or of all (index ByCreation), in the given
    statuses (all when empty): at most `limit`, and the key to start the next page from (None after the last).

    A filter applies after DynamoDB reads a page, so pages are read until `limit` rollouts are found or none is left.
    """
    from rollouts.models.rollout import Rollout

    index, key_name, key = (
        ("ByEndpoint", "gsi1pk", f"ENDPOINT#{endpoint_name}")
        if endpoint_name
        else ("ByCreation", "gsi2pk", ROLLOUTS_INDEX_KEY)
    )
    query: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": index,
        "KeyConditionExpression": f"{key_name} = :key",
        "ExpressionAttributeValues": {":key": _s(key)},
        "ScanIndexForward": False,
    }
    if statuses:
        names = [f":s{i}" for i in range(len(statuses))]
        query["FilterExpression"] = f"#status IN ({', '.join(names)})"
        query["ExpressionAttributeNames"] = {"#status": "status"}
        query["ExpressionAttributeValues"].update(
            {name: _s(value) for name, value in zip(names, statuses, strict=True)}
        )
    found: list[dict[str, Any]] = []
    while len(found) < limit:
        page = _ddb().query(
            **query, Limit=limit - len(found), **({"ExclusiveStartKey": start_key} if start_key else {})
        )
        found += page.get("Items", [])
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            break
    keys = ("pk", "sk", "gsi1pk", "gsi1sk") if endpoint_name else ("pk", "sk", "gsi2pk", "gsi2sk")
    next_key = {name: found[-1][name] for name in keys} if found and start_key else None
    return [Rollout.model_validate_json(item["body"]["S"]) for item in found], next_key


def update_rollout(rollout_id: str, change: Callable[[Rollout], Rollout | None]) -> Rollout:
    """Read, change and write back with optimistic locking; `change` returns None to leave the item as it is.

    `change` may run more than once (on a conflict it sees the newer item), so it must not have side effects.
    """
    for _ in range(MAX_CONFLICT_RETRIES):
        current = get_rollout(rollout_id)
        changed = change(current.model_copy(deep=True))
        if changed is None:
            return current
        changed = changed.model_copy(update={"version": current.version + 1, "updated_at": utcnow()})
        try:
            _ddb().put_item(
                TableName=_table(),
                Item=_item_of(changed),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(current.version)}},
            )
            return changed
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
    raise ConcurrentUpdateError(f"rollout {rollout_id} kept changing during {MAX_CONFLICT_RETRIES} attempts")


def append_decision(decision: Decision, dedup_key: str | None = None, event: dict[str, Any] | None = None) -> bool:
    """Append to the decision log; with a dedup key, a second append of the same key is dropped (returns False).

    `event` (a PutEvents entry) goes to the rollout's outbox in the same write, for `outbox` and `published` to
    deliver: a decision is never published without being logged, nor logged and then forgotten by the bus.
    """
    pk = rollout_pk(decision.rollout_id)
    stamp = decision.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # Two decisions of one instant (a simulated clock stands still while a task runs) keep the order they were
    # appended in by this process; the random part keeps keys of different processes apart.
    token = f"{next(_APPENDED):010d}{secrets.token_hex(4)}"
    put = {
        "Put": {
            "TableName": _table(),
            "Item": {"pk": _s(pk), "sk": _s(f"DECISION#{stamp}#{token}"), "body": _s(decision.model_dump_json())},
        }
    }
    queued = (
        [
            {
                "Put": {
                    "TableName": _table(),
                    "Item": {
                        "pk": _s(pk),
                        "sk": _s(f"OUTBOX#{stamp}#{token}"),
                        "entry": _s(json.dumps(event)),
                        # Every outbox item, whatever its rollout, in the index: `waiting_outboxes` finds them.
                        "gsi1pk": _s(OUTBOX_INDEX_KEY),
                        "gsi1sk": _s(f"{stamp}#{decision.rollout_id}"),
                    },
                }
            }
        ]
        if event is not None
        else []
    )
    if dedup_key is None:
        if queued:
            _ddb().transact_write_items(TransactItems=[put, *queued])
        else:
            _ddb().put_item(**put["Put"])
        return True
    guard = {
        "Put": {
            "TableName": _table(),
            "Item": {"pk": _s(pk), "sk": _s(f"DEDUP#{dedup_key}"), "expires_at": _expiry()},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    try:
        _ddb().transact_write_items(TransactItems=[guard, put, *queued])
    except ClientError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def outbox(rollout_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The rollout's events still to publish, oldest first, each with the key that `published` removes."""
    response = _ddb().query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :o)",
        ExpressionAttributeValues={":pk": _s(rollout_pk(rollout_id)), ":o": _s("OUTBOX#")},
        ConsistentRead=True,
    )
    return [(item["sk"]["S"], json.loads(item["entry"]["S"])) for item in response.get("Items", [])]


def waiting_outboxes(written_by: datetime) -> list[str]:
    """The rollouts with an event still in their outbox that was written at `written_by` or earlier, oldest first
    (the index is eventually consistent: `outbox` reads each one again)."""
    # Index keys are "<time>#<rollout id>": "~" sorts after every character of an id.
    bound = written_by.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "#~"
    found: dict[str, None] = {}
    pages = (
        _ddb()
        .get_paginator("query")
        .paginate(
            TableName=_table(),
            IndexName="ByEndpoint",
            KeyConditionExpression="gsi1pk = :o AND gsi1sk <= :bound",
            ExpressionAttributeValues={":o": _s(OUTBOX_INDEX_KEY), ":bound": _s(bound)},
        )
    )
    for page in pages:
        for item in page.get("Items", []):
            found[item["gsi1sk"]["S"].rsplit("#", 1)[-1]] = None
    return list(found)


def published(rollout_id: str, key: str) -> None:
    """The bus has the outbox's event `key`: remove it."""
    _ddb().delete_item(TableName=_table(), Key={"pk": _s(rollout_pk(rollout_id)), "sk": _s(key)})


def list_decisions(rollout_id: str) -> list[Decision]:
    from rollouts.models.rollout import Decision

    decisions: list[Decision] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :d)",
        "ExpressionAttributeValues": {":pk": _s(rollout_pk(rollout_id)), ":d": _s("DECISION#")},
        "ConsistentRead": True,
    }
    while True:
        page = _ddb().query(**kwargs)
        decisions.extend(Decision.model_validate_json(item["body"]["S"]) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return decisions
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def remember_start(key: str, fingerprint: str, rollout_id: str) -> dict[str, str] | None:
    """Tie the caller's idempotency key to this start of `POST /rollouts` (the request's fingerprint and the rollout
    id it gets) for a day; None when this call made the tie, else the tie already made: {fingerprint, rollout_id}."""
    item = {
        "pk": _s(f"IDEMPOTENCY#{key}"),
        "sk": _s("POST /rollouts"),
        "fingerprint": _s(fingerprint),
        "rollout_id": _s(rollout_id),
        "expires_at": {"N": str(int((utcnow() + timedelta(days=1)).timestamp()))},
    }
    try:
        _ddb().put_item(
            TableName=_table(),
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
            ExpressionAttributeValues={":now": {"N": str(int(utcnow().timestamp()))}},
        )
    except ClientError as error:
        if not _is_conditional_failure(error):
            raise
        kept = _ddb().get_item(TableName=_table(), Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True)
        found = kept.get("Item") or item
        return {"fingerprint": found["fingerprint"]["S"], "rollout_id": found["rollout_id"]["S"]}
    return None


# A claim in progress expires after this long: longer than a handler may run (its timeout, 30 s), so a handler
# that died between claim and decision (killed at its timeout, say) leaves a claim its redelivery can take again.
IN_PROGRESS_SECONDS = 60


def claim(rollout_id: str, key: str) -> bool:
    """Take a one-time key under a rollout (duplicate signals, retried side effects); False if already taken.

    The claim is in progress until `complete_claim`; one in progress for more than IN_PROGRESS_SECONDS may be taken
    again (as Powertools' idempotency utility does with its in-progress expiry).
    """
    now = int(clock.now().timestamp())
    try:
        _ddb().put_item(
            TableName=_table(),
            Item={
                "pk": _s(rollout_pk(rollout_id)),
                "sk": _s(f"CLAIM#{key}"),
                "at": _s(utcnow().isoformat()),
                "status": _s("IN_PROGRESS"),
                "in_progress_until": {"N": str(now + IN_PROGRESS_SECONDS)},
                "expires_at": _expiry(),
            },
            ConditionExpression="attribute_not_exists(pk) OR (#status = :progress AND in_progress_until < :now)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":progress": _s("IN_PROGRESS"), ":now": {"N": str(now)}},
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def complete_claim(rollout_id: str, key: str) -> None:
    """The work a claim guarded is done: the key stays taken for its whole TTL."""
    _ddb().update_item(
        TableName=_table(),
        Key={"pk": _s(rollout_pk(rollout_id)), "sk": _s(f"CLAIM#{key}")},
        UpdateExpression="SET #status = :done REMOVE in_progress_until",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":done": _s("COMPLETED")},
    )


def unclaim(rollout_id: str, key: str) -> None:
    """Give a key back when the work it guarded failed, so that the retried delivery can do it."""
    _ddb().delete_item(TableName=_table(), Key={"pk": _s(rollout_pk(rollout_id)), "sk": _s(f"CLAIM#{key}")})


def acquire_lock(endpoint_name: str, rollout_id: str) -> None:
    """One active rollout per endpoint, or per inference component (`RolloutSpec.lock_name`); taking the lock again
    with the same rollout id is a no-op."""
    try:
        _ddb().put_item(
            TableName=_table(),
            Item={
                "pk": _s(f"ENDPOINT#{endpoint_name}"),
                "sk": _s("LOCK"),
                "rollout_id": _s(rollout_id),
                "since": _s(utcnow().isoformat()),
            },
            ConditionExpression="attribute_not_exists(pk) OR rollout_id = :id",
            ExpressionAttributeValues={":id": _s(rollout_id)},
        )
    except ClientError as error:
        if not _is_conditional_failure(error):
            raise
        raise EndpointLockedError(endpoint_name, lock_holder(endpoint_name) or "unknown") from error


def lock_holder(endpoint_name: str) -> str | None:
    response = _ddb().get_item(
        TableName=_table(), Key={"pk": _s(f"ENDPOINT#{endpoint_name}"), "sk": _s("LOCK")}, ConsistentRead=True
    )
    item = response.get("Item")
    return item["rollout_id"]["S"] if item else None


def release_lock(endpoint_name: str, rollout_id: str) -> bool:
    """Release only a lock this rollout holds; False if it held none."""
    try:
        _ddb().delete_item(
            TableName=_table(),
            Key={"pk": _s(f"ENDPOINT#{endpoint_name}"), "sk": _s("LOCK")},
            ConditionExpression="rollout_id = :id",
            ExpressionAttributeValues={":id": _s(rollout_id)},
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def _guard_pk(kind: str, name: str) -> str:
    return f"GUARD#{kind}#{name}"


def put_guards(rollout_id: str, kind: str, names: list[str]) -> None:
    for name in names:
        _ddb().put_item(TableName=_table(), Item={"pk": _s(_guard_pk(kind, name)), "sk": _s(rollout_pk(rollout_id))})


def delete_guards(rollout_id: str, kind: str, names: list[str]) -> None:
    for name in names:
        _ddb().delete_item(TableName=_table(), Key={"pk": _s(_guard_pk(kind, name)), "sk": _s(rollout_pk(rollout_id))})


def guarded_rollouts(kind: str, name: str) -> list[str]:
    """Ids of the rollouts that a guardrail of this kind and name protects."""
    page = _ddb().query(
        TableName=_table(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": _s(_guard_pk(kind, name))},
        ConsistentRead=True,
    )
    return [item["sk"]["S"].removeprefix("ROLLOUT#") for item in page.get("Items", [])]


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


# -- release policies and the versions they rolled out -------------------------------------------------------------


def put_policy(policy: ReleasePolicy) -> None:
    """Store a model package group's release policy (a new one replaces the old)."""
    _ddb().put_item(
        TableName=_table(),
        Item={
            "pk": _s(f"POLICY#{policy.model_package_group}"),
            "sk": _s(META),
            "body": _s(policy.model_dump_json()),
            "gsi2pk": _s("POLICY"),
            "gsi2sk": _s(policy.model_package_group),
        },
    )


def get_policy(group: str) -> ReleasePolicy | None:
    found = _ddb().get_item(TableName=_table(), Key={"pk": _s(f"POLICY#{group}"), "sk": _s(META)}, ConsistentRead=True)
    item = found.get("Item")
    from rollouts.models.policy import ReleasePolicy

    return None if item is None else ReleasePolicy.model_validate_json(item["body"]["S"])


def delete_policy(group: str) -> bool:
    """Remove a group's policy; False when it had none."""
    answer = _ddb().delete_item(
        TableName=_table(), Key={"pk": _s(f"POLICY#{group}"), "sk": _s(META)}, ReturnValues="ALL_OLD"
    )
    return "Attributes" in answer


def list_policies() -> list[ReleasePolicy]:
    """Every release policy, by group name."""
    from rollouts.models.policy import ReleasePolicy

    policies: list[ReleasePolicy] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "ByCreation",
        "KeyConditionExpression": "gsi2pk = :policy",
        "ExpressionAttributeValues": {":policy": _s("POLICY")},
    }
    while True:
        page = _ddb().query(**kwargs)
        policies += [ReleasePolicy.model_validate_json(item["body"]["S"]) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return policies
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def claim_release(package_arn: str, endpoint_name: str) -> dict[str, str] | None:
    """Claim the rollout of one approved version to one endpoint, for good: None when this call claimed it, else the
    earlier claim ({"rollout_id": id, or "" while it starts}). A re-approval of a version finds the claim."""
    key = {"pk": _s(f"PACKAGE#{package_arn}"), "sk": _s(f"ENDPOINT#{endpoint_name}")}
    try:
        _ddb().put_item(
            TableName=_table(),
            Item={**key, "rollout_id": _s(""), "claimed_at": _s(utcnow().isoformat())},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if not _is_conditional_failure(error):
            raise
        found = _ddb().get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item", {})
        return {"rollout_id": found.get("rollout_id", {}).get("S", "")}
    return None


def released(package_arn: str, endpoint_name: str, rollout_id: str) -> None:
    """The claimed release started this rollout."""
    _ddb().update_item(
        TableName=_table(),
        Key={"pk": _s(f"PACKAGE#{package_arn}"), "sk": _s(f"ENDPOINT#{endpoint_name}")},
        UpdateExpression="SET rollout_id = :id",
        ExpressionAttributeValues={":id": _s(rollout_id)},
    )


def unclaim_release(package_arn: str, endpoint_name: str) -> None:
    """The release did not start: a later approval of the version may try again."""
    _ddb().delete_item(
        TableName=_table(), Key={"pk": _s(f"PACKAGE#{package_arn}"), "sk": _s(f"ENDPOINT#{endpoint_name}")}
    )
