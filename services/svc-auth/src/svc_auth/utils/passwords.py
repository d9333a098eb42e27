"""Argon2id password hashes; a failed login costs the same whether or not the user exists."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the user does not exist, so both paths do the same work.
        Made on first use rather than at start: a cold start should not pay for it."""
        return self._argon2.hash("no such user: constant-time failure")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._argon2.hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True only for an existing hash that matches; None still costs one verification."""
        return await asyncio.to_thread(self._verify, password_hash, password)
