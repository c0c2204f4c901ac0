"""Restoring the stage's table into a new table, the way the recovery
procedure does it in AWS (``platform/pulumi/README.md``, "Disaster
recovery"), on the local stack.

1. :func:`back_up` (``CreateBackup``; in AWS PITR or AWS Backup keep them);
2. :func:`restore_from_backup` into a new table (``RestoreTableFromBackup``:
   items and indexes; a restored table has no stream and no TTL, in AWS and
   here);
3. :func:`roll_forward`: replay the old table's stream onto the new table,
   in order, while the new table has no stream yet. A backup is a moment;
   the stream holds every change after it (24 hours in AWS, also after the
   old table is deleted), so the new table ends exactly where the old one
   did and none of the replayed changes reaches a stream a second time;
4. :func:`enable_stream` (the table spec's stream and TTL): from here on the
   new table's stream carries only the changes made on it;
5. :func:`stack_on_table`: the stage's names and outputs with the new
   table, for the API, the stream readers and the jobs
   (:meth:`todo_local.devstack.DevStack.move_to` restarts them on it).

Steps 1 to 4 take plain boto3 clients, so the same calls work against AWS.
The replay needs the stream to still hold the backup's moment: a restore
point within the stream's 24 hours (PITR gives one to the second).

The new stream's sequence numbers have nothing to do with the old one's
(here they are all lower: ``todo_emulator.patches.patch_stream_identity``),
so readers of both order an item's changes by its ``version``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from todo_core import keys
from todo_core.naming import ResourceNames
from todo_local.stack import LocalStack

#: How long to wait for a backup or a restored table to become usable.
READY_TIMEOUT_SECONDS = 60.0


class RestoreFailed(RuntimeError):
    """A step of the restore did not complete (a backup or table never became ready)."""


@dataclass(frozen=True)
class StageNames(ResourceNames):
    """The stage's resource names with its table replaced by a restored one.

    What pointing Pulumi's ``adopt.table`` at the restored table does in AWS:
    every other name stays the stage's.
    """

    table_name: str = ""

    @property
    def table(self) -> str:
        return self.table_name


@dataclass(frozen=True)
class RollForward:
    """What :func:`roll_forward` replayed."""

    records: int
    puts: int
    deletes: int


def _wait(what: str, ready: Any, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RestoreFailed(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.1)


def back_up(ddb: Any, table: str, name: str) -> str:
    """A backup of ``table`` now; its ARN once it is available."""
    arn = str(ddb.create_backup(TableName=table, BackupName=name)["BackupDetails"]["BackupArn"])
    _wait(
        f"backup {name}",
        lambda: (
            ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"]
            == "AVAILABLE"
        ),
    )
    return arn


def restore_from_backup(ddb: Any, backup_arn: str, target: str) -> str:
    """Restore ``backup_arn`` into the new table ``target``; its ARN once it is active."""
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=backup_arn)
    _wait(
        f"table {target}",
        lambda: ddb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE",
    )
    return str(ddb.describe_table(TableName=target)["Table"]["TableArn"])


def _shards_in_lineage_order(streams: Any, stream_arn: str) -> List[str]:
    """The stream's shard ids, every parent before its children."""
    shards: List[Dict[str, Any]] = []
    start: Optional[str] = None
    while True:
        kwargs: Dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(description.get("Shards", []))
        start = description.get("LastEvaluatedShardId")
        if not start:
            break
    known = {s["ShardId"] for s in shards}
    ordered: List[str] = []
    pending = list(shards)
    while pending:
        ready = [
            s
            for s in pending
            if s.get("ParentShardId") not in known or s["ParentShardId"] in ordered
        ]
        if not ready:  # a cycle cannot happen; never loop forever on a bad description
            raise RestoreFailed(f"stream {stream_arn}: shard lineage does not resolve")
        for shard in ready:
            ordered.append(shard["ShardId"])
            pending.remove(shard)
    return ordered


def _records(streams: Any, stream_arn: str, shard_id: str) -> List[Dict[str, Any]]:
    """Every record of one shard, oldest first, up to the end of what it holds now."""
    iterator: Optional[str] = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: List[Dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page.get("Records"):
            break  # an open shard's end: nothing more has been written
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
    return records


def roll_forward(ddb: Any, streams: Any, source_stream_arn: str, target: str) -> RollForward:
    """Replay every record of the old table's stream onto ``target``, in order.

    Each record sets its item to the record's new image (a put) or removes it;
    replaying a stream from any point before the backup onward ends with
    every item as the old table last had it, bookkeeping included (task
    counts, idempotency records, the KPI aggregator's counters and
    checkpoints). Run it while ``target`` has no stream (nothing is emitted
    twice) and while nothing writes to the old table: stop the API and let
    the old stream's readers drain first. Plain boto3 clients (``dynamodb``,
    ``dynamodbstreams``): the same call works against AWS.
    """
    puts = deletes = count = 0
    for shard_id in _shards_in_lineage_order(streams, source_stream_arn):
        for record in _records(streams, source_stream_arn, shard_id):
            count += 1
            change = record["dynamodb"]
            if record["eventName"] == "REMOVE":
                ddb.delete_item(TableName=target, Key=change["Keys"])
                deletes += 1
            else:
                ddb.put_item(TableName=target, Item=change["NewImage"])
                puts += 1
    return RollForward(records=count, puts=puts, deletes=deletes)


def enable_stream(ddb: Any, target: str) -> str:
    """Give ``target`` the stage table's stream and TTL (the table spec's); the stream's ARN."""
    spec = keys.TABLE_SPEC
    request = spec.create_table_request(target)
    ddb.update_table(TableName=target, StreamSpecification=request["StreamSpecification"])
    ddb.update_time_to_live(
        TableName=target,
        TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True},
    )
    return str(ddb.describe_table(TableName=target)["Table"]["LatestStreamArn"])


def stack_on_table(stack: LocalStack, table: str, table_arn: str, stream_arn: str) -> LocalStack:
    """The same stage, its table now ``table`` (names, ARNs and outputs follow)."""
    names = StageNames(
        stage=stack.names.stage,
        account_id=stack.names.account_id,
        region=stack.names.region,
        table_name=table,
    )
    return dataclasses.replace(
        stack,
        names=names,
        table_arn=table_arn,
        stream_arn=stream_arn,
        extra_outputs={k: v for k, v in stack.extra_outputs.items() if k != "ApiEndpoint"},
    )
