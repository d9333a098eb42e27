"""Answers kept for Idempotency-Key replay are sealed: AES-GCM under a key the database
never sees (derived from the server secret, core.server_keys).

An answer can hold what a database reader must not get: a live coupon code (a code is
money), a partner client's secret. Sealing each stored answer, rather than re-reading the
resource on replay, keeps one rule for every route and GraphQL operation, and a replay
still answers exactly what the first attempt answered. The caller and the key are bound
in as associated data: a sealed answer moved to another caller's row does not open.

A sealed answer names its key by a short id, so a rotation (PREVIOUS_SERVER_SECRET) keeps
the answers sealed before it readable until they are purged (idempotency_key_retention).
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from core.errors import Conflict
from core.server_keys import ServerKeys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PURPOSE = "idempotency-answer-sealing"
VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12


class StoredAnswerUnreadable(Conflict):
    code = "idempotency_answer_unreadable"
    title = "The answer kept for this Idempotency-Key can no longer be read; use a new key"


class AnswerSealer:
    """cryptography is imported on the first Idempotency-Key a process sees, not at start
    (this module's error is part of every idempotent route's documentation)."""

    def __init__(self, keys: ServerKeys) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        honoured = keys.keys_for(PURPOSE)
        self._current_id = _key_id(honoured[0])
        self._current = AESGCM(honoured[0])
        self._by_id: dict[bytes, AESGCM] = {_key_id(key): AESGCM(key) for key in honoured}

    def seal(self, answer: bytes, *, caller: str, key: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, answer, _associated(caller, key))
        return VERSION + self._current_id + nonce + sealed

    def open(self, sealed: bytes, *, caller: str, key: str) -> bytes:
        """The answer, or StoredAnswerUnreadable when no honoured key sealed it (rotated
        out twice within the retention) or it was tampered with."""
        head = len(VERSION) + KEY_ID_BYTES
        cipher = self._by_id.get(sealed[len(VERSION) : head])
        if not sealed.startswith(VERSION) or cipher is None:
            raise StoredAnswerUnreadable()
        nonce, body = sealed[head : head + NONCE_BYTES], sealed[head + NONCE_BYTES :]
        from cryptography.exceptions import InvalidTag

        try:
            return cipher.decrypt(nonce, body, _associated(caller, key))
        except InvalidTag:
            raise StoredAnswerUnreadable() from None


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"key-id/" + key).digest()[:KEY_ID_BYTES]


def _associated(caller: str, key: str) -> bytes:
    encoded_caller = caller.encode()
    return len(encoded_caller).to_bytes(4, "big") + encoded_caller + key.encode()
