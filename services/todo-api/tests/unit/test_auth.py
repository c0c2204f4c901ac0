"""Token verification: every way a token can be wrong is a 401 reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from tests.conftest import UNIT_CLIENT, UNIT_ISSUER, UNIT_KID, Keys, StaticJwks, TokenFactory
from todo_api.auth import (
    AuthError,
    JwtVerifier,
    KeySetUnavailable,
    apigateway_claims,
    bearer_token,
    principal_from_claims,
)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_id_token_gives_the_subject_and_profile_claims(
    verifier: JwtVerifier, tokens: TokenFactory
) -> None:
    principal = verifier.verify(tokens.token(sub="user-1"))
    assert principal.user_id == "user-1"
    assert principal.token_use == "id"
    assert (principal.email, principal.given_name, principal.family_name) == (
        "unit@example.com",
        "Unit",
        "Test",
    )


def test_valid_access_token_is_accepted(verifier: JwtVerifier, tokens: TokenFactory) -> None:
    principal = verifier.verify(tokens.token("access", sub="user-2"))
    assert (principal.user_id, principal.token_use, principal.email) == ("user-2", "access", None)


@pytest.mark.parametrize(
    ("token_use", "claims", "reason"),
    [
        ("id", {"exp": int(time.time()) - 3600}, "expired"),
        ("id", {"nbf": int(time.time()) + 3600}, "not valid yet"),
        ("id", {"aud": "another-client"}, "another client"),
        ("access", {"client_id": "another-client"}, "another client"),
        (
            "id",
            {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"},
            "another issuer",
        ),
        ("id", {"token_use": "refresh"}, "token_use"),
        ("id", {"token_use": None}, "token_use"),
        ("id", {"exp": None}, "'exp'"),
        ("id", {"sub": ""}, "subject"),
    ],
)
def test_claims_that_must_be_refused(
    verifier: JwtVerifier, tokens: TokenFactory, token_use: str, claims: dict, reason: str
) -> None:
    with pytest.raises(AuthError, match=reason):
        verifier.verify(tokens.token(token_use, **claims))


def test_small_clock_skew_is_tolerated(verifier: JwtVerifier, tokens: TokenFactory) -> None:
    now = int(time.time())
    verifier.verify(tokens.token(exp=now - 5, nbf=now + 5, iat=now + 5))


def test_forged_signature_is_refused(
    verifier: JwtVerifier, tokens: TokenFactory, keys: Keys
) -> None:
    # Right kid, right claims, signed with a key the pool never published.
    with pytest.raises(AuthError, match="signature"):
        verifier.verify(tokens.token(key=keys.attacker))


def test_tampered_payload_is_refused(verifier: JwtVerifier, tokens: TokenFactory) -> None:
    header, payload, signature = tokens.token(sub="victim").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "attacker"
    with pytest.raises(AuthError, match="signature"):
        verifier.verify(".".join([header, _b64(claims), signature]))


def test_alg_none_is_refused(verifier: JwtVerifier, tokens: TokenFactory) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': UNIT_KID})}.{_b64(tokens.claims())}."
    with pytest.raises(AuthError, match="algorithm"):
        verifier.verify(unsigned)


def test_hmac_with_the_public_key_is_refused(
    verifier: JwtVerifier, tokens: TokenFactory, jwks: StaticJwks
) -> None:
    # The classic algorithm-confusion attack: HS256 keyed with the public JWK.
    secret = json.dumps(jwks.published[0]).encode()
    signing_input = (
        f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': UNIT_KID})}.{_b64(tokens.claims())}"
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="algorithm"):
        verifier.verify(forged)


@pytest.mark.parametrize("algorithm", ["RS512", "PS256"])
def test_other_rsa_algorithms_are_refused(
    verifier: JwtVerifier, tokens: TokenFactory, algorithm: str
) -> None:
    with pytest.raises(AuthError, match="algorithm"):
        verifier.verify(tokens.token(algorithm=algorithm))


@pytest.mark.parametrize(
    "garbage", ["", "abc", "a.b.c", "a.b", "....", "eyJhbGciOiJSUzI1NiJ9.e30.x"]
)
def test_malformed_tokens_are_refused(verifier: JwtVerifier, garbage: str) -> None:
    with pytest.raises(AuthError):
        verifier.verify(garbage)


def test_missing_kid_is_refused(verifier: JwtVerifier, tokens: TokenFactory, keys: Keys) -> None:
    token = jwt.encode(tokens.claims(), keys.signing, algorithm="RS256")
    with pytest.raises(AuthError, match="key id"):
        verifier.verify(token)


def test_unknown_kid_refetches_the_key_set_once(tokens: TokenFactory, keys: Keys) -> None:
    jwks = StaticJwks([Keys.jwk(keys.signing, UNIT_KID)], cooldown=0)
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json", UNIT_ISSUER, UNIT_CLIENT, jwks_client=jwks
    )
    verifier.verify(tokens.token())
    assert jwks.fetches == 1
    # A kid nobody published: exactly one refetch, then 401.
    with pytest.raises(AuthError, match="unknown key"):
        verifier.verify(tokens.token(kid="never-published"))
    assert jwks.fetches == 2


def test_key_rotation_is_picked_up_by_the_refetch(tokens: TokenFactory, keys: Keys) -> None:
    jwks = StaticJwks([Keys.jwk(keys.signing, UNIT_KID)], cooldown=0)
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json", UNIT_ISSUER, UNIT_CLIENT, jwks_client=jwks
    )
    verifier.verify(tokens.token())
    jwks.published.append(Keys.jwk(keys.rotated, "rotated-key"))
    principal = verifier.verify(
        tokens.token(key=keys.rotated, kid="rotated-key", sub="after-rotation")
    )
    assert principal.user_id == "after-rotation"
    assert jwks.fetches == 2


def test_refetch_cooldown_bounds_fetches_for_forged_kids(tokens: TokenFactory, keys: Keys) -> None:
    jwks = StaticJwks([Keys.jwk(keys.signing, UNIT_KID)], cooldown=60)
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json", UNIT_ISSUER, UNIT_CLIENT, jwks_client=jwks
    )
    for n in range(5):
        with pytest.raises(AuthError):
            verifier.verify(tokens.token(kid=f"forged-{n}"))
    assert jwks.fetches == 1


def test_unreachable_key_set_is_not_the_callers_fault(tokens: TokenFactory) -> None:
    class Down(StaticJwks):
        def fetch_data(self) -> None:
            raise jwt.PyJWKClientConnectionError("connection refused")

    verifier = JwtVerifier(
        "https://x.invalid/jwks.json", UNIT_ISSUER, UNIT_CLIENT, jwks_client=Down([])
    )
    with pytest.raises(KeySetUnavailable):
        verifier.verify(tokens.token())


def test_verified_tokens_are_cached_but_expiry_is_rechecked(
    tokens: TokenFactory, jwks: StaticJwks
) -> None:
    clock = [time.time()]
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json",
        UNIT_ISSUER,
        UNIT_CLIENT,
        jwks_client=jwks,
        leeway_seconds=0,
        clock=lambda: clock[0],
    )
    token = tokens.token(exp=int(clock[0]) + 60)
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    clock[0] += 120
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("header", "present"),
    [(None, False), ("", False), ("Basic abc", False), ("Bearer", False), ("Bearer   ", False)],
)
def test_authorization_header_shapes(header: str, present: bool) -> None:
    with pytest.raises(AuthError) as info:
        bearer_token(header)
    assert info.value.token_present is present
    assert info.value.www_authenticate.startswith("Bearer")


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc.def.ghi") == "abc.def.ghi"


def test_api_gateway_claims_still_check_token_use_and_client() -> None:
    base = {"sub": "u", "exp": "1795640235"}
    assert (
        principal_from_claims({**base, "token_use": "id", "aud": UNIT_CLIENT}, UNIT_CLIENT).user_id
        == "u"
    )
    assert (
        principal_from_claims(
            {**base, "token_use": "access", "client_id": UNIT_CLIENT}, UNIT_CLIENT
        ).user_id
        == "u"
    )
    # API Gateway renders list claims as "[a b]".
    assert principal_from_claims(
        {**base, "token_use": "id", "aud": f"[other {UNIT_CLIENT}]"}, UNIT_CLIENT
    )
    for bad in (
        {**base, "token_use": "refresh", "aud": UNIT_CLIENT},
        {**base, "token_use": "id", "aud": "other"},
        {**base, "token_use": "access", "client_id": "other"},
        {"token_use": "id", "aud": UNIT_CLIENT},
    ):
        with pytest.raises(AuthError):
            principal_from_claims(bad, UNIT_CLIENT)


def test_api_gateway_claims_are_read_from_the_request_context() -> None:
    event = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "x"}, "scopes": None}}}}
    assert apigateway_claims(event) == (True, {"sub": "x"})
    assert apigateway_claims({"requestContext": {}}) == (False, {})
    assert apigateway_claims(None) == (False, {})
