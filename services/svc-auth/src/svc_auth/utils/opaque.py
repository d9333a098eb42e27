"""Opaque secrets (refresh tokens, client secrets): random, shown once, stored as SHA-256.

They carry 256 bits of entropy, so a fast hash is enough; passwords use Argon2 instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, expected_digest: str | None) -> bool:
    return expected_digest is not None and hmac.compare_digest(digest(secret), expected_digest)
