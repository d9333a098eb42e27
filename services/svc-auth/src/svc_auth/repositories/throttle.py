"""The limits' counters and marks, in DynamoDB's cache table, expiring by TTL.

A DynamoDB failure (core.aws_clients gives up within about a second, then rests) is
CountersUnavailable here; what it means for an operation is the service's decision
(svc_auth.services.limits, svc_auth.services.sign_in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from core.dynamo import DynamoClientFactory, ExpiringMarks, WindowCounter, is_unavailable
from svc_auth.services.ports import CountersUnavailable, WindowCounts


def _hashed(key: str) -> str:
    # The cache table need not hold email addresses or client addresses.
    return hashlib.sha256(key.encode()).hexdigest()


@contextmanager
def _reaching_dynamodb() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if is_unavailable(exc):
            raise CountersUnavailable(str(exc)) from exc
        raise


class DynamoCounter:
    def __init__(
        self, client_factory: DynamoClientFactory, table: str, *, prefix: str, window_seconds: int
    ) -> None:
        self._counter = WindowCounter(
            client_factory, table, prefix=prefix, window_seconds=window_seconds
        )

    async def add(self, key: str, amount: int = 1) -> tuple[int, int]:
        with _reaching_dynamodb():
            return await self._counter.increment(_hashed(key), amount)

    async def reset(self, key: str) -> None:
        with _reaching_dynamodb():
            await self._counter.reset(_hashed(key))

    async def count_one(self, key: str) -> WindowCounts:
        with _reaching_dynamodb():
            counts = await self._counter.count_one(_hashed(key))
        return WindowCounts(
            current=counts.current,
            previous=counts.previous,
            elapsed=counts.elapsed,
            window_seconds=counts.window_seconds,
        )


class DynamoMarks:
    def __init__(
        self, client_factory: DynamoClientFactory, table: str, *, prefix: str, ttl_seconds: int
    ) -> None:
        self._marks = ExpiringMarks(client_factory, table, prefix=prefix, ttl_seconds=ttl_seconds)

    async def put(self, key: str) -> None:
        with _reaching_dynamodb():
            await self._marks.put(_hashed(key))

    async def has(self, key: str) -> bool:
        with _reaching_dynamodb():
            return await self._marks.has(_hashed(key))
