"""The local emulator with DynamoDB's read costs, for the benchmark only.

moto answers every base-table ``Query`` by listing and sorting every item of
the table before keeping the partition asked for, and every ``Scan`` page by
walking the table again from its first item up to the page's start key. So a
Query's time grows with the table even when it returns 3 items, and a full
Scan's time grows with the square of the table. DynamoDB reads only the
partition a Query names, and a Scan page starts where the last one stopped.
Here both read paths are given exactly the items DynamoDB would touch (the
results are unchanged: moto's own code still does the rest): Queries by the
launcher itself (``todo_local.moto_server.patch_queries``), Scans here. ``run.py``
also measures the collector on stock moto, for comparison.

Run as ``python benchmarks/partition_query_server.py -H 127.0.0.1 -p PORT``.
``POST /_bench/reads?mode=stock`` (or ``mode=dynamodb``, the default) switches
between the two behaviours, so one seeded table serves both measurements.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import parse_qs

CONTROL_PATH = "/_bench/reads"
#: True: DynamoDB's read paths; False: moto's own.
FAITHFUL = {"on": True}


def _items_after(table: Any, start: Optional[Dict[str, Any]]) -> Iterator[Any]:
    """The table's items in moto's (hash, range) order, strictly after ``start``."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    start_hash = DynamoType(start[table.hash_key_attr]) if start else None
    start_range = DynamoType(start[table.range_key_attr]) if start else None
    for hash_key in sorted(table.items.keys()):
        if start_hash is not None and hash_key < start_hash:
            continue
        for range_key in sorted(table.items[hash_key].keys()):
            if start_hash is not None and hash_key == start_hash and not range_key > start_range:
                continue
            yield table.items[hash_key][range_key]


def patch_reads() -> None:
    from moto.dynamodb.models.table import Table

    original_scan = Table.scan

    def scan(
        self: Any, filters: Any, limit: Any, exclusive_start_key: Any,
        filter_expression: Any = None, index_name: Any = None, *args: Any, **kwargs: Any,
    ) -> Any:
        if (
            FAITHFUL["on"]
            and index_name is None
            and self.range_key_attr
            and kwargs.get("segments") in (None, (None, None))
        ):
            self.all_items = lambda: _items_after(self, exclusive_start_key)
        try:
            return original_scan(
                self, filters, limit, exclusive_start_key, filter_expression, index_name,
                *args, **kwargs,
            )
        finally:
            self.__dict__.pop("all_items", None)

    Table.scan = scan


def serve(argv: List[str]) -> None:
    from todo_local import moto_server

    class ControlledApp(moto_server.SerializedApp):
        """The launcher's serialized app, plus the switch at CONTROL_PATH."""

        def __call__(self, environ: Any, start_response: Any) -> List[bytes]:
            if environ.get("PATH_INFO") != CONTROL_PATH:
                return super().__call__(environ, start_response)
            mode = parse_qs(environ.get("QUERY_STRING", "")).get("mode", ["dynamodb"])[0]
            with self._lock:
                FAITHFUL["on"] = mode != "stock"
                # Base-table Queries: the launcher's own partition reads.
                moto_server.PARTITION_QUERIES["on"] = FAITHFUL["on"]
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [mode.encode()]

    patch_reads()
    moto_server.SerializedApp = ControlledApp  # type: ignore[misc]
    moto_server.main(argv)


if __name__ == "__main__":
    serve(sys.argv[1:])
