"""Limits per client address: about so many requests from one address in any window's
length, not just in each fixed window: counted in fixed windows, a burst astride a window
boundary would get twice the ceiling through. The estimate is the current window's count
plus the previous window's, weighted by how much of it the sliding window still covers; it
assumes the previous window's requests were spread over it, so a burst at the end of one
window and another late in the next can together pass the ceiling by up to its share."""

from __future__ import annotations

import math

from svc_auth.services.ports import RateCounter, WindowCounts


def sliding_estimate(counts: WindowCounts) -> float:
    still_covered = 1 - counts.elapsed / counts.window_seconds
    return counts.current + counts.previous * still_covered


def seconds_until_within(counts: WindowCounts, ceiling: int) -> int:
    """When the estimate falls back to `ceiling` if nothing more is counted: as the previous
    window slides out, or, once the current window alone is over it, when that one has
    become the previous window and slid out far enough. Called with the ceiling less one,
    it is when a request, counted before it is compared, would be let through."""
    if counts.current <= ceiling:
        # previous * (1 - t / window) + current <= ceiling
        t = counts.window_seconds * (1 - (ceiling - counts.current) / counts.previous)
        return max(1, math.ceil(t - counts.elapsed))
    t = counts.window_seconds * (2 - ceiling / counts.current)
    return max(1, math.ceil(t - counts.elapsed))


class AddressLimit:
    def __init__(self, counter: RateCounter, *, ceiling: int) -> None:
        self._counter = counter
        self._ceiling = ceiling

    async def take(self, address: str) -> int | None:
        """Count one request from `address`: None while within the limit, else the seconds
        until it would be again. CountersUnavailable when it cannot be counted: the caller
        decides whether the request goes ahead uncounted."""
        counts = await self._counter.count_one(address)
        if sliding_estimate(counts) <= self._ceiling:
            return None
        # The retry is counted too: the estimate must have room for it by then.
        return seconds_until_within(counts, self._ceiling - 1)
