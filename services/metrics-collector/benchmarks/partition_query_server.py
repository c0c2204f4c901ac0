"""The local emulator with one change for the benchmark: a Query on the base
table reads only its partition, as DynamoDB's does.

moto answers every base-table ``Query`` by listing and sorting every item of
the table, then keeping the partition asked for, so a Query's time grows with
the table even when it returns 3 items. DynamoDB reads the partition only
(and charges by what it reads). Benchmarking on stock moto would measure that
emulator artifact, not the collector; ``run.py`` reports both.

Run as ``python benchmarks/partition_query_server.py -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import sys
from typing import Any, List


def patch_base_table_query() -> None:
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") is not None or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition: List[Any] = list(self.items.get(hash_key, {}).values())
        # moto's query calls self.all_items() for the base table; hand it the
        # partition instead (requests are serialized by the launcher, so this
        # per-call override cannot leak into another request).
        self.all_items = lambda: partition
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query


if __name__ == "__main__":
    from todo_local import moto_server

    patch_base_table_query()
    moto_server.main(sys.argv[1:])
