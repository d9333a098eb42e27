"""The public keys access tokens are checked against, chosen by `kid` from our own set."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.config import PlatformSettings

LOCAL_JWKS_FILE = "jwks.json"


class PublicKeySet:
    """RS256 verification keys. Never takes a key from the token (`jku`, `x5u`, `jwk`)."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._settings = settings
        self._keys: dict[str, dict[str, Any]] | None = None
        self._loaded_at = 0.0

    def _load(self) -> dict[str, dict[str, Any]]:
        jwks = self._settings.jwks()
        if jwks is None and not self._settings.environment.is_deployed:
            path: Path = self._settings.keys_dir / LOCAL_JWKS_FILE
            jwks = json.loads(path.read_text()) if path.exists() else {"keys": []}
        keys: dict[str, dict[str, Any]] = {}
        for key in (jwks or {}).get("keys", []):
            if key.get("kty") == "RSA" and key.get("alg", "RS256") == "RS256" and "kid" in key:
                keys[key["kid"]] = key
        self._loaded_at = time.monotonic()
        return keys

    def get(self, kid: str) -> dict[str, Any] | None:
        if self._keys is None:
            self._keys = self._load()
        key = self._keys.get(kid)
        # Locally the signing service may rotate or create the key after we started.
        if (
            key is None
            and self._settings.jwt_jwks is None
            and time.monotonic() - self._loaded_at > 1
        ):
            self._keys = self._load()
            key = self._keys.get(kid)
        return key
