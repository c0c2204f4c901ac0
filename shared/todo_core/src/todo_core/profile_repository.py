"""User profiles in the single table (the :class:`~todo_core.ports.ProfileStore` role)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Callable, Dict, Optional

from todo_core import keys
from todo_core.attributes import from_item, to_item
from todo_core.dynamodb import Table, error_code, iso
from todo_core.errors import StoreUnavailable, UserNotFound, VersionConflict
from todo_core.models import User, utc_now

#: Users are marked "seen" at most this often, to keep reads cheap.
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=5)
_USER_FIELDS = (
    "user_id",
    "email",
    "given_name",
    "family_name",
    "created_at",
    "last_seen_at",
    "version",
)


def user_from_item(item: Dict[str, Any]) -> User:
    data = from_item(item)
    return User.model_validate({k: data[k] for k in _USER_FIELDS if k in data})


class ProfileRepository:
    def __init__(
        self, client: Any, table_name: str, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self._table = Table(client, table_name)
        self._clock = clock

    def record_user_seen(
        self,
        user_id: str,
        email: Optional[str] = None,
        given_name: Optional[str] = None,
        family_name: Optional[str] = None,
    ) -> None:
        """Create the user's profile on first sight; keep last_seen_at current.

        One conditional write in the common case; the profile is created
        exactly once, even under concurrent requests (the KPI aggregator
        counts its creation from the stream). Every write moves the profile's
        ``version`` up by one (created at 1; a profile written before versions
        existed gets 1 on its next write: ``ADD`` counts a missing number as 0),
        so the lake orders a profile's changes by it across change streams.
        """
        now = self._clock()
        key = to_item(keys.user_key(user_id))
        profile = {
            "email": email,
            "given_name": given_name,
            "family_name": family_name,
        }
        present = {k: v for k, v in profile.items() if v is not None}
        sets = ", ".join(f"#{k} = :{k}" for k in ["last_seen_at", *present])
        names = {f"#{k}": k for k in ["last_seen_at", *present, "version"]}
        try:
            self._table.call(
                "update_item",
                TableName=self._table.name,
                Key=key,
                UpdateExpression=f"SET {sets} ADD #version :one",
                ConditionExpression="attribute_exists(PK) AND #last_seen_at < :stale",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":last_seen_at": {"S": iso(now)},
                    ":stale": {"S": iso(now - LAST_SEEN_RESOLUTION)},
                    **{f":{k}": {"S": v} for k, v in present.items()},
                },
            )
            return
        except StoreUnavailable:
            raise
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        # Either the profile is fresh (nothing to do) or it does not exist yet.
        item = to_item(
            {
                **keys.user_key(user_id),
                "entity_type": "user",
                "user_id": user_id,
                **present,
                "created_at": iso(now),
                "last_seen_at": iso(now),
                "version": 1,
            }
        )
        # A failed condition means it exists and was seen recently: nothing to do.
        # The stream counts the new profile (TotalUsers) exactly once.
        with contextlib.suppress(VersionConflict):
            self._table.write(
                "put_item",
                lambda: VersionConflict(None),
                TableName=self._table.name,
                Item=item,
                ConditionExpression="attribute_not_exists(PK)",
            )

    def get_user(self, user_id: str) -> User:
        response = self._table.call(
            "get_item",
            TableName=self._table.name,
            Key=to_item(keys.user_key(user_id)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise UserNotFound(user_id)
        return user_from_item(response["Item"])
