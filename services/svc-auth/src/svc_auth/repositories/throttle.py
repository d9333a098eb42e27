"""Failed sign-ins per account, counted in DynamoDB windows that expire by TTL."""

from __future__ import annotations

import hashlib

from core.dynamo import DynamoClientFactory, WindowCounter


class DynamoLoginThrottle:
    def __init__(self, client_factory: DynamoClientFactory, table: str, *, window_seconds: int):
        self._counter = WindowCounter(
            client_factory, table, prefix="login-failures", window_seconds=window_seconds
        )

    @staticmethod
    def _key(account: str) -> str:
        # The cache table need not hold email addresses.
        return hashlib.sha256(account.encode()).hexdigest()

    async def failures(self, account: str) -> tuple[int, int]:
        return await self._counter.current(self._key(account))

    async def record_failure(self, account: str) -> int:
        return await self._counter.increment(self._key(account))

    async def clear(self, account: str) -> None:
        await self._counter.reset(self._key(account))
