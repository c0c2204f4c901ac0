"""The committed openapi.json is the contract: the code must match it.

After an intended API change, regenerate it with
``python scripts/export_openapi.py`` (from services/todo-api) and commit it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict

from todo_api import problems

PACKAGE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PACKAGE / "scripts"))

from export_openapi import DOCUMENT, current_schema, render  # noqa: E402


def _without_version(schema: Dict[str, Any]) -> Dict[str, Any]:
    copy = json.loads(json.dumps(schema))
    copy["info"].pop("version", None)
    return copy


def test_committed_document_matches_the_code() -> None:
    committed = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert _without_version(committed) == _without_version(json.loads(render(current_schema()))), (
        "services/todo-api/openapi.json is stale: run python scripts/export_openapi.py"
    )


def test_every_error_response_is_problem_json() -> None:
    schema = current_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == [problems.PROBLEM_CONTENT_TYPE], (
                        path,
                        method,
                        status,
                    )
            if path.startswith("/api/"):
                assert operation["security"] == [{"bearerAuth": []}]
                assert "401" in operation["responses"]


def test_problem_types_are_stable_and_unique() -> None:
    uris = [p.uri for p in problems.ALL_TYPES]
    assert len(uris) == len(set(uris))
    assert all(u.startswith("tag:todo-api-with-insights,2025:problem:") for u in uris)
