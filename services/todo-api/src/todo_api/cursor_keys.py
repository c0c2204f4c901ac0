"""The cursor-signing key, from AWS Secrets Manager, cached per container.

``CURSOR_SECRET_ID`` names the secret (``todo_core.naming.ResourceNames.
cursor_signing_secret``). Its ``AWSCURRENT`` version signs new cursors; its
``AWSPREVIOUS`` version, while one exists, still verifies the cursors
handed out before a rotation (they expire after ``CURSOR_MAX_AGE_SECONDS``
anyway). Powertools' parameters utility caches both for
``SECRETS_CACHE_SECONDS``, so a rotation reaches every container within
that time and most requests make no call at all.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from todo_core.cursor import CursorCodec
from todo_core.errors import StoreUnavailable

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"


class CursorKeyError(RuntimeError):
    """The secret exists but cannot sign cursors (too short): a deployment error."""


class CursorKeys:
    """Reads the current and previous signing keys of one secret."""

    def __init__(self, secret_id: str, cache_seconds: int, client: Any = None) -> None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        self._secret_id = secret_id
        self._cache_seconds = cache_seconds
        # One provider per version stage: Powertools caches by secret name only.
        self._current = SecretsProvider(boto3_client=client)
        self._previous = SecretsProvider(boto3_client=client)

    def _read(self, provider: Any, stage: str) -> Optional[bytes]:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = provider.get(self._secret_id, max_age=self._cache_seconds, VersionStage=stage)
        except GetParameterError as exc:
            if stage == PREVIOUS and "ResourceNotFoundException" in str(exc):
                return None  # never rotated: there is no previous version
            raise StoreUnavailable("the cursor-signing key could not be read") from exc
        data = value if isinstance(value, bytes) else str(value).encode("utf-8")
        if len(data) < 32:
            raise CursorKeyError(f"the secret {self._secret_id} must hold at least 32 bytes")
        return data

    def keys(self) -> Tuple[bytes, Optional[bytes]]:
        """``(current, previous or None)``."""
        current = self._read(self._current, CURRENT)
        assert current is not None
        return current, self._read(self._previous, PREVIOUS)


class SecretCursorCodec:
    """A cursor codec whose keys come from the secret (rebuilt when they rotate)."""

    def __init__(self, keys: CursorKeys, max_age_seconds: int) -> None:
        self._keys = keys
        self._max_age = max_age_seconds
        self._built: Optional[Tuple[Tuple[bytes, Optional[bytes]], CursorCodec]] = None

    def _codec(self) -> CursorCodec:
        current = self._keys.keys()
        built = self._built
        if built is None or built[0] != current:
            built = (current, CursorCodec(current[0], current[1], self._max_age))
            self._built = built
        return built[1]

    def encode(self, scope: str, position: Dict[str, str]) -> str:
        return self._codec().encode(scope, position)

    def decode(self, scope: str, cursor: str) -> Dict[str, str]:
        return self._codec().decode(scope, cursor)
