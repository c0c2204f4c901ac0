"""Users and tokens in the emulator's Cognito user pool.

The same three calls the operations runbook makes with the AWS CLI
(admin-create-user, admin-set-user-password --permanent, admin-initiate-auth
with ADMIN_NO_SRP_AUTH), so local tokens look exactly like the ones the API
sees in AWS: RS256, signed with the pool's key, verifiable through the
pool's JWKS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

#: The operations runbook's example password (local pool only).
DEFAULT_PASSWORD = "TempPassword123!"  # noqa: S105


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: Optional[str]
    expires_in: int


def _user_exists_error(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") == "UsernameExistsException"


def create_user(
    cognito: Any,
    user_pool_id: str,
    email: str,
    password: str = DEFAULT_PASSWORD,
    given_name: str = "Test",
    family_name: str = "User",
) -> None:
    """Create a confirmed user with a permanent password (idempotent)."""
    try:
        cognito.admin_create_user(
            UserPoolId=user_pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "given_name", "Value": given_name},
                {"Name": "family_name", "Value": family_name},
            ],
            MessageAction="SUPPRESS",
        )
    except Exception as exc:
        if not _user_exists_error(exc):
            raise
    cognito.admin_set_user_password(
        UserPoolId=user_pool_id, Username=email, Password=password, Permanent=True
    )


def authenticate(
    cognito: Any, user_pool_id: str, client_id: str, email: str, password: str = DEFAULT_PASSWORD
) -> Tokens:
    response: Dict[str, Any] = cognito.admin_initiate_auth(
        UserPoolId=user_pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    result = response["AuthenticationResult"]
    return Tokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken"),
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


def user_tokens(
    cognito: Any,
    user_pool_id: str,
    client_id: str,
    email: str,
    password: str = DEFAULT_PASSWORD,
    given_name: str = "Test",
    family_name: str = "User",
) -> Tokens:
    """Create the user if needed and sign in: the runbook's whole flow."""
    create_user(cognito, user_pool_id, email, password, given_name, family_name)
    return authenticate(cognito, user_pool_id, client_id, email, password)


def stack_user_tokens(
    stack: Any, email: str, password: str = DEFAULT_PASSWORD, **names: str
) -> Tokens:
    """:func:`user_tokens` against a provisioned :class:`~todo_local.stack.LocalStack`."""
    return user_tokens(
        stack.client("cognito-idp"),
        stack.user_pool_id,
        stack.user_pool_client_id,
        email,
        password,
        **names,
    )
