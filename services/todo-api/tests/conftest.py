"""Shared test helpers: self-signed Cognito-like tokens, event fixtures, a unit app."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt import PyJWKClient
from jwt.algorithms import RSAAlgorithm

from tests.fakes import InMemoryRepository, in_memory_idempotency
from todo_api.app import create_app
from todo_api.auth import JwtVerifier
from todo_api.settings import Settings

EVENTS = Path(__file__).parent / "events"
UNIT_POOL = "us-east-1_UnitTest1"
UNIT_ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{UNIT_POOL}"
UNIT_CLIENT = "unit-test-client"
UNIT_KID = "unit-key-1"


def load_event(name: str, **values: str) -> Dict[str, Any]:
    """An API Gateway v2 event fixture, with ``{{name}}`` placeholders filled in."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)  # type: ignore[no-any-return]


class Keys:
    """RSA keys standing in for a Cognito pool's signing keys."""

    def __init__(self) -> None:
        self.signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @staticmethod
    def jwk(private_key: Any, kid: str) -> Dict[str, Any]:
        data = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
        data.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return data  # type: ignore[no-any-return]


class StaticJwks(PyJWKClient):
    """A JWKS client whose endpoint is a list in memory; counts fetches."""

    def __init__(self, keys: list, cooldown: float = 0.0) -> None:
        super().__init__("https://cognito-idp.invalid/jwks.json", cooldown_duration=cooldown)
        self.published = list(keys)
        self.fetches = 0

    def fetch_data(self) -> Any:
        self.fetches += 1
        self._last_successful_fetch = time.monotonic()
        data = {"keys": list(self.published)}
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data


class TokenFactory:
    def __init__(self, keys: Keys) -> None:
        self.keys = keys

    def claims(
        self, use: str = "id", sub: Optional[str] = None, **overrides: Any
    ) -> Dict[str, Any]:
        now = int(time.time())
        claims: Dict[str, Any] = {
            "sub": str(uuid.uuid4()) if sub is None else sub,
            "iss": UNIT_ISSUER,
            "token_use": use,
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
        }
        if use == "id":
            claims.update(
                {
                    "aud": UNIT_CLIENT,
                    "email": "unit@example.com",
                    "given_name": "Unit",
                    "family_name": "Test",
                }
            )
        else:
            claims.update({"client_id": UNIT_CLIENT, "scope": "aws.cognito.signin.user.admin"})
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self,
        use: str = "id",
        key: Any = None,
        kid: str = UNIT_KID,
        algorithm: str = "RS256",
        headers: Optional[Dict[str, Any]] = None,
        **claims: Any,
    ) -> str:
        return jwt.encode(
            self.claims(use, **claims),
            key if key is not None else self.keys.signing,
            algorithm=algorithm,
            headers={"kid": kid, **(headers or {})},
        )


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="session")
def tokens(keys: Keys) -> TokenFactory:
    return TokenFactory(keys)


@pytest.fixture
def jwks(keys: Keys) -> StaticJwks:
    return StaticJwks([Keys.jwk(keys.signing, UNIT_KID)])


@pytest.fixture
def verifier(jwks: StaticJwks) -> JwtVerifier:
    return JwtVerifier(
        "https://cognito-idp.invalid/jwks.json", UNIT_ISSUER, UNIT_CLIENT, jwks_client=jwks
    )


def unit_settings(**overrides: Any) -> Settings:
    values: Dict[str, Any] = {
        "stage": "unit",
        "table_name": "unit-table",
        "cursor_secret_id": "todo-app/unit/cursor-signing-key",
        "cognito_user_pool_id": UNIT_POOL,
        "cognito_client_id": UNIT_CLIENT,
        "cognito_issuer": UNIT_ISSUER,
        "blocking_io": "inline",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def repository() -> InMemoryRepository:
    return InMemoryRepository()


@pytest.fixture
def unit_client(repository: InMemoryRepository, verifier: JwtVerifier) -> Iterator[TestClient]:
    app = create_app(
        unit_settings(),
        tasks=repository,
        profiles=repository,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
