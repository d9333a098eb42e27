"""Counters in DynamoDB windows that expire by TTL: failed sign-ins per account, and
requests per client address.

When the counter store cannot be reached (core.aws_clients gives up within about a
second), the counters let the attempt through and log it: sign-in stays available to
every portal through a DynamoDB outage, and an attacker still pays a full password hash
per guess. The decision is here, in one place, for both counters.
"""

from __future__ import annotations

import hashlib
import logging

from core.dynamo import DynamoClientFactory, WindowCounter, is_unavailable

logger = logging.getLogger(__name__)


def _hashed(key: str) -> str:
    # The cache table need not hold email addresses or client addresses.
    return hashlib.sha256(key.encode()).hexdigest()


class DynamoLoginThrottle:
    def __init__(self, client_factory: DynamoClientFactory, table: str, *, window_seconds: int):
        self._counter = WindowCounter(
            client_factory, table, prefix="login-failures", window_seconds=window_seconds
        )

    async def failures(self, account: str) -> tuple[int, int]:
        try:
            return await self._counter.current(_hashed(account))
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("login throttle unreadable, sign-in let through: %s", exc)
            return 0, 0

    async def record_failure(self, account: str) -> int:
        try:
            return await self._counter.increment(_hashed(account))
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("login failure not counted: %s", exc)
            return 0

    async def clear(self, account: str) -> None:
        try:
            await self._counter.reset(_hashed(account))
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("login failures not cleared: %s", exc)


class DynamoRateLimit:
    """At most `limit` requests per key (a client address) in each window."""

    def __init__(
        self,
        client_factory: DynamoClientFactory,
        table: str,
        *,
        name: str,
        limit: int,
        window_seconds: int,
    ) -> None:
        self._counter = WindowCounter(
            client_factory, table, prefix=f"rate-{name}", window_seconds=window_seconds
        )
        self._name = name
        self._limit = limit

    async def take(self, key: str) -> int | None:
        """Count one request; None while within the limit, else the seconds to wait."""
        try:
            count = await self._counter.increment(_hashed(key))
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("%s rate limit uncounted, request let through: %s", self._name, exc)
            return None
        if count <= self._limit:
            return None
        _, retry_after = await self._counter.current(_hashed(key))
        return max(retry_after, 1)
