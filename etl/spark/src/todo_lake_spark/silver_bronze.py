"""Reading bronze on Spark: the new objects, parsed on the executors by silver's own parser.

Spark reads each new bronze object whole (the ``binaryFile`` source: one row
per object, from ``s3://`` on Glue, ``file://`` locally) and the executors
run what the single-worker job runs on each object
(:func:`todo_silver.parse.parse_change_events`, which checks every record
against the change-event contract, and
:func:`todo_silver.logs.parse_request_logs`) inside ``mapInArrow``. What
leaves an executor:

* per valid change event, its JSON line (the object's own line; a canonical
  one when the contract's model rebuilt the object's rows) and its place
  (object, line) — the staging order of the single-worker job;
* per rejected record, its line, reason and text (the driver quarantines it);
* per object, the Arrow type of its images as pyarrow inferred them.

The driver unifies the objects' image types by silver's rules (one type per
attribute; types that meet widen to text, :mod:`todo_lake.drift`) and Spark
parses the lines once more with that schema (``from_json``, in the JVM), so
the events reach the SQL with the types the single-worker engine's SQL sees.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from todo_lake.silver_schema import API_REQUEST_COLUMNS
from todo_lake_spark.lake_root import LakeRoot
from todo_silver.bronze import BronzeObject, decompress
from todo_silver.logs import SCHEMA as REQUEST_SCHEMA
from todo_silver.logs import parse_request_logs
from todo_silver.parse import TOP_LEVEL_SCHEMA, _lines, parse_change_events

__all__ = [
    "CDC_OUTPUT",
    "IMAGES",
    "LOG_OUTPUT",
    "event_schema",
    "image_types",
    "parse_cdc_objects",
    "parse_log_objects",
    "unify_images",
]

IMAGES = ("new_image", "old_image")
#: What the executors return per change-event object (``kind``: event, reject, and
#: one ``object`` row: valid events in ``line``, the rows the model checked, the
#: users whose profile changed, the images' types).
CDC_OUTPUT = pa.schema(
    [
        ("kind", pa.string()),
        ("object", pa.int32()),
        ("line", pa.int32()),
        ("text", pa.string()),
        ("reason", pa.string()),
        ("image_schema", pa.binary()),
        ("rechecked", pa.int32()),
        ("users", pa.int32()),
    ]
)
#: What the executors return per log object: api_requests rows, and rejects.
LOG_OUTPUT = pa.schema(
    [
        *REQUEST_SCHEMA,
        ("_kind", pa.string()),
        ("_object", pa.int32()),
        ("_row", pa.int32()),
        ("_text", pa.string()),
        ("_reason", pa.string()),
        ("_skipped", pa.int32()),
    ]
)


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(type(value).__name__)


def _valid_lines(
    data: bytes, table: pa.Table, rejected: set, rechecked: int
) -> Tuple[List[int], List[str]]:
    """The line number and JSON text of each valid row of ``table``."""
    lines = _lines(data)
    kept = [(n, raw) for n, raw in lines if n not in rejected]
    if rechecked < len(lines) and len(kept) == table.num_rows:
        return [n for n, _ in kept], [raw.decode("utf-8") for _, raw in kept]
    # The rows were rebuilt by the contract's model (or cannot be mapped to
    # lines): their canonical JSON, which the table's types describe.
    rows = table.to_pylist()
    numbers = [n for n, _ in kept] if len(kept) == len(rows) else list(range(1, len(rows) + 1))
    return numbers, [json.dumps(r, default=_default, ensure_ascii=False) for r in rows]


def _cdc_object(index: int, data: bytes) -> pa.RecordBatch:
    parsed = parse_change_events(data)
    kinds: List[str] = []
    lines: List[int] = []
    texts: List[Optional[str]] = []
    reasons: List[Optional[str]] = []
    schema_bytes: Optional[bytes] = None
    users = 0
    if parsed.table is not None:
        entity = parsed.table.column("entity_type")
        profiles = parsed.table.column("user_id").filter(pc.equal(entity, "user"))
        users = pc.count_distinct(profiles).as_py()
        rejected = {r.line_number for r in parsed.rejected}
        numbers, valid = _valid_lines(data, parsed.table, rejected, parsed.rechecked)
        kinds += ["event"] * len(valid)
        lines += numbers
        texts += valid
        reasons += [None] * len(valid)
        images = [parsed.table.schema.field(i) for i in IMAGES if i in parsed.table.column_names]
        schema_bytes = pa.schema(images).serialize().to_pybytes()
    for r in parsed.rejected:
        kinds.append("reject")
        lines.append(r.line_number)
        texts.append(r.record)
        reasons.append(r.reason)
    kinds.append("object")
    lines.append(len(texts) - len(parsed.rejected))
    texts.append(None)
    reasons.append(None)
    n = len(kinds)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(kinds, pa.string()),
            pa.array([index] * n, pa.int32()),
            pa.array(lines, pa.int32()),
            pa.array(texts, pa.string()),
            pa.array(reasons, pa.string()),
            pa.array([None] * (n - 1) + [schema_bytes], pa.binary()),
            pa.array([0] * (n - 1) + [parsed.rechecked], pa.int32()),
            pa.array([0] * (n - 1) + [users], pa.int32()),
        ],
        schema=CDC_OUTPUT,
    )


def _log_object(index: int, data: bytes) -> pa.RecordBatch:
    parsed = parse_request_logs(data)
    rows = parsed.table()
    n = 0 if rows is None else rows.num_rows
    extra = len(parsed.rejected) + 1  # the rejects, and one row with the object's counts
    requests = rows if rows is not None else REQUEST_SCHEMA.empty_table()
    filler = pa.Table.from_arrays(
        [pa.nulls(extra, f.type) for f in REQUEST_SCHEMA], schema=REQUEST_SCHEMA
    )
    table = pa.concat_tables([requests, filler])
    columns = {
        "_kind": ["request"] * n + ["reject"] * len(parsed.rejected) + ["object"],
        "_object": [index] * (n + extra),
        "_row": list(range(n)) + [r.line_number for r in parsed.rejected] + [0],
        "_text": [None] * n + [r.record for r in parsed.rejected] + [None],
        "_reason": [None] * n + [r.reason for r in parsed.rejected] + [None],
        "_skipped": [0] * (n + extra - 1) + [parsed.skipped],
    }
    for name, values in columns.items():
        table = table.append_column(
            LOG_OUTPUT.field(name), pa.array(values, LOG_OUTPUT.field(name).type)
        )
    return table.combine_chunks().to_batches()[0]


def _object_parser(
    root: LakeRoot,
    bucket: str,
    indexes: Dict[str, int],
    parse: Callable[[int, bytes], pa.RecordBatch],
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            paths = batch.column(batch.schema.get_field_index("path")).to_pylist()
            contents = batch.column(batch.schema.get_field_index("content"))
            for i, path in enumerate(paths):
                index = indexes[root.key_of(bucket, path)]
                yield parse(index, decompress(contents[i].as_py()))

    return run


def _objects(spark: Any, root: LakeRoot, bucket: str, objects: Sequence[BronzeObject]) -> Any:
    paths = [root.url(bucket, o.key) for o in objects]
    return spark.read.format("binaryFile").load(paths)


def parse_cdc_objects(
    spark: Any, root: LakeRoot, bucket: str, objects: Sequence[Tuple[int, BronzeObject]]
) -> Any:
    """One row per valid event, rejected record and object (:data:`CDC_OUTPUT`)."""
    from todo_lake_spark.silver_types import spark_schema

    indexes = {o.key: i for i, o in objects}
    frame = _objects(spark, root, bucket, [o for _, o in objects])
    return frame.mapInArrow(
        _object_parser(root, bucket, indexes, _cdc_object), spark_schema(CDC_OUTPUT)
    )


def parse_log_objects(
    spark: Any, root: LakeRoot, bucket: str, objects: Sequence[Tuple[int, BronzeObject]]
) -> Any:
    """api_requests rows with their place, rejected records, and per object
    its count of skipped records (:data:`LOG_OUTPUT`)."""
    from todo_lake_spark.silver_types import spark_schema

    indexes = {o.key: i for i, o in objects}
    frame = _objects(spark, root, bucket, [o for _, o in objects])
    return frame.mapInArrow(
        _object_parser(root, bucket, indexes, _log_object), spark_schema(LOG_OUTPUT)
    )


# --- the images' types, unified over the run's objects ---------------------------------
def _promote(a: pa.DataType, b: pa.DataType) -> Optional[pa.DataType]:
    """The type values typed ``a`` and ``b`` share (pyarrow's promotions), or None."""
    if a == b or pa.types.is_null(b):
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields: Dict[str, pa.DataType] = {
            a.field(i).name: a.field(i).type for i in range(a.num_fields)
        }
        for i in range(b.num_fields):
            name, kind = b.field(i).name, b.field(i).type
            shared = _promote(fields[name], kind) if name in fields else kind
            if shared is None:
                return None
            fields[name] = shared
        return pa.struct(list(fields.items()))
    if pa.types.is_list(a) and pa.types.is_list(b):
        value = _promote(a.value_type, b.value_type)
        return None if value is None else pa.list_(value)
    if {a, b} == {pa.int64(), pa.float64()}:
        return pa.float64()
    return None


def _merge_image(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """An image's attributes over two objects: an attribute whose types do
    not meet is widened to text (:mod:`todo_lake.drift`)."""
    if pa.types.is_null(a) or not pa.types.is_struct(b):
        return b if pa.types.is_struct(b) else a
    fields: Dict[str, pa.DataType] = {a.field(i).name: a.field(i).type for i in range(a.num_fields)}
    for i in range(b.num_fields):
        name, kind = b.field(i).name, b.field(i).type
        fields[name] = (_promote(fields[name], kind) or pa.string()) if name in fields else kind
    return pa.struct(list(fields.items()))


def image_types(schema: pa.Schema) -> Dict[str, pa.DataType]:
    return {f.name: f.type for f in schema if f.name in IMAGES}


def unify_images(schemas: Iterable[pa.Schema]) -> Dict[str, pa.DataType]:
    """The run's type of each image: every object's attributes, one type each;
    an attribute the new and the old image type differently is text in both
    (as within one object, :func:`todo_silver.parse.text_where_images_disagree`)."""
    merged: Dict[str, pa.DataType] = {name: pa.null() for name in IMAGES}
    for schema in schemas:
        for name, kind in image_types(schema).items():
            merged[name] = _merge_image(merged[name], kind)
    new, old = merged["new_image"], merged["old_image"]
    if pa.types.is_struct(new) and pa.types.is_struct(old):
        new_fields = {new.field(i).name: new.field(i).type for i in range(new.num_fields)}
        old_fields = {old.field(i).name: old.field(i).type for i in range(old.num_fields)}
        differ = {
            n
            for n in set(new_fields) & set(old_fields)
            if new_fields[n] != old_fields[n]
            and not pa.types.is_null(new_fields[n])
            and not pa.types.is_null(old_fields[n])
        }
        if differ:
            merged["new_image"] = pa.struct(
                [(n, pa.string() if n in differ else t) for n, t in new_fields.items()]
            )
            merged["old_image"] = pa.struct(
                [(n, pa.string() if n in differ else t) for n, t in old_fields.items()]
            )
    return merged


def event_schema(images: Dict[str, pa.DataType]) -> pa.Schema:
    """The events as the SQL reads them: the contract's top-level fields and the run's images."""
    return pa.schema(list(TOP_LEVEL_SCHEMA) + [(name, images[name]) for name in IMAGES])


#: api_requests' columns (silver's schema), as the log parser gives them.
REQUEST_COLUMNS = list(API_REQUEST_COLUMNS)
