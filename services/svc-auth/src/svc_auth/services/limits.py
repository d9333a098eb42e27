"""Limits per client address: at most so many requests from one address in each window."""

from __future__ import annotations

from svc_auth.services.ports import Counter


class AddressLimit:
    def __init__(self, counter: Counter, *, ceiling: int) -> None:
        self._counter = counter
        self._ceiling = ceiling

    async def take(self, address: str) -> int | None:
        """Count one request from `address`: None while within the limit, else the seconds
        until the window ends. CountersUnavailable when it cannot be counted: the caller
        decides whether the request goes ahead uncounted."""
        count, seconds_left = await self._counter.add(address)
        return None if count <= self._ceiling else max(seconds_left, 1)
