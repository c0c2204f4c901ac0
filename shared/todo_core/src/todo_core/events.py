"""The change-event contract: what the CDC processor writes to bronze and the
silver job reads. One event per DynamoDB stream record of a domain entity.

A bronze line is the JSON of :class:`ChangeEvent` (``schema_version`` 1)::

    {"schema_version": 1, "event_id": "...", "event_name": "MODIFY",
     "entity_type": "task", "user_id": "...", "keys": {"PK": "...", "SK": "..."},
     "new_image": {...} | null, "old_image": {...} | null,
     "sequence_number": "000...123", "approximate_creation_time": 1732560000000}

Images are plain JSON (no DynamoDB type descriptors; numbers exact) and
hold the item's domain attributes only: the table and index key attributes
(:data:`INDEX_ATTRIBUTES`: PK, SK, GSI*PK/SK) are storage layout, derivable
from the domain attributes, and were ~40% of an event's bytes; the item's
own key is in ``keys``. The sequence number is the stream's and orders changes to one item
within one stream; across streams (a restored table's, a re-enabled one) the
images' ``version`` does (tasks and user profiles carry one). (keys,
sequence_number) identifies a change, so re-deliveries deduplicate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Final, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from todo_core import attributes, keys

SCHEMA_VERSION: Final = 1
EventName = Literal["INSERT", "MODIFY", "REMOVE"]
EntityType = Literal["task", "user"]


#: Table and index key attributes: left out of images (see the module docstring).
INDEX_ATTRIBUTES: Final = frozenset(keys.TABLE_SPEC.attributes)


def domain_image(image: Mapping[str, Any]) -> Dict[str, Any]:
    """An item (typed or plain) without its table and index key attributes."""
    return {name: value for name, value in image.items() if name not in INDEX_ATTRIBUTES}


class NotADomainEntity(ValueError):
    """The stream record is bookkeeping (idempotency, counters...), not data."""


class ChangeEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str = Field(min_length=1)
    event_name: EventName
    entity_type: EntityType
    user_id: str = Field(min_length=1)
    keys: Dict[str, str]
    new_image: Optional[Dict[str, Any]] = None
    old_image: Optional[Dict[str, Any]] = None
    sequence_number: str = Field(pattern=r"^[0-9]{1,40}$")
    #: Epoch milliseconds (the stream gives seconds; kept as ms for the lake).
    approximate_creation_time: int = Field(ge=0)

    @model_validator(mode="after")
    def _images_match_event(self) -> ChangeEvent:
        if self.event_name in ("INSERT", "MODIFY") and self.new_image is None:
            raise ValueError(f"{self.event_name} needs a new_image")
        if self.event_name in ("MODIFY", "REMOVE") and self.old_image is None:
            raise ValueError(f"{self.event_name} needs an old_image")
        entity = keys.entity_of(self.keys)
        if entity != (self.entity_type, self.user_id):
            raise ValueError("keys do not match entity_type and user_id")
        return self

    @property
    def dedup_key(self) -> str:
        return f"{self.keys.get(keys.PK)}|{self.keys.get(keys.SK)}|{self.sequence_number}"

    @property
    def created_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.approximate_creation_time / 1000, tz=dt.timezone.utc)


def change_event_from_stream_record(record: Mapping[str, Any]) -> Dict[str, Any]:
    """A Lambda DynamoDB-stream record as a change event (a plain dict).

    Raises :class:`NotADomainEntity` for bookkeeping items and ``ValueError``
    (or ``KeyError``) for malformed records. Returns a dict rather than a
    model because this is the CDC hot path; :class:`ChangeEvent` validates it.
    """
    ddb = record["dynamodb"]
    item_keys = {k: attributes.from_attribute(v) for k, v in ddb["Keys"].items()}
    entity = keys.entity_of(item_keys)
    if entity is None:
        raise NotADomainEntity(f"{item_keys.get(keys.PK)!r} is not a domain entity")
    event_name = record["eventName"]
    # An INSERT has no before-image and a REMOVE no after-image, whatever the
    # source sends (some emulator versions send an empty map).
    new = ddb.get("NewImage") if event_name != "REMOVE" else None
    old = ddb.get("OldImage") if event_name != "INSERT" else None
    created = ddb["ApproximateCreationDateTime"]
    if isinstance(created, dt.datetime):  # boto3's GetRecords returns datetimes
        created = created.timestamp()
    if event_name not in ("INSERT", "MODIFY", "REMOVE"):
        raise ValueError(f"unknown eventName {event_name!r}")
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": record["eventID"],
        "event_name": event_name,
        "entity_type": entity[0],
        "user_id": entity[1],
        "keys": item_keys,
        "new_image": attributes.plain_image(domain_image(new)) if new is not None else None,
        "old_image": attributes.plain_image(domain_image(old)) if old is not None else None,
        "sequence_number": ddb["SequenceNumber"],
        "approximate_creation_time": round(float(created) * 1000),
    }


def to_json_line(event: Mapping[str, Any]) -> str:
    """One bronze line (newline-terminated), numbers exact."""
    return attributes.dumps(event) + "\n"


def parse_json_line(line: str) -> ChangeEvent:
    """Parse and validate one bronze line; raises ValueError on contract breaks."""
    return ChangeEvent.model_validate(attributes.loads(line))
