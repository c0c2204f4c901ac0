"""``todo-cdc-redrive``: deliver the batches the event source mapping gave up on.

For a DynamoDB stream, the mapping's on-failure destination (the SQS DLQ)
receives no records, only where they are: ``DDBStreamBatchInfo`` with the
stream, the shard and the first and last sequence numbers. While the stream
still holds them (24 hours after they were written), this command reads each
range back (``GetShardIterator AT_SEQUENCE_NUMBER``, ``GetRecords`` to the
last sequence number), runs it through the Lambda's own batch processor
(the same conversion, the same Firehose delivery, so the same bronze bytes),
and deletes the message only when every record of the range is in Firehose.

Idempotent and safe to run twice, or concurrently: a message is deleted only
after its whole range is delivered; a run that dies in between leaves the
message, and the next run delivers the range again - byte-identical lines
with the same dedup key, which silver keeps once. While one run holds a
message it is invisible to others (SQS visibility timeout). A range the
stream no longer holds (trimmed after 24 hours) is reported as lost and its
message kept, so the loss stays visible. Exit status: 0 when the queue was
drained, 1 when any message is left.

    todo-cdc-redrive --queue-url https://sqs.../todo-cdc-dlq-prod \
        --firehose-stream todo-cdc-stream-prod [--max-messages 100]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from aws_lambda_powertools.utilities.batch import process_partial_response

from cdc_processor.delivery import FirehoseDelivery, RetryPolicy
from cdc_processor.processor import CdcBatchProcessor
from todo_core.stream_records import lambda_event

log = logging.getLogger("cdc_processor.redrive")

#: An operator is waiting, not a Lambda deadline: more patience per chunk.
REDRIVE_POLICY = RetryPolicy(max_attempts=12, cap_seconds=5.0)
#: How long a message stays invisible to other runs while this one works on it.
VISIBILITY_SECONDS = 300
#: Empty ``GetRecords`` pages in a row before a range counts as unreadable.
MAX_EMPTY_PAGES = 5


class RangeUnavailable(Exception):
    """The stream no longer holds (all of) a range."""


@dataclass
class RedriveReport:
    messages: int = 0
    redriven: int = 0
    records: int = 0
    kept: List[str] = field(default_factory=list)  # why each kept message was kept

    @property
    def drained(self) -> bool:
        return not self.kept


def read_range(streams: Any, info: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The records of ``[startSequenceNumber, endSequenceNumber]`` of one shard."""
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"],
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        ).get("ShardIterator")
    except Exception as exc:  # TrimmedDataAccessException, ResourceNotFoundException...
        raise RangeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    records: List[Dict[str, Any]] = []
    empty = 0
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        iterator = page.get("NextShardIterator")
        batch = page.get("Records", [])
        empty = 0 if batch else empty + 1
        for record in batch:
            number = int(record["dynamodb"]["SequenceNumber"])
            if number > end:
                iterator = None
                break
            records.append(record)
        if records and int(records[-1]["dynamodb"]["SequenceNumber"]) >= end:
            break
        if empty >= MAX_EMPTY_PAGES:
            break
    if not records or int(records[0]["dynamodb"]["SequenceNumber"]) != start:
        raise RangeUnavailable("the range's first record is no longer in the stream")
    if int(records[-1]["dynamodb"]["SequenceNumber"]) != end:
        raise RangeUnavailable("the range's last record was not reached")
    return records


def deliver_records(
    records: Sequence[Mapping[str, Any]], stream_arn: str, region: str, delivery: FirehoseDelivery
) -> List[str]:
    """Run the records through the Lambda's batch processor; the sequence
    numbers not delivered (empty: all in Firehose, or skipped as bookkeeping)."""
    processor = CdcBatchProcessor(lambda: delivery, logger=log)
    response = process_partial_response(
        event=lambda_event(records, stream_arn, region),
        record_handler=processor.record_handler,
        processor=processor,
    )
    return [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]


def redrive(
    sqs: Any,
    streams: Any,
    delivery: FirehoseDelivery,
    queue_url: str,
    region: str,
    max_messages: Optional[int] = None,
    visibility_seconds: int = VISIBILITY_SECONDS,
) -> RedriveReport:
    """Deliver every range the DLQ points at; delete each message once delivered."""
    report = RedriveReport()
    seen = set()
    while max_messages is None or report.messages < max_messages:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_seconds,
        )
        messages = [m for m in answer.get("Messages", []) if m["MessageId"] not in seen]
        if not messages:
            break
        for message in messages:
            seen.add(message["MessageId"])
            report.messages += 1
            reason = _redrive_one(sqs, streams, delivery, queue_url, region, message, report)
            if reason:
                report.kept.append(f"{message['MessageId']}: {reason}")
                log.error("DLQ message kept: %s", reason)
    return report


def _redrive_one(
    sqs: Any,
    streams: Any,
    delivery: FirehoseDelivery,
    queue_url: str,
    region: str,
    message: Mapping[str, Any],
    report: RedriveReport,
) -> Optional[str]:
    """Redrive one message; ``None`` when done (and deleted), else why it was kept."""
    try:
        info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    except (ValueError, KeyError, TypeError):
        return "not an on-failure message of a DynamoDB stream mapping"
    try:
        records = read_range(streams, info)
    except RangeUnavailable as exc:
        return (
            f"range {info['shardId']} {info['startSequenceNumber']}..{info['endSequenceNumber']}"
            f" is LOST from the stream ({exc}); reconcile bronze from the table"
        )
    failed = deliver_records(records, info["streamArn"], region, delivery)
    if failed:
        return f"{len(failed)} of {len(records)} records not accepted by Firehose; run again"
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    report.redriven += 1
    report.records += len(records)
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="todo-cdc-redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True, help="the CDC mapping's on-failure SQS queue")
    parser.add_argument("--firehose-stream", required=True, help="the CDC delivery stream")
    parser.add_argument("--max-messages", type=int, default=None)
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    import boto3
    from botocore.config import Config

    session = boto3.Session(region_name=args.region)
    region = session.region_name or "us-east-1"
    firehose = session.client("firehose", config=Config(retries={"total_max_attempts": 1}))
    report = redrive(
        session.client("sqs"),
        session.client("dynamodbstreams"),
        FirehoseDelivery(firehose, args.firehose_stream, REDRIVE_POLICY),
        args.queue_url,
        region,
        args.max_messages,
    )
    print(
        json.dumps(
            {
                "messages": report.messages,
                "redriven": report.redriven,
                "records": report.records,
                "kept": report.kept,
            }
        )
    )
    return 0 if report.drained else 1


if __name__ == "__main__":
    sys.exit(main())
