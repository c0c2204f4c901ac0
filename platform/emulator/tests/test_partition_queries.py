"""A base-table Query reads only its partition, with exactly moto's results.

The emulator hands moto's query code the named partition instead of the
whole table (``patches.patch_partition_queries``). For any set of items and any
query the product's kind of code makes (key conditions, sort-key ranges,
direction, limits and pagination, filters, counts, index queries that must
keep moto's own path) the answers with the change on and off are the same.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.dynamodb.models.table import Table
from requests_scenario import TABLE, client, create_table, reset

PARTITIONS = ("P1", "P2", "P3")
SORT_KEYS = ("A", "B", "C", "D", "E")


items_strategy = st.lists(
    st.tuples(
        st.sampled_from(PARTITIONS),
        st.sampled_from(SORT_KEYS),
        st.integers(0, 3),
        st.sampled_from(("g1", "g2", None)),
    ),
    max_size=14,
    unique_by=lambda t: (t[0], t[1]),
)
query_strategy = st.fixed_dictionaries(
    {
        "partition": st.sampled_from((*PARTITIONS, "P-missing")),
        "sort": st.sampled_from((None, ("begins_with", "B"), (">", "B"), ("between", "B", "D"))),
        "forward": st.booleans(),
        "limit": st.sampled_from((None, 1, 2)),
        "filter": st.booleans(),
        "count": st.booleans(),
    }
)


def _put(ddb: Any, items: List[Tuple[str, str, int, Any]]) -> None:
    for pk, sk, n, g1 in items:
        item: Dict[str, Any] = {"PK": {"S": pk}, "SK": {"S": sk}, "n": {"N": str(n)}}
        if g1 is not None:
            item["G1"] = {"S": g1}
        ddb.put_item(TableName=TABLE, Item=item)


def _query_all(ddb: Any, query: Dict[str, Any]) -> List[Any]:
    """Every page of the query, as (items or count, last key) per page."""
    condition = "PK = :p"
    values: Dict[str, Any] = {":p": {"S": query["partition"]}}
    sort = query["sort"]
    if sort and sort[0] == "begins_with":
        condition += " AND begins_with(SK, :s)"
        values[":s"] = {"S": sort[1]}
    elif sort and sort[0] == ">":
        condition += " AND SK > :s"
        values[":s"] = {"S": sort[1]}
    elif sort:
        condition += " AND SK BETWEEN :s AND :t"
        values.update({":s": {"S": sort[1]}, ":t": {"S": sort[2]}})
    params: Dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": query["forward"],
    }
    if query["limit"]:
        params["Limit"] = query["limit"]
    if query["filter"]:
        params["FilterExpression"] = "n >= :min"
        values[":min"] = {"N": "1"}
    if query["count"]:
        params["Select"] = "COUNT"
    pages: List[Any] = []
    while True:
        page = ddb.query(**params)
        pages.append(
            (
                page.get("Items"),
                page["Count"],
                page["ScannedCount"],
                page.get("LastEvaluatedKey"),
            )
        )
        if "LastEvaluatedKey" not in page or len(pages) > 20:
            return pages
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _index_query(ddb: Any, g1: str) -> List[Any]:
    page = ddb.query(
        TableName=TABLE,
        IndexName="gsi1",
        KeyConditionExpression="G1 = :g",
        ExpressionAttributeValues={":g": {"S": g1}},
    )
    return sorted((i["PK"]["S"], i["SK"]["S"]) for i in page["Items"])


@settings(
    max_examples=25,
    deadline=None,
)
@given(items=items_strategy, queries=st.lists(query_strategy, min_size=1, max_size=4))
def test_partition_reads_answer_exactly_as_moto(
    server: Dict[str, Any],
    items: List[Tuple[str, str, int, Any]],
    queries: List[Dict[str, Any]],
) -> None:
    reset(server["port"])
    ddb = client(server["port"])
    create_table(ddb)
    _put(ddb, items)
    answers = {}
    for on in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            if not on:
                patch.setattr(Table, "query", Table.query.__wrapped__)
            answers[on] = (
                [_query_all(ddb, q) for q in queries],
                [_index_query(ddb, g) for g in ("g1", "g2")],
            )
    assert answers[True] == answers[False]
    expected_g1 = sorted((pk, sk) for pk, sk, _, g in items if g == "g1")
    assert answers[True][1][0] == expected_g1, "index queries see every partition"


def test_a_base_table_query_reads_only_its_partition(
    server: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(server["port"])
    ddb = client(server["port"])
    create_table(ddb)
    _put(ddb, [("P1", "A", 1, "g1"), ("P2", "B", 2, None)])

    def whole_table(self: Table) -> Any:
        raise AssertionError("the whole table was listed for a base-table Query")

    monkeypatch.setattr(Table, "all_items", whole_table)
    pages = _query_all(ddb, {"partition": "P1", "sort": None, "forward": True, "limit": None,
                             "filter": False, "count": False})
    assert [[item["SK"]["S"] for item in page[0]] for page in pages] == [["A"]]
