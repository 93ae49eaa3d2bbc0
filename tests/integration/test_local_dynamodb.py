"""DynamoDB as the local cloud models it (`sandbox/moto_ext/dynamodb.py`): a cancelled transaction changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

TABLE = "items"


def count(ddb: Any, sk: str) -> int:
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "arms"}, "sk": {"S": sk}})["Item"]
    return int(item["count"]["N"])


def add(sk: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "arms"}, "sk": {"S": sk}},
            "UpdateExpression": "ADD #count :one",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def test_a_cancelled_transaction_undoes_its_updates_of_items_that_share_a_partition(bare_cloud):
    # Given two items in one partition, and an event id already remembered
    ddb = bare_cloud.client("dynamodb")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for sk in ("ARM#a", "ARM#b"):
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "arms"}, "sk": {"S": sk}, "count": {"N": "1"}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "event"}, "sk": {"S": "e1"}})

    # When a transaction adds to both items but its put of that id fails its condition (as a resent event does)
    remember = {
        "Put": {
            "TableName": TABLE,
            "Item": {"pk": {"S": "event"}, "sk": {"S": "e1"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(TransactItems=[remember, add("ARM#a"), add("ARM#b")])

    # Then it is cancelled and neither item changed (the first one used to keep its update)
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert (count(ddb, "ARM#a"), count(ddb, "ARM#b")) == (1, 1)
