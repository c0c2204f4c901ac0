"""A direct path through the emulator for the DynamoDB writes and reads the product makes most.

Each API write costs the emulator three or four DynamoDB requests (the
idempotency record's conditional ``PutItem`` and completing ``UpdateItem``,
the task's ``TransactWriteItems``, and for an update a ``GetItem``). Through
moto's stock stack each one pays for werkzeug and Flask dispatch, moto's
request parsing and per-request setup (it lists moto's package directory on
every request), a full parse and validation of every expression, and a deep
copy of the item: measured at 5-11 ms per request, almost all of the
emulator's time under the demo.

:class:`FastDynamoDB` answers ``GetItem``, ``PutItem``, ``UpdateItem`` and
``TransactWriteItems`` itself when a request stays inside a small, fully
understood subset, and writes through moto's own table, item and stream
objects, so the state, the stream records and the response bodies are the
ones moto would produce. Anything else is handed to moto untouched, with the
request body intact:

* any parameter outside the subset (projections, ``ReturnValues`` other than
  ``NONE``, capacity reporting, legacy ``Expected``/``AttributeUpdates``,
  ``Delete``/``ConditionCheck`` in a transaction);
* expressions outside the grammar below, reserved words, unused or missing
  placeholders, updates of key or index attributes, set/list/map/binary
  values, an update that would create its item;
* **any condition that does not hold**: the fast path only ever says "yes";
  moto re-evaluates every "no" and produces its own error (conditional check
  failure, transaction cancellation with its reasons).

Conditions: ``attribute_exists(p)``, ``attribute_not_exists(p)``, ``p OP v``
with ``OP`` in ``= < <= > >=``, combined with ``AND``, ``OR`` and
parentheses. There is no ``NOT`` and no ``<>``, so a condition is monotone in
its comparisons; a comparison is true here only when both operands exist,
have the same scalar type (S or N) and moto's own ``DynamoType`` comparison
says so (operands of different types send the request to moto). So "true
here" implies "true in moto", and "false here" is decided by moto.
Updates: ``SET p = :v, ...`` (string, number, boolean or null values) and
``ADD p :n, ...`` (numbers, added with moto's own arithmetic).

The wrapper must run inside the emulator's request lock (see
:class:`todo_local.moto_server.SerializedApp`): a condition is checked and the
write applied with nothing in between.
"""

from __future__ import annotations

import io
import json
import os
import re
import zlib
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

TARGET_PREFIX = "DynamoDB_20120810."
#: Set to 0 to send every request through moto's stock handling.
ENV = "TODO_LOCAL_EMULATOR_FAST_DYNAMODB"
#: Item size limit as moto enforces it (``LimitedSizeDict``).
MAX_ITEM_BYTES = 405000


class Unsupported(Exception):
    """Outside the fast path's subset: moto handles the request."""


# --- expressions ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|<>|[=<>(),]))"
)
_COMPARATORS = ("=", "<", "<=", ">", ">=")
_SCALARS = ("S", "N")


def _tokens(expression: str) -> List[Tuple[str, str]]:
    out = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise Unsupported(f"token at {position}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


def _reserved_words() -> Set[str]:
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    return {word.upper() for word in ReservedKeywords.get_reserved_keywords()}


_RESERVED: Optional[Set[str]] = None


def _plain_name(word: str) -> str:
    """A bare attribute name; reserved words are errors in DynamoDB, so moto decides."""
    global _RESERVED
    if _RESERVED is None:
        _RESERVED = _reserved_words()
    if word.upper() in _RESERVED:
        raise Unsupported(f"reserved word {word}")
    return word


# A parsed condition: ("or", [..]) | ("and", [..]) | ("paren", node) | ("exists", path, bool)
# | ("cmp", op, a, b)
# where a path is ("name", "#x") or ("attr", "x") and an operand may be ("value", ":v").
Node = Tuple[Any, ...]


class _Parser:
    def __init__(self, tokens: Sequence[Tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Optional[Tuple[str, str]]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Tuple[str, str]:
        token = self.peek()
        if token is None:
            raise Unsupported("unexpected end")
        self.i += 1
        return token

    def expect(self, kind: str, text: str) -> None:
        if self.take() != (kind, text):
            raise Unsupported(f"expected {text}")

    def at_word(self, word: str) -> bool:
        return self.peek() == ("word", word)

    # condition := term (OR term)* ; term := factor (AND factor)*
    def condition(self) -> Node:
        return self._joined("OR", self.term)

    def term(self) -> Node:
        return self._joined("AND", self.factor)

    def _joined(self, word: str, part: Callable[[], Node]) -> Node:
        """``part (word part)*``: one part as is, several as (``word`` lower-cased, parts)."""
        parts = [part()]
        while self.at_word(word):
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else (word.lower(), parts)

    def factor(self) -> Node:
        token = self.peek()
        if token == ("op", "("):
            self.take()
            inner = self.condition()
            self.expect("op", ")")
            if inner[0] == "paren":  # "((x))": an error in DynamoDB and moto
                raise Unsupported("redundant parentheses")
            return ("paren", inner)
        if token in (("word", "attribute_exists"), ("word", "attribute_not_exists")):
            self.take()
            self.expect("op", "(")
            path = self.path()
            self.expect("op", ")")
            return ("exists", path, token[1] == "attribute_exists")
        left = self.operand()
        kind, op = self.take()
        if kind != "op" or op not in _COMPARATORS:
            raise Unsupported(f"operator {op}")
        right = self.operand()
        return ("cmp", op, left, right)

    def path(self) -> Node:
        kind, text = self.take()
        if kind == "name":
            return ("name", text)
        if kind == "word":
            return ("attr", _plain_name(text))
        raise Unsupported("path expected")

    def operand(self) -> Node:
        token = self.peek()
        if token is not None and token[0] == "value":
            self.take()
            return ("value", token[1])
        return self.path()

    def done(self) -> None:
        if self.peek() is not None:
            raise Unsupported("trailing tokens")


def parse_condition(expression: str) -> Node:
    parser = _Parser(_tokens(expression))
    node = parser.condition()
    parser.done()
    return node


# A parsed update: list of ("SET"|"ADD", path, ":value").
Action = Tuple[str, Node, str]


def parse_update(expression: str) -> List[Action]:
    parser = _Parser(_tokens(expression))
    actions: List[Action] = []
    seen_clauses: Set[str] = set()
    while parser.peek() is not None:
        kind, clause = parser.take()
        if kind != "word" or clause not in ("SET", "ADD") or clause in seen_clauses:
            raise Unsupported(f"clause {clause}")
        seen_clauses.add(clause)
        while True:
            path = parser.path()
            if clause == "SET":
                parser.expect("op", "=")
            value_kind, value = parser.take()
            if value_kind != "value":
                raise Unsupported("only placeholders as update values")
            actions.append((clause, path, value))
            if parser.peek() == ("op", ","):
                parser.take()
                continue
            break
    if not actions:
        raise Unsupported("empty update")
    return actions


_CACHE_LIMIT = 1024


class _Cache:
    """Parsed expressions by text (the same few texts repeat on every request)."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self._parse = parse
        self._entries: Dict[str, Any] = {}

    def __call__(self, expression: str) -> Any:
        try:
            found = self._entries[expression]
        except KeyError:
            try:
                found = self._parse(expression)
            except Unsupported as exc:
                found = exc
            if len(self._entries) >= _CACHE_LIMIT:
                self._entries.clear()
            self._entries[expression] = found
        if isinstance(found, Unsupported):
            raise found
        return found


conditions = _Cache(parse_condition)
updates = _Cache(parse_update)


def _placeholders(node: Any, names: Set[str], values: Set[str]) -> None:
    if isinstance(node, tuple):
        if node and node[0] == "name":
            names.add(node[1])
            return
        if node and node[0] == "value":
            values.add(node[1])
            return
        for part in node:
            _placeholders(part, names, values)
    elif isinstance(node, list):
        for part in node:
            _placeholders(part, names, values)


class Expressions:
    """The placeholders of one request, resolved; every one must be used (as DynamoDB demands)."""

    def __init__(self, request: Dict[str, Any], condition: Any, update: Any = None) -> None:
        names = request.get("ExpressionAttributeNames")
        values = request.get("ExpressionAttributeValues")
        if names == {} or values == {}:
            raise Unsupported("empty placeholder maps are errors")
        self.names: Dict[str, str] = names or {}
        self.values: Dict[str, Any] = values or {}
        used_names: Set[str] = set()
        used_values: Set[str] = set()
        _placeholders(condition, used_names, used_values)
        for action in update or ():
            _placeholders(action[1], used_names, used_values)
            used_values.add(action[2])
        if used_names != set(self.names) or used_values != set(self.values):
            raise Unsupported("unused or undefined placeholders")
        for value in self.values.values():
            _scalar_or_fail(value)

    def attribute(self, path: Node) -> str:
        return self.names[path[1]] if path[0] == "name" else path[1]


def _scalar_or_fail(value: Any) -> Tuple[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise Unsupported("malformed attribute value")
    ((kind, inner),) = value.items()
    if kind == "S" and isinstance(inner, str):
        return kind, inner
    if kind == "N" and isinstance(inner, str):
        try:
            if not Decimal(inner).is_finite():
                raise Unsupported("number")
        except InvalidOperation:
            raise Unsupported("number") from None
        return kind, inner
    if kind == "BOOL" and isinstance(inner, bool):
        return kind, inner
    if kind == "NULL" and inner is True:
        return kind, inner
    raise Unsupported(f"attribute type {kind}")


def holds(node: Node, item: Any, expressions: Expressions) -> bool:
    """True only if the condition certainly holds for ``item`` (a moto Item or None)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    tag = node[0]
    if tag == "paren":
        return holds(node[1], item, expressions)
    if tag == "or":
        return any(holds(part, item, expressions) for part in node[1])
    if tag == "and":
        return all(holds(part, item, expressions) for part in node[1])
    if tag == "exists":
        present = item is not None and expressions.attribute(node[1]) in item.attrs
        return present if node[2] else not present
    _, op, left, right = node
    operands = []
    for operand in (left, right):
        if operand[0] == "value":
            raw = expressions.values[operand[1]]
            operands.append(DynamoType(raw))
        else:
            if item is None:
                return False
            found = item.attrs.get(expressions.attribute(operand))
            if found is None:
                return False
            operands.append(found)
    a, b = operands
    if a.type != b.type or a.type not in _SCALARS:
        # DynamoDB says "false"; moto raises for some of these: let it answer.
        raise Unsupported("comparison of mixed or non-scalar types")
    if op == "=":
        return bool(a == b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


# --- requests against moto's backend --------------------------------------------------------


def _only(request: Dict[str, Any], allowed: Iterable[str]) -> None:
    extra = set(request) - set(allowed)
    if extra:
        raise Unsupported(f"parameters {sorted(extra)}")


def _none_or(request: Dict[str, Any], name: str, allowed: Sequence[str] = ("NONE",)) -> None:
    if name in request and request[name] not in allowed:
        raise Unsupported(f"{name}={request[name]}")


def _table(backend: Any, name: Any) -> Any:
    if not isinstance(name, str):
        raise Unsupported("table name")
    table = backend.tables.get(name)
    if table is None:
        raise Unsupported("unknown table (moto's error)")
    return table


def _key_of(table: Any, attrs: Dict[str, Any], exact: bool) -> Tuple[Any, Any]:
    """(hash, range) DynamoTypes for a Key (``exact``) or an item's key attributes."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if exact and set(attrs) != set(names):
        raise Unsupported("key attributes")
    key_types = [table.hash_key_type] + ([table.range_key_type] if table.range_key_attr else [])
    parts = []
    for name, wanted in zip(names, key_types):
        value = attrs.get(name)
        if not isinstance(value, dict) or len(value) != 1:
            raise Unsupported("key value")
        ((kind, inner),) = value.items()
        if kind != wanted or kind not in _SCALARS or not isinstance(inner, str) or inner == "":
            raise Unsupported("key type")
        parts.append(DynamoType(value))
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _index_attributes(table: Any) -> Set[str]:
    names = {table.hash_key_attr}
    if table.range_key_attr:
        names.add(table.range_key_attr)
    for index in list(table.global_indexes or []) + list(table.indexes or []):
        for part in index.schema:
            names.add(part["AttributeName"])
    return names


def _current(table: Any, hash_key: Any, range_key: Any) -> Any:
    rows = table.items.get(hash_key)
    if rows is None:
        return None
    if range_key is None:
        return rows
    return rows.get(range_key)


def new_item(hash_key: Any, range_key: Any, attrs: Dict[str, Any]) -> Any:
    """A moto Item, validated as moto validates it, in time linear in its attributes.

    moto's constructor re-measures the whole item on every attribute it adds
    (quadratic); the limit it enforces depends only on the final total.
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    values = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in values.items()) > MAX_ITEM_BYTES:
        raise ItemSizeTooLarge
    item = Item.__new__(Item)
    item.hash_key = hash_key
    item.range_key = range_key
    stored = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(stored, values)
    item.attrs = stored
    return item


class _Write:
    """One planned write: checked completely before anything is applied."""

    def __init__(self, table: Any, hash_key: Any, range_key: Any, current: Any, item: Any):
        self.table, self.hash_key, self.range_key = table, hash_key, range_key
        self.current, self.item = current, item

    def apply(self) -> None:
        # What moto's Table.put_item does once its checks have passed.
        table = self.table
        if self.range_key is not None:
            table.items[self.hash_key][self.range_key] = self.item
        else:
            table.items[self.hash_key] = self.item
        if table.stream_shard is not None:
            table.stream_shard.add(self.current, self.item)


def _validated_put_item(table: Any, attrs: Dict[str, Any]) -> None:
    from moto.dynamodb.responses import (
        validate_put_has_empty_attrs,
        validate_put_has_empty_keys,
        validate_put_has_gsi_keys_set_to_none,
    )

    if not isinstance(attrs, dict):
        raise Unsupported("item")
    for value in attrs.values():
        _scalar_or_fail(value)
    try:
        validate_put_has_empty_keys(attrs, table)
        validate_put_has_empty_attrs(attrs, table)
        validate_put_has_gsi_keys_set_to_none(attrs, table)
        table._validate_item_types(attrs)
        table._validate_key_sizes(attrs)
    except Exception as exc:
        raise Unsupported(f"invalid item: {exc!r}") from None


def plan_put(backend: Any, request: Dict[str, Any]) -> _Write:
    table = _table(backend, request.get("TableName"))
    attrs = request.get("Item")
    _validated_put_item(table, attrs)
    hash_key, range_key = _key_of(table, attrs, exact=False)
    current = _current(table, hash_key, range_key)
    expression = request.get("ConditionExpression")
    if expression is not None:
        node = conditions(expression)
        if not holds(node, current, Expressions(request, node)):
            raise Unsupported("condition does not hold (moto reports it)")
    elif "ExpressionAttributeNames" in request or "ExpressionAttributeValues" in request:
        raise Unsupported("placeholders without an expression")
    return _write_of(table, hash_key, range_key, current, attrs)


def _write_of(
    table: Any, hash_key: Any, range_key: Any, current: Any, attrs: Dict[str, Any]
) -> _Write:
    """The write of ``attrs`` as the item's new state (moto's item, size-checked)."""
    try:
        item = new_item(hash_key, range_key, attrs)
    except Exception:
        raise Unsupported("item too large") from None
    return _Write(table, hash_key, range_key, current, item)


def plan_update(backend: Any, request: Dict[str, Any]) -> _Write:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _table(backend, request.get("TableName"))
    key = request.get("Key")
    if not isinstance(key, dict):
        raise Unsupported("key")
    hash_key, range_key = _key_of(table, key, exact=True)
    current = _current(table, hash_key, range_key)
    if current is None:
        # moto writes an extra key-only INSERT for an update that creates its item.
        raise Unsupported("update of a missing item")
    expression = request.get("UpdateExpression")
    if not isinstance(expression, str):
        raise Unsupported("update expression")
    actions = updates(expression)
    condition_text = request.get("ConditionExpression")
    condition = conditions(condition_text) if condition_text is not None else None
    expressions = Expressions(request, condition, actions)
    if condition is not None and not holds(condition, current, expressions):
        raise Unsupported("condition does not hold (moto reports it)")
    protected = _index_attributes(table)
    # A copy of the current attributes: the old item stays as the stream's old image.
    attrs = json.loads(json.dumps(current.to_json()["Attributes"]))
    targets: Set[str] = set()
    for clause, path, placeholder in actions:
        name = expressions.attribute(path)
        if name in protected or name in targets:
            raise Unsupported(f"update of {name}")
        targets.add(name)
        value = expressions.values[placeholder]
        if clause == "SET":
            attrs[name] = value
            continue
        # ADD of a number, with moto's arithmetic; a missing attribute counts as 0.
        if next(iter(value)) != "N":
            raise Unsupported("ADD of a non-number")
        existing = attrs.get(name, {"N": "0"})
        if next(iter(existing)) != "N":
            raise Unsupported("ADD to a non-number")
        attrs[name] = (DynamoType(existing) + DynamoType(value)).to_json()
    for value in attrs.values():
        if next(iter(value)) not in ("S", "N", "BOOL", "NULL"):
            raise Unsupported("item holds non-scalar values")
    return _write_of(table, hash_key, range_key, current, attrs)


_CONDITIONAL_PARAMETERS = (
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValuesOnConditionCheckFailure",
)
#: What a single-item write may add to its transaction form.
_SINGLE_ITEM_RETURNS = ("ReturnValues", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics")
_TRANSACT_PUT_PARAMETERS = ("TableName", "Item", *_CONDITIONAL_PARAMETERS)
_TRANSACT_UPDATE_PARAMETERS = ("TableName", "Key", "UpdateExpression", *_CONDITIONAL_PARAMETERS)
_PUT_PARAMETERS = (*_TRANSACT_PUT_PARAMETERS, *_SINGLE_ITEM_RETURNS)
_UPDATE_PARAMETERS = (*_TRANSACT_UPDATE_PARAMETERS, *_SINGLE_ITEM_RETURNS)
_CONDITION_FAILURE_RETURNS = ("NONE", "ALL_OLD")


def get_item(backend: Any, request: Dict[str, Any]) -> Dict[str, Any]:
    _only(request, ("TableName", "Key", "ConsistentRead", "ReturnConsumedCapacity"))
    _none_or(request, "ReturnConsumedCapacity")
    if not isinstance(request.get("ConsistentRead", False), bool):
        raise Unsupported("ConsistentRead")
    table = _table(backend, request.get("TableName"))
    key = request.get("Key")
    if not isinstance(key, dict):
        raise Unsupported("key")
    item = _current(table, *_key_of(table, key, exact=True))
    if item is None:
        return {}
    from todo_local.moto_server import _NotPlain, _plain

    try:
        # Binary values need the model-driven serializer (base64): moto's job.
        return {"Item": _plain(item.to_json()["Attributes"])}
    except _NotPlain:
        raise Unsupported("binary values") from None


def put_item(backend: Any, request: Dict[str, Any]) -> Dict[str, Any]:
    _only(request, _PUT_PARAMETERS)
    for name in _SINGLE_ITEM_RETURNS:
        _none_or(request, name)
    _none_or(request, "ReturnValuesOnConditionCheckFailure", _CONDITION_FAILURE_RETURNS)
    plan_put(backend, request).apply()
    return {}


def update_item(backend: Any, request: Dict[str, Any]) -> Dict[str, Any]:
    _only(request, _UPDATE_PARAMETERS)
    for name in _SINGLE_ITEM_RETURNS:
        _none_or(request, name)
    _none_or(request, "ReturnValuesOnConditionCheckFailure", _CONDITION_FAILURE_RETURNS)
    write = plan_update(backend, request)
    write.apply()
    # moto reports the capacity of every update, asked for or not.
    return {"ConsumedCapacity": {"TableName": request["TableName"], "CapacityUnits": 0.5}}


def transact_write_items(backend: Any, request: Dict[str, Any]) -> Dict[str, Any]:
    # boto3 always sends a ClientRequestToken; moto ignores it, and so does this path.
    _only(
        request,
        (
            "TransactItems",
            "ClientRequestToken",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
        ),
    )
    _none_or(request, "ReturnConsumedCapacity")
    _none_or(request, "ReturnItemCollectionMetrics")
    entries = request.get("TransactItems")
    if not isinstance(entries, list) or not 1 <= len(entries) <= 100:
        raise Unsupported("transaction size")
    # Every check before any write: all or nothing, as DynamoDB applies a transaction.
    plans: List[_Write] = []
    targets: Set[Tuple[int, Any, Any]] = set()
    for entry in entries:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise Unsupported("transaction entry")
        ((kind, op),) = entry.items()
        if not isinstance(op, dict):
            raise Unsupported("transaction entry")
        if kind not in _TRANSACT_PLANS:
            raise Unsupported(f"transaction {kind}")
        parameters, plan = _TRANSACT_PLANS[kind]
        _only(op, parameters)
        _none_or(op, "ReturnValuesOnConditionCheckFailure", _CONDITION_FAILURE_RETURNS)
        write = plan(backend, op)
        identity = (id(write.table), write.hash_key, write.range_key)
        if identity in targets:
            raise Unsupported("two operations on one item (moto's error)")
        targets.add(identity)
        plans.append(write)
    for write in plans:
        write.apply()
    return {"ConsumedCapacity": [], "ItemCollectionMetrics": {}}


_TRANSACT_PLANS: Dict[str, Tuple[Tuple[str, ...], Callable[[Any, Dict[str, Any]], Any]]] = {
    "Put": (_TRANSACT_PUT_PARAMETERS, plan_put),
    "Update": (_TRANSACT_UPDATE_PARAMETERS, plan_update),
}

OPERATIONS: Dict[str, Callable[[Any, Dict[str, Any]], Dict[str, Any]]] = {
    "GetItem": get_item,
    "PutItem": put_item,
    "UpdateItem": update_item,
    "TransactWriteItems": transact_write_items,
}


# --- the WSGI layer ----------------------------------------------------------------------------


def _backend(environ: Dict[str, Any]) -> Any:
    """moto's DynamoDB backend for this request's account and region, as moto resolves them."""
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import dynamodb_backends
    from moto.iam.models import get_account_id_from

    host = environ.get("HTTP_HOST", "")
    agent = environ.get("HTTP_USER_AGENT", "")
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if (
        BaseResponse.region_regex.search(host)
        or BaseResponse.region_from_useragent_regex.search(agent)
        or "AWS4" not in authorization
        or "MOTO_ACCOUNT_ID" in os.environ
        or "HTTP_X_MOTO_ACCOUNT_ID" in environ
    ):
        raise Unsupported("region or account resolved another way")
    region = authorization.split(",")[0].split("/")[2]
    match = BaseResponse.access_key_regex.search(authorization)
    # moto's own fallback when the key is not an AWS-shaped one ("testing").
    account = get_account_id_from(match.group(1) if match else "AKIAEXAMPLE")
    if account not in dynamodb_backends or region not in dynamodb_backends[account]:
        raise Unsupported("no backend yet")
    return dynamodb_backends[account][region]


class FastDynamoDB:
    """WSGI middleware: the subset above answered directly, everything else by ``app``."""

    def __init__(self, app: Callable[[Any, Any], Iterable[bytes]]) -> None:
        self._app = app
        self.answered = 0
        self.passed_on = 0

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = (
            OPERATIONS.get(target[len(TARGET_PREFIX) :])
            if target.startswith(TARGET_PREFIX)
            else None
        )
        if operation is None or environ.get("REQUEST_METHOD") != "POST":
            return self._app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._app(environ, start_response)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        # moto reads the body again if the request is handed on.
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            if environ.get("HTTP_CONTENT_ENCODING") or environ.get("CONTENT_ENCODING"):
                raise Unsupported("encoded body")
            request = json.loads(body)
            if not isinstance(request, dict):
                raise Unsupported("body")
            result = operation(_backend(environ), request)
        except (Unsupported, ValueError, KeyError, TypeError, AttributeError):
            self.passed_on += 1
            return self._app(environ, start_response)
        self.answered += 1
        payload = json.dumps(result).encode("utf-8")
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("server", "amazon.com"),
                ("x-amzn-requestid", os.urandom(26).hex()[:52]),
                # botocore checks it for DynamoDB responses.
                ("x-amz-crc32", str(zlib.crc32(payload) & 0xFFFFFFFF)),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0"
