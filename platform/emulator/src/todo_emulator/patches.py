"""Changes to moto's behaviour, each naming what it corrects in moto.

Every patch here either makes moto behave as AWS does where the product
depends on it, or removes one of moto's algorithmic costs that grows with
the size of the emulated data. None of them answers a request itself: moto's
own code parses every request, applies it and encodes every response.
:func:`apply_all` installs them (idempotently) in the server process.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import types
from typing import Any, Dict, List, Optional, Tuple

_PATCHED = "_todo_emulator_patched"


def _mark(function: Any, original: Any) -> Any:
    """``function``, marked as installed and keeping moto's ``original`` (tests compare)."""
    setattr(function, _PATCHED, True)
    function.__wrapped__ = original
    return function


def _is_patched(function: Any) -> bool:
    return bool(getattr(function, _PATCHED, False))


# --- DynamoDB TransactWriteItems: a backup of the touched items only --------------------------

#: (table name, hash key, range key) of one item a transaction writes.
ItemKey = Tuple[str, Any, Optional[Any]]


def _touched_items(backend: Any, transact_items: List[Dict[str, Any]]) -> Optional[List[ItemKey]]:
    """The items ``transact_items`` writes, or None when the request is unusual.

    An unusual request (a missing table or key attribute, an unknown
    operation) is left entirely to moto, whole-table backup and errors
    included.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: List[ItemKey] = []
    try:
        for entry in transact_items:
            (op_type, op), = entry.items()
            table = backend.tables[op["TableName"]]
            attrs = op["Item"] if op_type == "Put" else op["Key"]
            range_attr = table.range_key_attr
            keys.append((
                op["TableName"],
                DynamoType(attrs[table.hash_key_attr]),
                DynamoType(attrs[range_attr]) if range_attr else None,
            ))
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return keys


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """Put ``item`` (or its absence) back at its key in moto's item store."""
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


def patch_transaction_backup() -> None:
    """Back up the items a ``TransactWriteItems`` touches, not whole tables.

    moto's ``DynamoDBBackend.transact_write_items`` deep-copies every table a
    transaction names (all its items and stream records) before applying it,
    to roll back on failure: each transaction costs time in proportion to
    everything ever written to the table. Here, while moto's code runs, that
    "copy" is the table itself; the touched items and the stream's length are
    saved first and put back if the transaction fails, so a cancelled or
    failed transaction leaves items and stream exactly as before, as in
    DynamoDB.
    """
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    if _is_patched(original):
        return
    tables_not_copied = types.SimpleNamespace(
        copy=copy.copy,
        deepcopy=lambda x, memo=None: x if isinstance(x, Table) else copy.deepcopy(x, memo),
    )

    def transact_write_items(self: Any, transact_items: List[Dict[str, Any]]) -> None:
        keys = _touched_items(self, transact_items)
        if keys is None:
            return original(self, transact_items)  # type: ignore[no-any-return]
        saved = {}
        for name, hash_key, range_key in keys:
            item = self.tables[name].get_item(hash_key, range_key)
            saved.setdefault((name, hash_key, range_key), copy.deepcopy(item))
        streams = {
            name: len(self.tables[name].stream_shard.items)
            for name, _, _ in keys
            if self.tables[name].stream_shard is not None
        }
        models.copy = tables_not_copied
        try:
            return original(self, transact_items)  # type: ignore[no-any-return]
        except Exception:
            for (name, hash_key, range_key), item in saved.items():
                _restore(self.tables[name], hash_key, range_key, item)
            for name, length in streams.items():
                del self.tables[name].stream_shard.items[length:]
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = _mark(transact_write_items, original)


# --- DynamoDB Query on the base table: read one partition -------------------------------------

#: ``Table.query``'s positional parameters after ``hash_key``, up to ``index_name``.
_INDEX_NAME_POSITION = 6


def patch_partition_queries() -> None:
    """Answer a base-table Query from the partition it names, as DynamoDB does.

    moto's ``Table.query`` lists every item of the table and keeps those with
    the partition key asked for, so a Query that returns three items costs as
    much as a Scan of the whole table. Handing moto's own query code just
    that partition gives the same result. Index Queries keep moto's path.
    Requests are serialized (``server.SerializedApp``), so the per-call
    override cannot leak into another request.
    """
    from moto.dynamodb.models.table import Table

    original = Table.query
    if _is_patched(original):
        return

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get(
            "index_name", args[_INDEX_NAME_POSITION] if len(args) > _INDEX_NAME_POSITION else None
        )
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = _mark(query, original)  # type: ignore[method-assign]


# --- Request routing: list moto's package once ------------------------------------------------


def patch_module_listing() -> None:
    """List moto's package directory once, not on every request.

    moto's request router (``moto.backends.list_of_moto_modules``, called once
    or twice per request to ask whether a host name is a service) lists moto's
    package directory and stats every entry, about 150 of them. The listing
    cannot change while the server runs.
    """
    from moto import backends

    original = backends.list_of_moto_modules
    if _is_patched(original):
        return
    modules = tuple(original())

    def list_of_moto_modules() -> Tuple[str, ...]:
        return modules

    backends.list_of_moto_modules = _mark(list_of_moto_modules, original)


# --- DynamoDB Streams: every stream is a stream of its own -----------------------------------

#: How many sequence numbers each stream has to itself (far more than any test writes).
STREAM_SEQUENCE_RANGE = 10**12
_streams_created = itertools.count()


def patch_stream_identity() -> None:
    """Give every stream its own shard id and its own sequence numbers.

    moto gives every stream's shard the same id
    (``shardId-00000001541626099285-f35f62ef``) and starts every stream at
    the same sequence number, so a table restored from a backup, once its
    stream is enabled, emits records that collide with the old table's: the
    KPI aggregator keys its per-shard checkpoint by shard id and would skip
    the new stream's records as already applied, and the lake identifies a
    change by (item key, sequence number). In AWS a new stream has new shard
    ids (``shardId-<creation time>-<hash>``) and its numbers are not reused.

    AWS promises no order between two streams' numbers; here each later
    stream's range lies entirely *below* every earlier one's (moto's first
    number, minus ``STREAM_SEQUENCE_RANGE`` per stream created before it), the
    case readers must survive: a newer change with a smaller number.
    """
    from moto.dynamodb.models.table import StreamShard

    original = StreamShard.__init__
    if _is_patched(original):
        return

    def __init__(self: Any, account_id: str, table: Any) -> None:
        original(self, account_id, table)
        self.starting_sequence_number -= next(_streams_created) * STREAM_SEQUENCE_RANGE
        created_ms = int(self.created_on.timestamp() * 1000)
        self.id = f"shardId-{created_ms:020d}-{secrets.token_hex(4)}"

    StreamShard.__init__ = _mark(__init__, original)  # type: ignore[method-assign]


def apply_all() -> None:
    """Install every patch of this module (idempotent)."""
    patch_transaction_backup()
    patch_partition_queries()
    patch_module_listing()
    patch_stream_identity()
