"""Per-caller limits, counted in DynamoDB's window counters (core.dynamo.WindowCounter)
without a round trip on the request's path.

Each process tallies a caller's requests itself and adds them to the shared counter in the
background, at most one update in flight per caller: every `sync_every` requests, or on
the first request `max_lag_seconds` after the last update. The shared count that update
answers (every process's requests) is what the next decisions add to. A request over the
ceiling is refused at once, 429 with `Retry-After` the seconds left in the window, and is
not counted (a flood refused costs DynamoDB nothing).

What that costs in exactness: a process may let through up to `sync_every` requests of a
caller, plus those in flight, before it has heard what the others counted. For a limit on
abuse (one account or partner client taking a stage's whole throttle) that is the right
trade; what must be exact (a campaign's quantity, a customer's limit) is decided in SQL.

When DynamoDB does not answer, requests go through uncounted and the tally waits for the
next update: the stage's own throttle still bounds the traffic, and a counter store's
outage must not become an outage of claims and redemptions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

from core.dynamo import WindowCounter, is_unavailable
from core.errors import TooManyRequests

logger = logging.getLogger(__name__)

# Callers tallied per limit and process before those of past windows are forgotten.
MAX_TALLIES = 10_000


@dataclass
class _Tally:
    window_start: int
    last_sent: float
    shared: int = 0  # the shared counter's last answer: every process's requests
    in_flight: int = 0  # sent, not yet answered
    unsent: int = 0  # taken here since
    sending: bool = False

    @property
    def estimate(self) -> int:
        return self.shared + self.in_flight + self.unsent


class CallerLimit:
    def __init__(
        self,
        counter: WindowCounter,
        *,
        ceiling: int,
        window_seconds: int,
        sync_every: int = 10,
        max_lag_seconds: float = 1.0,
        title: str = "Too many requests",
    ) -> None:
        self._counter = counter
        self._ceiling = ceiling
        self._window = window_seconds
        self._sync_every = sync_every
        self._max_lag = max_lag_seconds
        self._title = title
        self._tallies: dict[str, _Tally] = {}
        self._updates: set[asyncio.Task[None]] = set()

    def take(self, caller: str) -> None:
        """Count one request of `caller`, or refuse it: TooManyRequests with Retry-After."""
        now = time.time()
        window_start = int(now) // self._window * self._window
        tally = self._tallies.get(caller)
        if tally is None or tally.window_start != window_start:
            if len(self._tallies) >= MAX_TALLIES:
                self._forget_before(window_start)
            tally = self._tallies[caller] = _Tally(window_start=window_start, last_sent=now)
        if tally.estimate >= self._ceiling:
            retry_after = max(1, window_start + self._window - int(now))
            raise TooManyRequests(self._title, retry_after=retry_after)
        tally.unsent += 1
        due = tally.unsent >= self._sync_every or now - tally.last_sent >= self._max_lag
        if due and not tally.sending:
            self._send(caller, tally, now)

    async def settled(self) -> None:
        """Wait for the updates in flight (tests, and a clean stop)."""
        while self._updates:
            await asyncio.gather(*self._updates)

    def _forget_before(self, window_start: int) -> None:
        self._tallies = {
            caller: tally
            for caller, tally in self._tallies.items()
            if tally.window_start >= window_start or tally.sending
        }

    def _send(self, caller: str, tally: _Tally, now: float) -> None:
        amount = tally.unsent
        tally.unsent, tally.in_flight, tally.sending, tally.last_sent = 0, amount, True, now
        update = asyncio.get_running_loop().create_task(self._add(caller, tally, amount))
        self._updates.add(update)
        update.add_done_callback(self._updates.discard)

    async def _add(self, caller: str, tally: _Tally, amount: int) -> None:
        try:
            shared, _ = await self._counter.increment(_hashed(caller), amount)
        except Exception as exc:
            if not is_unavailable(exc):
                logger.exception("a caller limit's counter update failed")
            # Sent again with the update a later request starts (not at once: DynamoDB
            # being down, that would be a loop).
            tally.unsent += amount
            tally.in_flight, tally.sending = 0, False
            return
        tally.shared = max(tally.shared, shared)
        tally.in_flight, tally.sending = 0, False
        if tally.unsent >= self._sync_every:  # taken meanwhile: the next update at once
            self._send(caller, tally, time.time())


def _hashed(caller: str) -> str:
    # The cache table need not hold who the callers are.
    return hashlib.sha256(caller.encode()).hexdigest()
