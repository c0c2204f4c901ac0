"""Write (or check) the committed OpenAPI document, services/todo-api/openapi.json.

    python scripts/export_openapi.py          # regenerate after changing the API
    python scripts/export_openapi.py --check  # exit 1 if the committed file is stale

Run it from services/todo-api with the package installed (any venv of the
workspace, e.g. ``uv run --package todo-api python scripts/export_openapi.py``).
``info.version`` follows the package version, so a release bump alone does not
make the document stale (tests/unit/test_openapi_contract.py ignores it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi.json"


def current_schema() -> Dict[str, Any]:
    from todo_api.app import create_app
    from todo_api.settings import Settings

    # Settings only affect behaviour, never the document: any valid ones do.
    names = ("table_name", "cursor_secret_id", "cognito_client_id", "cognito_user_pool_id")
    settings = Settings(**dict.fromkeys(names, "-"))
    return create_app(settings).openapi()


def render(schema: Dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, do not write")
    args = parser.parse_args()
    text = render(current_schema())
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT} is stale: run python scripts/export_openapi.py", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
