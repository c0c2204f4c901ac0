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


# --- what the client is told ------------------------------------------------------------------


def test_the_challenge_names_the_error_only_when_a_token_was_sent() -> None:
    """RFC 6750 section 3: no error code for a request without a token."""
    with pytest.raises(AuthError) as missing:
        bearer_token(None)
    assert missing.value.reason == "missing bearer token"
    assert missing.value.www_authenticate == 'Bearer realm="todo-api"'
    rejected = AuthError("the token has expired")
    assert rejected.token_present is True
    assert rejected.www_authenticate == (
        'Bearer realm="todo-api", error="invalid_token", error_description="the token has expired"'
    )


def test_a_header_that_is_not_a_bearer_token_says_what_is_expected() -> None:
    with pytest.raises(AuthError) as info:
        bearer_token("Basic abc")
    assert info.value.reason == "the Authorization header must be 'Bearer <token>'"
    assert bearer_token("  Bearer   abc.def.ghi  ") == "abc.def.ghi"


@pytest.mark.parametrize(
    ("token_use", "claims", "reason"),
    [
        ("id", {"exp": int(time.time()) - 3600}, "the token has expired"),
        ("id", {"nbf": int(time.time()) + 3600}, "the token is not valid yet"),
        ("id", {"aud": "another-client"}, "the token was issued to another client"),
        ("access", {"client_id": "another-client"}, "the token was issued to another client"),
        ("id", {"iss": "https://elsewhere.invalid"}, "the token was issued by another issuer"),
        ("id", {"token_use": "refresh"}, "token_use must be 'id' or 'access'"),
        ("id", {"exp": None}, "the token lacks the 'exp' claim"),
        ("id", {"iat": None}, "the token lacks the 'iat' claim"),
        ("id", {"sub": ""}, "the token has no subject"),
        ("id", {"iat": "yesterday"}, "the token is invalid"),
    ],
)
def test_each_refusal_has_its_own_reason(
    verifier: JwtVerifier, tokens: TokenFactory, token_use: str, claims: dict, reason: str
) -> None:
    """The reason is the challenge's error_description: it must say what was wrong."""
    with pytest.raises(AuthError) as info:
        verifier.verify(tokens.token(token_use, **claims))
    assert info.value.reason == reason


def test_header_refusals_have_their_own_reasons(
    verifier: JwtVerifier, tokens: TokenFactory, keys: Keys
) -> None:
    def reason(token: str) -> str:
        with pytest.raises(AuthError) as info:
            verifier.verify(token)
        return info.value.reason

    assert reason("abc") == "the token is not a well-formed JWT"
    assert reason(tokens.token(algorithm="RS512")) == "the token's algorithm is not allowed"
    assert reason(tokens.token(key=keys.attacker)) == "the token's signature is invalid"
    assert reason(tokens.token(kid="")) == "the token has no key id"
    assert reason(tokens.token(kid="never-published")) == "the token was signed with an unknown key"


# --- the client and profile claims -----------------------------------------------------------


def test_an_id_token_may_name_several_audiences(
    verifier: JwtVerifier, tokens: TokenFactory
) -> None:
    assert verifier.verify(tokens.token(aud=["other", UNIT_CLIENT], sub="u")).user_id == "u"
    with pytest.raises(AuthError, match="another client"):
        verifier.verify(tokens.token(aud=["other", "third"]))


@pytest.mark.parametrize("aud", [f"x {UNIT_CLIENT}]", f"[{UNIT_CLIENT} x", f"[{UNIT_CLIENT}"])
def test_only_a_whole_bracketed_list_is_read_as_a_list(aud: str) -> None:
    with pytest.raises(AuthError, match="another client"):
        principal_from_claims({"sub": "u", "token_use": "id", "aud": aud}, UNIT_CLIENT)


def test_profile_claims_that_are_not_text_are_left_out() -> None:
    principal = principal_from_claims(
        {
            "sub": "u",
            "token_use": "access",
            "client_id": UNIT_CLIENT,
            "email": 5,
            "given_name": "",
            "family_name": ["x"],
        },
        UNIT_CLIENT,
    )
    assert (principal.email, principal.given_name, principal.family_name) == (None, None, None)


@pytest.mark.parametrize(
    ("exp", "expected"), [("1795640235", 1795640235.0), (1795640235, 1795640235.0), ("soon", None)]
)
def test_the_expiry_is_read_from_text_or_number(exp: object, expected: object) -> None:
    claims = {"sub": "u", "token_use": "access", "client_id": UNIT_CLIENT, "exp": exp}
    assert principal_from_claims(claims, UNIT_CLIENT).expires_at == expected
    del claims["exp"]
    assert principal_from_claims(claims, UNIT_CLIENT).expires_at is None


def test_claims_that_are_not_a_mapping_are_not_found() -> None:
    event = {"requestContext": {"authorizer": {"jwt": {"claims": ["sub", "x"]}}}}
    assert apigateway_claims(event) == (False, {})
    assert apigateway_claims({"requestContext": {"authorizer": {"jwt": None}}}) == (False, {})
    assert apigateway_claims({}) == (False, {})


# --- the cache of verified tokens, and the key set's settings ---------------------------------


def test_a_cached_token_expires_at_its_expiry_plus_the_leeway(
    tokens: TokenFactory, jwks: StaticJwks
) -> None:
    """The default leeway is 30 s, as for tokens verified by PyJWT."""
    clock = [time.time()]
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json",
        UNIT_ISSUER,
        UNIT_CLIENT,
        jwks_client=jwks,
        clock=lambda: clock[0],
    )
    exp = int(clock[0]) + 60
    token = tokens.token(exp=exp)
    first = verifier.verify(token)
    clock[0] = exp + 29.5
    assert verifier.verify(token) is first
    clock[0] = exp + 30
    with pytest.raises(AuthError, match=r"^the token has expired$"):
        verifier.verify(token)


def test_the_cache_holds_the_256_most_recently_used_tokens(
    tokens: TokenFactory, jwks: StaticJwks
) -> None:
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json", UNIT_ISSUER, UNIT_CLIENT, jwks_client=jwks
    )
    issued = [tokens.token(sub=f"user-{n}") for n in range(257)]
    first = [verifier.verify(token) for token in issued[:256]]
    assert verifier.verify(issued[0]) is first[0], "256 fit; a hit makes it the most recent"
    verifier.verify(issued[256])  # the 257th pushes out the least recently used: user-1
    again = verifier.verify(issued[1])
    assert again == first[1]
    assert again is not first[1], "verified again, not cached"
    assert verifier.verify(issued[0]) is first[0]


def test_without_a_client_the_key_set_is_cached_an_hour_and_refetched_at_most_every_30_s() -> None:
    verifier = JwtVerifier(
        "https://cognito-idp.invalid/pool/.well-known/jwks.json", UNIT_ISSUER, UNIT_CLIENT
    )
    client = verifier._jwks
    assert client.uri == "https://cognito-idp.invalid/pool/.well-known/jwks.json"
    assert client.jwk_set_cache is not None
    assert client.jwk_set_cache.lifespan == 3600
    assert client.cooldown_duration == 30.0
    assert client.timeout == 5


def test_a_verified_principal_cannot_be_changed(
    verifier: JwtVerifier, tokens: TokenFactory
) -> None:
    """The cache hands the same principal to every request with that token: a
    change made while serving one would be seen by the next."""
    import dataclasses

    principal = verifier.verify(tokens.token(sub="user-1"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        principal.user_id = "user-2"  # type: ignore[misc]


@pytest.mark.parametrize(
    "aud", [f"[{UNIT_CLIENT}]", f"[{UNIT_CLIENT} other]", f"[other {UNIT_CLIENT}]"]
)
def test_a_bracketed_list_names_the_client_wherever_it_stands(aud: str) -> None:
    """API Gateway's rendering of a list claim: the client may be first, last or alone."""
    claims = {"sub": "u", "token_use": "id", "aud": aud}
    assert principal_from_claims(claims, UNIT_CLIENT).user_id == "u"
