"""Powertools' DynamoDB persistence layer, on the single table's key scheme.

Powertools names a record after a hash of the selected payload under a
static partition key. Here the record id is the caller-scoped
``<user>#<key>`` (see :mod:`todo_api.idempotency`) and the item key is the
one ``todo_core.keys.idempotency_key`` spells, so every item of the table
follows one key design and the CDC pipeline classifies these records as
bookkeeping (``keys.entity_of`` returns None for them).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from todo_api.idempotency import CompletionTolerantStore
from todo_core import keys


class TodoIdempotencyStore(CompletionTolerantStore, DynamoDBPersistenceLayer):
    def __init__(self, table_name: str, client: Any) -> None:
        super().__init__(
            table_name=table_name,
            key_attr=keys.PK,
            sort_key_attr=keys.SK,
            expiry_attr=keys.TTL_ATTRIBUTE,
            in_progress_expiry_attr="in_flight_expires_at_ms",
            status_attr="idempotency_status",
            data_attr="response",
            validation_key_attr="request_fingerprint",
            boto3_client=client,
        )

    def _get_hashed_idempotency_key(self, data: Dict[str, Any]) -> Optional[str]:
        # The record id is already scoped and unique: no hashing, no prefix.
        record = data.get("record") if isinstance(data, dict) else None
        return record if isinstance(record, str) and record else None

    def _get_key(self, idempotency_key: str) -> Dict[str, Any]:
        return {name: {"S": value} for name, value in keys.idempotency_key(idempotency_key).items()}
