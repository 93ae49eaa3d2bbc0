"""DynamoDB as the handlers' threads need it, and without two costs that grow with the tables.

Every function runs on a thread of this one process, and moto's DynamoDB is not thread-safe: requests are serialised
and transactions back each table up once (`_install_serialised_transactions`). A query of a partition reads that
partition alone, and a condition is parsed once per text (`_install_shortcuts`).
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
from typing import Any

from sandbox.moto_ext import core


def install() -> None:
    _install_serialised_transactions()
    _install_shortcuts()


_DYNAMODB_LOCK = threading.RLock()
_transaction = threading.local()


def _install_serialised_transactions() -> None:
    """DynamoDB as the handlers' threads need it: one request at a time, and transactions that back a table up once.

    Every function runs on a thread of this one process, and moto's DynamoDB is not thread-safe: a transaction
    deep-copies its tables (to undo itself) while another thread's write changes them. Requests are therefore
    serialised, as DynamoDB serialises the writes to one item. moto also deep-copies a table (every item) once per
    action of a transaction, up to 100 times, to restore it if the transaction is cancelled: a cost that grows with
    the table, so that counting feedback (a transaction per 100 event ids, each id an item) slowed down as it went.
    Here each table is backed up once per transaction, and only as deep as the transaction can reach (`_backup`).
    """
    import copy

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    def _backup(table: Table, keys: list[dict[str, Any]]) -> Table:
        """The table as it was before a transaction, for moto to put back if the transaction is cancelled.

        A write changes only the dicts and the items under the keys it names: a put or a delete replaces or removes
        an item in its hash key's dict, an update changes an item in place. So the backup shares everything else
        with the table, and copies those dicts (shallow) and items (deep). A table with a stream (its records) is
        copied deeply, as moto does.
        """
        if table.stream_shard is not None:
            return copy.deepcopy(table)
        backup = copy.copy(table)
        backup.items = copy.copy(table.items)  # a dict's copy reuses the keys' hashes: DynamoType's are slow
        for key in keys:
            if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue  # moto refuses the action, and puts the backup back
            hash_value = DynamoType(key[table.hash_key_attr])
            if hash_value not in table.items:
                continue
            if table.range_key_attr is None:
                backup.items[hash_value] = copy.deepcopy(table.items[hash_value])
                continue
            entry = backup.items[hash_value]
            if entry is table.items[hash_value]:  # the partition's first key: copy its dict once, not once per key
                entry = backup.items[hash_value] = dict(entry)
            range_value = DynamoType(key[table.range_key_attr])
            if range_value in entry:
                entry[range_value] = copy.deepcopy(entry[range_value])
        return backup

    class _CopyEachTableOnce:
        """moto's `copy` module inside DynamoDBBackend: tables are backed up once per transaction, by `_backup`."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            backups = getattr(_transaction, "backups", None)
            if backups is None or not isinstance(value, Table):
                return copy.deepcopy(value, memo)
            if id(value) not in backups:
                backups[id(value)] = _backup(value, _transaction.keys.get(value.name, []))
            return backups[id(value)]

    transact_write_items = DynamoDBBackend.transact_write_items

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        keys: dict[str, list[dict[str, Any]]] = {}
        for action in transact_items:
            for operation in action.values():
                if isinstance(operation, dict) and "TableName" in operation:
                    keys.setdefault(operation["TableName"], []).append(
                        operation.get("Key") or operation.get("Item") or {}
                    )
        _transaction.backups, _transaction.keys = {}, keys
        try:
            transact_write_items(self, transact_items)
        finally:
            _transaction.backups, _transaction.keys = None, {}

    call_action = DynamoHandler.call_action

    def serialised(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return call_action(self)

    core.replace(dynamodb_models, "copy", _CopyEachTableOnce())
    core.replace(DynamoDBBackend, "transact_write_items", transact)
    core.replace(DynamoHandler, "call_action", serialised)


def _install_shortcuts() -> None:
    """Two costs of moto's DynamoDB that grow with the table or repeat on every request, cut with the same results.

    A query of the table itself (not of an index) sorted every item of the table to pick out its partition: with
    the feedback's event ids in the table (one item each), every read of a rollout's decisions or arms slowed down
    as feedback came in. Here it reads the partition alone. And each conditional write parsed its condition again,
    the same text for every event id; here a condition is parsed once per text, names and values (the parsed
    expression only reads the item it is given).
    """
    import moto.dynamodb.models as dynamodb_models
    import moto.dynamodb.models.table as table_module
    from moto.dynamodb import comparisons
    from moto.dynamodb.models.table import Table

    table_query = Table.query
    signature = inspect.signature(table_query)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        called = signature.bind(self, *args, **kwargs).arguments
        hash_key = called["hash_key"]
        if called.get("index_name") is not None or hash_key is None:
            return table_query(self, *args, **kwargs)
        entry = self.items.get(hash_key)
        partition = [] if entry is None else list(entry.values()) if self.range_key_attr else [entry]
        # moto's query reads `all_items()` and keeps the partition's; requests are serialised, so the instance's
        # stand-in for the method lasts exactly this query.
        self.all_items = lambda: partition  # type: ignore[method-assign]  # deliberate monkeypatch of moto
        try:
            return table_query(self, *args, **kwargs)
        finally:
            del self.all_items

    core.replace(Table, "query", query)

    parse = comparisons.get_filter_expression

    @functools.lru_cache(maxsize=256)
    def parse_text(expression: str | None, names: str, values: str) -> Any:
        return parse(expression, json.loads(names), json.loads(values))

    def get_filter_expression(expression: str | None, names: Any, values: Any) -> Any:
        try:
            key = (json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
        except TypeError:  # binary values: parse as moto does
            return parse(expression, names, values)
        return parse_text(expression, *key)

    # Where moto calls it: the two modules that import it by name (`comparisons`, which defines it, never does).
    for module in (dynamodb_models, table_module):
        core.replace(module, "get_filter_expression", get_filter_expression)
