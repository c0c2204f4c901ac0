"""``patches.patch_transaction_backup``: transactions back up only what they touch.

moto deep-copies every table a ``TransactWriteItems`` names; the patch backs
up the touched items and the stream's length instead. The product's request
shapes and their failures (in-flight idempotency records, stale versions
cancelling a transaction, the same item twice, validation errors) must give
the same responses, items and stream records with the patch as with moto's
own code, and no table is ever copied.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from requests_scenario import client, create_table, key, reset, run_scenario

from todo_emulator import patches


def test_the_products_requests_answer_exactly_as_with_moto_alone(
    server: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    patched_outcomes, patched_state = run_scenario(server["port"])
    with monkeypatch.context() as stock:
        stock.setattr(
            DynamoDBBackend, "transact_write_items",
            DynamoDBBackend.transact_write_items.__wrapped__,
        )
        stock_outcomes, stock_state = run_scenario(server["port"])

    assert len(patched_outcomes) == len(stock_outcomes)
    for i, (got, want) in enumerate(zip(patched_outcomes, stock_outcomes)):
        assert got == want, f"request {i}"
    assert patched_state["items"] == stock_state["items"]
    assert patched_state["stream"] == stock_state["stream"]
    codes = {o["Error"]["Code"] for kind, o in stock_outcomes if kind == "error"}
    assert {"ConditionalCheckFailedException", "TransactionCanceledException",
            "ValidationException"} <= codes


def test_the_scenarios_outcomes_are_the_expected_ones(server: Dict[str, Any]) -> None:
    outcomes, state = run_scenario(server["port"])
    kinds = [kind for kind, _ in outcomes]
    # in flight (the API answers 409), expired (taken over), completed (replayed upstream)
    assert kinds[:5] == ["ok", "error", "ok", "ok", "error"]
    assert kinds[5:13] == ["ok", "ok", "ok", "error", "error", "error", "error", "error"]
    cancelled = outcomes[8][1]
    assert [r["Code"] for r in cancelled["CancellationReasons"]] == [
        "ConditionalCheckFailed", "None"
    ]
    stats = next(i for i in state["items"] if i["PK"]["S"] == "STATS#0")
    assert stats["tasks"] == {"N": "0.5"}
    assert stats["completed"] == {"N": "3"}
    task = next(i for i in state["items"] if i["PK"]["S"] == "TASK#1")
    assert task["version"] == {"N": "2"}


def test_no_table_is_copied(server: Dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    reset(server["port"])
    ddb = client(server["port"])
    create_table(ddb)
    for i in range(20):
        ddb.put_item(TableName="emulator-tests", Item={**key(f"ITEM#{i}"), "n": {"N": "0"}})

    def refuse(self: Table, memo: Any) -> Table:
        raise AssertionError("a whole table was deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "emulator-tests", "Key": key("ITEM#1"),
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    assert ddb.get_item(TableName="emulator-tests", Key=key("ITEM#1"))["Item"]["n"] == {"N": "1"}


def test_applying_twice_is_harmless() -> None:
    patched = DynamoDBBackend.transact_write_items
    patches.patch_transaction_backup()
    assert DynamoDBBackend.transact_write_items is patched
