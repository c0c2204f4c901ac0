"""Who is calling: Cognito tokens verified in-app, or claims from API Gateway.

Two modes (``AUTH_MODE``):

``jwt`` (default)
    The ``Authorization: Bearer`` token is verified here with PyJWT: RS256
    only, signature against the pool's JWKS (cached; an unknown ``kid``
    refetches it once per cooldown, for key rotation), issuer, expiry and
    not-before with a small leeway, and the client: ``aud`` for ID tokens,
    ``client_id`` for access tokens.

``apigateway``
    API Gateway's JWT authorizer already verified signature, issuer, expiry
    and audience; its claims arrive in the request context. ``token_use`` and
    the client are still checked, so an access token minted for another app
    client of the same pool is refused in both modes.

The user id is always the token's ``sub``.

PyJWT (and with it cryptography's native module) is imported when the first
token is verified, not at cold start: ``/health`` and the API Gateway mode
never need it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

if TYPE_CHECKING:
    from jwt import PyJWKClient

ALLOWED_ALGORITHMS = ("RS256",)
TOKEN_USES = ("id", "access")
#: Verified tokens remembered per container (a warm container sees the same
#: bearer token on every request of a session).
VERIFIED_CACHE_SIZE = 256


class AuthError(Exception):
    """The request is not authenticated; ``reason`` goes to the client."""

    def __init__(self, reason: str, token_present: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token_present = token_present

    @property
    def www_authenticate(self) -> str:
        # RFC 6750 section 3: no error code when the request had no token at all.
        if not self.token_present:
            return 'Bearer realm="todo-api"'
        return f'Bearer realm="todo-api", error="invalid_token", error_description="{self.reason}"'


@dataclass(frozen=True)
class Principal:
    user_id: str
    token_use: str
    email: Optional[str] = None
    given_name: Optional[str] = None
    family_name: Optional[str] = None
    expires_at: Optional[float] = None


def bearer_token(authorization: Optional[str]) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        raise AuthError("missing bearer token", token_present=False)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("the Authorization header must be 'Bearer <token>'", token_present=False)
    return token


def _as_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def principal_from_claims(claims: Mapping[str, Any], client_id: str) -> Principal:
    """Check the claims every mode must check and build the principal."""
    token_use = claims.get("token_use")
    if token_use not in TOKEN_USES:
        raise AuthError("token_use must be 'id' or 'access'")
    if token_use == "id":  # noqa: S105 - a claim value, not a password
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        # API Gateway renders list claims as "[a b]"; accept that shape too.
        if isinstance(audience, str) and audience.startswith("[") and audience.endswith("]"):
            audiences = audience[1:-1].split()
        if client_id not in audiences:
            raise AuthError("the token was issued to another client")
    elif claims.get("client_id") != client_id:
        raise AuthError("the token was issued to another client")
    subject = _as_str(claims.get("sub"))
    if subject is None:
        raise AuthError("the token has no subject")
    expires = claims.get("exp")
    try:
        expires_at = float(expires) if expires is not None else None
    except (TypeError, ValueError):
        expires_at = None
    return Principal(
        user_id=subject,
        token_use=str(token_use),
        email=_as_str(claims.get("email")),
        given_name=_as_str(claims.get("given_name")),
        family_name=_as_str(claims.get("family_name")),
        expires_at=expires_at,
    )


class JwtVerifier:
    """Verifies Cognito tokens against the pool's JWKS."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        client_id: str,
        leeway_seconds: int = 30,
        jwks_cache_seconds: int = 3600,
        refresh_cooldown_seconds: float = 30.0,
        jwks_client: Optional[PyJWKClient] = None,
        clock: Any = time.time,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.leeway = leeway_seconds
        self._clock = clock
        if jwks_client is None:
            from jwt import PyJWKClient

        self._jwks = jwks_client or PyJWKClient(
            jwks_url,
            cache_jwk_set=True,
            lifespan=jwks_cache_seconds,
            cooldown_duration=refresh_cooldown_seconds,
            timeout=5,
        )
        # token digest -> principal; bounded, and every hit re-checks expiry.
        self._verified: OrderedDict[bytes, Principal] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            cached = self._verified.get(digest)
            if cached is not None:
                self._verified.move_to_end(digest)
        if cached is not None:
            if cached.expires_at is not None and cached.expires_at <= self._clock() - self.leeway:
                raise AuthError("the token has expired")
            return cached
        principal = self._verify_uncached(token)
        with self._lock:
            self._verified[digest] = principal
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify_uncached(self, token: str) -> Principal:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("the token is not a well-formed JWT") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise AuthError("the token's algorithm is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("the token has no key id")
        try:
            signing_key = self._jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            # Not the caller's fault; surfaces as 503 rather than 401.
            raise KeySetUnavailable(str(exc)) from exc
        except jwt.PyJWKClientError as exc:
            raise AuthError("the token was signed with an unknown key") from exc
        try:
            claims: Dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=list(ALLOWED_ALGORITHMS),
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "iat", "iss", "sub", "token_use"],
                    # The audience rule depends on token_use; checked below.
                    "verify_aud": False,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError("the token is not valid yet") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("the token was issued by another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("the token's signature is invalid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"the token lacks the {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise AuthError("the token is invalid") from exc
        return principal_from_claims(claims, self.client_id)


class KeySetUnavailable(Exception):
    """The JWKS endpoint could not be reached: a server-side problem (503)."""


def apigateway_claims(event: Optional[Mapping[str, Any]]) -> Tuple[bool, Mapping[str, Any]]:
    """``(found, claims)`` from an HTTP API (v2) event's JWT authorizer context."""
    if not event:
        return False, {}
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt_context = authorizer.get("jwt") or {}
    claims = jwt_context.get("claims")
    if not isinstance(claims, Mapping):
        return False, {}
    return True, claims
