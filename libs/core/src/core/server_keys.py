"""Keys derived from the service's server secret, one per purpose, none of them stored.

The secret comes from the service's settings (SERVER_SECRET, a Secrets Manager secret when
deployed); the database never sees it, so what is keyed by it (an Idempotency-Key's
request fingerprint, a sealed stored answer, a derived gift claim token) tells a database
reader nothing. During a rotation the previous secret (PREVIOUS_SERVER_SECRET) still opens
and checks what it keyed; everything new is keyed by the current one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from core.config import PlatformSettings


@dataclass(frozen=True)
class ServerKeys:
    current: bytes
    previous: bytes | None = None

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> ServerKeys:
        previous = settings.previous_server_secret
        return cls(
            current=settings.server_secret.get_secret_value().encode(),
            previous=None if previous is None else previous.get_secret_value().encode(),
        )

    def key_for(self, purpose: str) -> bytes:
        """The current 256-bit key of one purpose: keys of two purposes are unrelated."""
        return _derive(self.current, purpose)

    def keys_for(self, purpose: str) -> tuple[bytes, ...]:
        """Every key of the purpose still honoured, the current one first."""
        if self.previous is None:
            return (self.key_for(purpose),)
        return (self.key_for(purpose), _derive(self.previous, purpose))


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, b"coupon-platform/" + purpose.encode(), hashlib.sha256).digest()
