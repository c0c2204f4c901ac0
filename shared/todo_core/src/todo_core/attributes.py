"""DynamoDB's typed attribute values <-> plain Python / JSON, exactly.

boto3 ships a TypeSerializer, but importing it pulls in all of boto3, and its
numbers become Decimal even when they are integers. This codec is exact both
ways: integers stay ``int``, other numbers ``Decimal``; sets become sorted
lists in plain JSON; binary becomes base64 text.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any, Dict, List, Mapping

AttributeValue = Dict[str, Any]
Item = Dict[str, AttributeValue]

_INT_LIMIT = Decimal("1E+38")


def _number(text: str) -> Any:
    if "." in text or "e" in text or "E" in text:
        number = Decimal(text)
        # "1.0" and "1E+2" are integers in DynamoDB's number model. Huge ones
        # (1E+125) stay Decimal so they do not turn into 126-digit literals.
        # copy_abs, unlike abs(), is exact (no rounding to the context precision).
        if number == number.to_integral_value() and number.copy_abs() < _INT_LIMIT:
            return int(number)
        return number
    return int(text)


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are BOOL, not N")
    if isinstance(value, float):
        raise TypeError("floats are inexact; use int or Decimal")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"DynamoDB numbers are finite, not {value}")
    return str(value)


def to_attribute(value: Any) -> AttributeValue:
    """A Python value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal, float)):
        return {"N": _number_text(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attribute(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        if not value:
            raise ValueError("DynamoDB sets cannot be empty")
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        if all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in value):
            return {"NS": [_number_text(v) for v in value]}
        if all(isinstance(v, (bytes, bytearray)) for v in value):
            return {"BS": [bytes(v) for v in value]}
        raise TypeError("a set must hold only strings, only numbers or only bytes")
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def to_item(data: Mapping[str, Any]) -> Item:
    return {k: to_attribute(v) for k, v in data.items()}


def _binary(value: Any) -> bytes:
    # Stream records in Lambda events carry base64 text; boto3 responses carry bytes.
    return base64.b64decode(value) if isinstance(value, str) else bytes(value)


def from_attribute(av: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as Python: sets stay sets, binary stays bytes."""
    ((kind, value),) = av.items()
    if kind == "S":
        return value
    if kind == "N":
        return _number(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_number(v) for v in value}
    if kind == "B":
        return _binary(value)
    if kind == "BS":
        return {_binary(v) for v in value}
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def from_item(item: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    return {k: from_attribute(v) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def plain_from_attribute(av: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as plain JSON-able data (no type descriptors).

    Sets become sorted lists, binary becomes base64 text, numbers stay exact
    (int or Decimal; write them with :func:`dumps`).
    """
    return _plain(from_attribute(av))


def _plain_attribute(av: Mapping[str, Any]) -> Any:
    ((kind, value),) = av.items()
    if kind == "N":
        return _number(value)
    return _plain(from_attribute(av))


def plain_image(item: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """An item image in plain form: :func:`plain_from_attribute` of every attribute.

    Written out because it is the CDC hot path (every stream record, both
    images): strings, most of an item, skip the general conversion. The
    result is the same as the general path's for every input, errors included.
    """
    out: Dict[str, Any] = {}
    for name, av in item.items():
        value = av.get("S")
        if value.__class__ is str and len(av) == 1:
            out[name] = value
        else:
            out[name] = _plain_attribute(av)
    return out


def _write_exact(value: Any, out: List[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, not {type(k).__name__}")
            if i:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _write_exact(v, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _write_exact(v, out)
        out.append("]")
    else:
        out.append(json.dumps(value, ensure_ascii=False, allow_nan=False))


def dumps(value: Any) -> str:
    """Compact JSON with exact numbers: Decimal is written digit for digit.

    The C encoder handles the common case (no Decimal) at full speed; only
    documents holding a Decimal take the slower exact path.
    """
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except TypeError:
        out: List[str] = []
        _write_exact(value, out)
        return "".join(out)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str) -> Any:
    """Parse JSON written by :func:`dumps`; non-integers come back as Decimal.

    NaN and Infinity (which Python's json accepts by default) are rejected:
    they are not JSON and no DynamoDB number can hold them.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
