"""AWS Lambda entry point (``todo_api.handler.lambda_handler``).

Thin on purpose: build the app once per container, let Mangum translate API
Gateway HTTP API (v2) events to ASGI. AWS clients, Powertools idempotency
and the JWKS client are created by the first request that needs them.
"""

from __future__ import annotations

from typing import Any, Dict

from mangum import Mangum

from todo_api.app import create_app
from todo_api.settings import load_settings

# A missing or invalid variable fails the init phase here, with one message.
settings = load_settings()
app = create_app(settings)
# The stage prefix (e.g. /prod) is stripped before routing, and restored as
# root_path for /docs and Location headers.
_mangum = Mangum(app, lifespan="off", api_gateway_base_path=settings.api_base_path or "/")


def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    return _mangum(event, context)
