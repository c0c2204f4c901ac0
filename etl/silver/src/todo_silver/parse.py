"""Bronze change events -> one Arrow table of events that honour the contract.

The contract is :class:`todo_core.events.ChangeEvent`. Validating a million
events one by one with pydantic would dominate the run, so an object is parsed
in bulk with pyarrow's JSON reader and checked with vectorised rules that are
*stricter* than the model (a row they pass, the model passes too). Only rows
they flag, and objects pyarrow cannot parse at all, go through
:func:`todo_core.events.parse_json_line`, which has the final word: a row it
accepts is kept, a row it rejects is quarantined with its reason.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Set, Tuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from pydantic import ValidationError

from todo_core import events, keys
from todo_lake.drift import as_text, json_text

#: The top-level fields, typed; the images are inferred (free-form items).
TOP_LEVEL_SCHEMA = pa.schema(
    [
        ("schema_version", pa.int64()),
        ("event_id", pa.string()),
        ("event_name", pa.string()),
        ("entity_type", pa.string()),
        ("user_id", pa.string()),
        ("keys", pa.struct([(keys.PK, pa.string()), (keys.SK, pa.string())])),
        ("sequence_number", pa.string()),
        ("approximate_creation_time", pa.int64()),
    ]
)
ALLOWED_TOP_LEVEL = frozenset(TOP_LEVEL_SCHEMA.names) | {"new_image", "old_image"}
_MAX_BLOCK = 64 << 20


@dataclass(frozen=True)
class Rejected:
    """A bronze record that broke the contract."""

    line_number: int
    reason: str
    record: str


@dataclass
class ParsedEvents:
    #: Valid events (None when there are none).
    table: Optional[pa.Table]
    rejected: List[Rejected] = field(default_factory=list)
    #: Rows that the bulk rules flagged and the model then checked one by one.
    rechecked: int = 0


def reader_threads(parse_threads: int, cores: Optional[int] = None) -> bool:
    """Whether pyarrow's JSON reader should spread one object over Arrow's
    CPU pool, for a job that parses ``parse_threads`` objects at once.

    Only when those threads leave cores idle: with a parse thread per core,
    the pool's threads just compete with them (on two cores, two parse
    threads spent about a sixth of their time waiting on the pool, and the
    run's reading took 14% longer than with the reader on the calling thread).
    """
    return parse_threads < (cores or os.cpu_count() or 1)


def _read(data: bytes, use_threads: bool) -> pa.Table:
    return text_where_images_disagree(_read_json(data, use_threads))


def _read_json(data: bytes, use_threads: bool) -> pa.Table:
    return pj.read_json(
        io.BytesIO(data),
        read_options=pj.ReadOptions(
            # One block per object (up to 64 MiB) so types are inferred over all of it.
            block_size=max(1 << 20, min(len(data) + 1, _MAX_BLOCK)),
            use_threads=use_threads,
        ),
        parse_options=pj.ParseOptions(
            explicit_schema=TOP_LEVEL_SCHEMA, unexpected_field_behavior="infer"
        ),
    )


def _image_types(table: pa.Table, image: str) -> Dict[str, pa.DataType]:
    if image not in table.column_names or not pa.types.is_struct(table.schema.field(image).type):
        return {}
    kind = table.schema.field(image).type
    return {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}


def _with_text(table: pa.Table, image: str, names: Set[str]) -> pa.Table:
    """``table`` with the attributes ``names`` of one image as JSON text."""
    column = table.column(image).combine_chunks()
    kind = column.type
    children, fields = [], []
    for i in range(kind.num_fields):
        field, child = kind.field(i), column.field(i)
        if field.name in names:
            child = as_text(child)  # values under a null parent stay hidden by its mask
            field = pa.field(field.name, pa.string())
        children.append(child)
        fields.append(field)
    rebuilt = pa.StructArray.from_arrays(children, fields=fields, mask=column.is_null())
    return table.set_column(table.column_names.index(image), image, rebuilt)


def text_where_images_disagree(table: pa.Table) -> pa.Table:
    """An attribute that the new and the old image give different types (a
    number before the change, text after it) flows as JSON text in both
    (:mod:`todo_lake.drift`): a column has one type."""
    new, old = _image_types(table, "new_image"), _image_types(table, "old_image")
    differ = {
        name
        for name in set(new) & set(old)
        if new[name] != old[name]
        and not pa.types.is_null(new[name])
        and not pa.types.is_null(old[name])
    }
    if not differ:
        return table
    return _with_text(_with_text(table, "new_image", differ), "old_image", differ)


def _column(table: pa.Table, name: str) -> Optional[pa.ChunkedArray]:
    return table.column(name) if name in table.column_names else None


def _escape(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.replace_substring(pc.replace_substring(values, "%", "%25"), "#", "%23")


def suspect_mask(table: pa.Table) -> pa.ChunkedArray:
    """True for rows the bulk rules cannot vouch for (the model decides those)."""
    n = table.num_rows
    extra = set(table.column_names) - ALLOWED_TOP_LEVEL
    key_type = table.schema.field("keys").type
    if extra or not pa.types.is_struct(key_type) or key_type.num_fields != 2:
        # Unknown fields (the model forbids them) or keys beyond PK/SK: check all.
        return pa.chunked_array([pa.array([True] * n, pa.bool_())])

    def filled(expr: pa.ChunkedArray) -> pa.ChunkedArray:
        return pc.fill_null(expr, False)

    version = table.column("schema_version")
    event_id = table.column("event_id")
    event_name = table.column("event_name")
    entity = table.column("entity_type")
    user_id = table.column("user_id")
    pk = pc.struct_field(table.column("keys"), keys.PK)
    sk = pc.struct_field(table.column("keys"), keys.SK)
    seq = table.column("sequence_number")
    created = table.column("approximate_creation_time")
    new_image = _column(table, "new_image")
    old_image = _column(table, "old_image")
    none = pa.chunked_array([pa.array([False] * n, pa.bool_())])
    has_new = pc.is_valid(new_image) if new_image is not None else none
    has_old = pc.is_valid(old_image) if old_image is not None else none

    ok = filled(pc.equal(version, 1))
    ok = pc.and_(ok, filled(pc.greater(pc.utf8_length(event_id), 0)))
    ok = pc.and_(ok, filled(pc.greater(pc.utf8_length(user_id), 0)))
    ok = pc.and_(ok, filled(pc.match_substring_regex(seq, r"^[0-9]{1,40}$")))
    ok = pc.and_(ok, filled(pc.greater_equal(created, 0)))
    is_insert = filled(pc.equal(event_name, "INSERT"))
    is_modify = filled(pc.equal(event_name, "MODIFY"))
    is_remove = filled(pc.equal(event_name, "REMOVE"))
    ok = pc.and_(ok, pc.or_(pc.or_(is_insert, is_modify), is_remove))
    ok = pc.and_(ok, pc.or_(pc.invert(pc.or_(is_insert, is_modify)), has_new))
    ok = pc.and_(ok, pc.or_(pc.invert(pc.or_(is_modify, is_remove)), has_old))
    escaped = _escape(user_id)
    task_pk = pc.binary_join_element_wise(keys.TASK_PREFIX, escaped, "")
    user_pk = pc.binary_join_element_wise(keys.USER_PREFIX, escaped, "")
    is_task = pc.and_(
        filled(pc.equal(entity, "task")),
        pc.and_(filled(pc.equal(pk, task_pk)), filled(pc.starts_with(sk, keys.TASK_PREFIX))),
    )
    is_user = pc.and_(
        filled(pc.equal(entity, "user")),
        pc.and_(filled(pc.equal(pk, user_pk)), filled(pc.equal(sk, keys.PROFILE_SK))),
    )
    ok = pc.and_(ok, pc.or_(is_task, is_user))
    return pc.invert(ok)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ())) or "event"
            parts.append(f"{where}: {error.get('msg', '')}")
        return "contract: " + "; ".join(parts)
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} at column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "invalid UTF-8"
    return f"contract: {exc}"


def _check_line(raw: bytes) -> Tuple[Optional[events.ChangeEvent], Optional[str]]:
    try:
        return events.parse_json_line(raw.decode("utf-8")), None
    except (ValueError, TypeError) as exc:  # ValidationError and JSONDecodeError are ValueErrors
        return None, _reason(exc)


def _lines(data: bytes) -> List[Tuple[int, bytes]]:
    """Non-blank lines with their 1-based line numbers (pyarrow skips blank ones too)."""
    return [(n, raw) for n, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def parse_change_events(data: bytes, use_threads: bool = True) -> ParsedEvents:
    """Valid events of one bronze object, and its rejected records with reasons.

    ``use_threads``: let the JSON reader use Arrow's CPU pool (see
    :func:`reader_threads`).
    """
    if not data or (data[:1].isspace() and not data.strip()):  # strip() copies: rarely
        return ParsedEvents(None)
    try:
        table = _read(data, use_threads)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _parse_slowly(data, use_threads)
    suspects = suspect_mask(table)
    flagged = pc.sum(suspects.cast(pa.int64())).as_py() or 0
    if not flagged:
        return ParsedEvents(table)
    lines = _lines(data)
    if len(lines) != table.num_rows:  # cannot map rows to lines: be exact instead
        return _parse_slowly(data, use_threads)
    keep = pc.invert(suspects).to_pylist()
    rejected: List[Rejected] = []
    for row in pc.indices_nonzero(suspects).to_pylist():
        number, raw = lines[row]
        event, reason = _check_line(raw)
        if event is not None:
            keep[row] = True
        else:
            rejected.append(Rejected(number, reason or "contract", _text(raw)))
    kept = table.filter(pa.array(keep, pa.bool_()))
    return ParsedEvents(kept if kept.num_rows else None, rejected, flagged)


def _parse_slowly(data: bytes, use_threads: bool) -> ParsedEvents:
    """Line by line through the model; used when the bulk reader gives up."""
    rejected: List[Rejected] = []
    good: List[Tuple[int, bytes, events.ChangeEvent]] = []
    lines = _lines(data)
    for number, raw in lines:
        event, reason = _check_line(raw)
        if event is None:
            rejected.append(Rejected(number, reason or "contract", _text(raw)))
        else:
            good.append((number, raw, event))
    if not good:
        return ParsedEvents(None, rejected, len(lines))
    # Valid events whose images give an attribute different JSON types cannot
    # share one column: such an attribute flows as JSON text in all of them
    # (the rule used between objects, :func:`todo_silver.tables.unify`).
    # Nested conflicts (the same object attribute holding a number in one
    # record and text in another) are settled by texting containers too.
    models = [event for _, _, event in good]
    everything = {a for e in models for image in _images(e) for a in image}
    for texted in (set(), _conflicting(models), _containers(models), everything):
        canonical = b"".join(_canonical(event, texted) for event in models)
        try:
            return ParsedEvents(_read(canonical, use_threads), rejected, len(lines))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            if texted is everything:
                raise
    raise AssertionError("unreachable")


def _images(event: events.ChangeEvent) -> List[Dict[str, Any]]:
    return [image for image in (event.new_image, event.old_image) if image]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    return type(value).__name__


def _conflicting(models: List[events.ChangeEvent]) -> Set[str]:
    """Attributes whose non-null values have more than one JSON type."""
    kinds: Dict[str, Set[str]] = {}
    for event in models:
        for image in _images(event):
            for name, value in image.items():
                if value is not None:
                    kinds.setdefault(name, set()).add(_kind(value))
    return {name for name, found in kinds.items() if len(found) > 1}


def _containers(models: List[events.ChangeEvent]) -> Set[str]:
    found = _conflicting(models)
    for event in models:
        for image in _images(event):
            found.update(n for n, v in image.items() if isinstance(v, (dict, list)))
    return found


def _canonical(event: events.ChangeEvent, texted: Set[str]) -> bytes:
    data = event.model_dump()
    for image in ("new_image", "old_image"):
        if data[image]:
            data[image] = {
                name: json_text(value) if name in texted else value
                for name, value in data[image].items()
            }
    return events.to_json_line(data).encode("utf-8")
