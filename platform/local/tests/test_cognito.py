from __future__ import annotations

import jwt
import pytest

from todo_local.cognito import authenticate, create_user, stack_user_tokens
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_runbook_user_flow_gives_verifiable_tokens(local_stack: LocalStack) -> None:
    tokens = stack_user_tokens(local_stack, "runbook@example.com")
    keys = jwt.PyJWKClient(local_stack.jwks_url)
    for token, use in ((tokens.id_token, "id"), (tokens.access_token, "access")):
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=local_stack.issuer,
            options={"verify_aud": False},
        )
        assert claims["token_use"] == use
    id_claims = jwt.decode(tokens.id_token, options={"verify_signature": False})
    assert id_claims["aud"] == local_stack.user_pool_client_id
    assert id_claims["email"] == "runbook@example.com"


def test_creating_an_existing_user_is_harmless(local_stack: LocalStack) -> None:
    cognito = local_stack.client("cognito-idp")
    create_user(cognito, local_stack.user_pool_id, "twice@example.com")
    create_user(cognito, local_stack.user_pool_id, "twice@example.com", password="AnotherPass123!")
    tokens = authenticate(
        cognito,
        local_stack.user_pool_id,
        local_stack.user_pool_client_id,
        "twice@example.com",
        "AnotherPass123!",
    )
    assert tokens.id_token.count(".") == 2
