"""One run at a time: a lease on a layer's bucket, taken by a conditional S3 PUT.

A job whose writes are read-then-append (silver de-duplicates against what a
partition already holds, then appends) doubles rows if two runs overlap. In
AWS the job's ``max_concurrent_runs = 1`` prevents that for scheduled runs; a
run started by hand, or locally, bypasses it. So a run first creates the
lease object with ``If-None-Match: *``: S3 lets exactly one writer create it.
A second run finds it held and stops before touching anything.

The lease names its holder and an expiry. The holder renews it (a PUT with
``If-Match`` on the ETag it last wrote) every third of its lifetime, so it
never expires under a live run; a run that crashed stops renewing, and once
the expiry has passed the next run takes the lease over (again with
``If-Match``, so two runs cannot both take over the same stale lease). The
holder checks the lease is still its own before it commits.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any, Dict, Optional

from todo_core import lake

LEASE_KEY = lake.STATE_PREFIX + "lease.json"
#: S3 answers a failed condition with 412, or 409 when a concurrent
#: conditional write to the same key is in flight.
_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})


class LeaseHeld(RuntimeError):
    """Another run holds the lease."""

    def __init__(self, holder: Dict[str, Any]) -> None:
        super().__init__(
            f"the lease is held by run {holder.get('owner')} until {holder.get('expires_at')}"
        )
        self.holder = holder


class LeaseLost(RuntimeError):
    """The lease expired and another run took it over: this run must not commit."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _lost_race(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return str(code) in _LOST_RACE


class Lease:
    """The lease of ``store``'s bucket for ``owner`` (a run id), ``seconds`` long."""

    def __init__(self, store: Any, owner: str, seconds: int = 600, key: str = LEASE_KEY) -> None:
        self.store = store
        self.owner = owner
        self.seconds = seconds
        self.key = key
        self._etag: Optional[str] = None
        self._stop = threading.Event()
        self._renewer: Optional[threading.Thread] = None
        self._lost: Optional[Exception] = None

    def _body(self) -> bytes:
        expires = _now() + dt.timedelta(seconds=self.seconds)
        return json.dumps({"owner": self.owner, "expires_at": expires.isoformat()}).encode()

    def _put(self, **condition: str) -> None:
        response = self.store.s3.put_object(
            Bucket=self.store.bucket,
            Key=self.key,
            Body=self._body(),
            ContentType="application/json",
            **condition,
        )
        self._etag = response["ETag"]

    def acquire(self) -> None:
        """Take the lease, or raise :class:`LeaseHeld`; then keep it renewed."""
        try:
            self._put(IfNoneMatch="*")
        except Exception as exc:
            if not _lost_race(exc):
                raise
            self._take_over_if_expired()
        self._renewer = threading.Thread(target=self._renew_forever, daemon=True)
        self._renewer.start()

    def _take_over_if_expired(self) -> None:
        try:
            current = self.store.s3.get_object(Bucket=self.store.bucket, Key=self.key)
        except self.store.s3.exceptions.NoSuchKey:
            self._put(IfNoneMatch="*")  # released in between: take it (or lose the race)
            return
        holder = json.loads(current["Body"].read())
        expires = dt.datetime.fromisoformat(holder["expires_at"])
        if expires > _now():
            raise LeaseHeld(holder)
        try:
            self._put(IfMatch=current["ETag"])
        except Exception as exc:
            if _lost_race(exc):
                raise LeaseHeld(holder) from exc
            raise

    def _renew_forever(self) -> None:
        while not self._stop.wait(max(0.1, self.seconds / 3)):
            try:
                self.check()
            except Exception as exc:
                self._lost = exc
                return

    def check(self) -> None:
        """Renew the lease now; raises :class:`LeaseLost` when it is no longer ours."""
        if self._lost is not None:
            raise LeaseLost(f"run {self.owner} lost the lease: {self._lost}")
        if self._etag is None:
            raise LeaseLost(f"run {self.owner} does not hold the lease")
        try:
            self._put(IfMatch=self._etag)
        except Exception as exc:
            if _lost_race(exc) or "NoSuchKey" in repr(exc):
                raise LeaseLost(f"run {self.owner} lost the lease: {exc}") from exc
            raise

    def stop_renewing(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self.stop_renewing()
        if self._etag is None or self._lost is not None:
            return
        try:
            head = self.store.s3.head_object(Bucket=self.store.bucket, Key=self.key)
        except Exception:
            return
        if head["ETag"] == self._etag:
            self.store.s3.delete_object(Bucket=self.store.bucket, Key=self.key)
        self._etag = None

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
