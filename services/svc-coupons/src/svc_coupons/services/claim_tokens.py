"""Gift claim tokens, derived rather than drawn: HMAC-SHA256 under a key from the server
secret (core.server_keys) over the transfer id and its generation.

A retried gift answers the very token the first attempt showed, without any table keeping
it (the transfer keeps its SHA-256 only, which the accept statement matches). Only an
explicit rotation (the generation bumped) changes it. During a server secret rotation the
token a transfer was given under the previous secret is still found, by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

from core.server_keys import ServerKeys

PURPOSE = "gift-claim-token"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ClaimTokens:
    def __init__(self, keys: ServerKeys) -> None:
        self._keys = keys.keys_for(PURPOSE)

    def token(self, transfer_id: UUID, generation: int) -> str:
        """The token of this generation of the transfer, under the current secret."""
        return _derive(self._keys[0], transfer_id, generation)

    def shown(self, transfer_id: UUID, generation: int, stored_hash: str) -> str | None:
        """The token the transfer was given for this generation (under the current secret
        or the one being rotated out), or None when none of them hashes to `stored_hash`."""
        for key in self._keys:
            token = _derive(key, transfer_id, generation)
            if hmac.compare_digest(token_hash(token), stored_hash):
                return token
        return None


def _derive(key: bytes, transfer_id: UUID, generation: int) -> str:
    message = transfer_id.bytes + generation.to_bytes(8, "big")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
