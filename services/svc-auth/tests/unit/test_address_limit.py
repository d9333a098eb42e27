"""The per-address limit slides: a burst astride a fixed window's boundary meets the
ceiling once, not twice, and Retry-After says when a request would be let through."""

from __future__ import annotations

import pytest

from svc_auth.services.limits import AddressLimit, seconds_until_within, sliding_estimate
from svc_auth.services.ports import WindowCounts

WINDOW = 600


class SteppedClock:
    """Fixed windows as core.dynamo.WindowCounter keeps them, at a time the test sets."""

    def __init__(self) -> None:
        self.now = 0.0
        self.windows: dict[int, int] = {}

    async def count_one(self, key: str) -> WindowCounts:
        start = int(self.now) // WINDOW * WINDOW
        self.windows[start] = self.windows.get(start, 0) + 1
        return WindowCounts(
            current=self.windows[start],
            previous=self.windows.get(start - WINDOW, 0),
            elapsed=self.now - start,
            window_seconds=WINDOW,
        )


async def test_a_burst_astride_a_window_boundary_meets_the_ceiling_once() -> None:
    counter = SteppedClock()
    limit = AddressLimit(counter, ceiling=3)
    counter.now = WINDOW - 0.5
    assert [await limit.take("a") for _ in range(3)] == [None, None, None]
    assert await limit.take("a") is not None
    counter.now = WINDOW + 0.5  # a new fixed window: counted alone it would start at zero
    assert await limit.take("a") is not None


async def test_the_previous_window_counts_less_as_it_slides_out() -> None:
    counter = SteppedClock()
    limit = AddressLimit(counter, ceiling=3)
    counter.now = 10
    for _ in range(3):
        assert await limit.take("a") is None
    counter.now = WINDOW + WINDOW / 2  # half of the previous window's 3 still covered
    assert await limit.take("a") is None  # 1 + 1.5
    assert await limit.take("a") is not None  # 2 + 1.5


@pytest.mark.parametrize(
    ("counts", "ceiling", "expected"),
    [
        # 2 + 4 * (1 - t/600) <= 3 once t >= 450: 150 s from t = 300.
        (WindowCounts(current=2, previous=4, elapsed=300, window_seconds=600), 3, 150),
        # Over the ceiling alone: the window must end (300 s), then slide 2/5 out (240 s).
        (WindowCounts(current=5, previous=0, elapsed=300, window_seconds=600), 3, 540),
        # Never less than a second.
        (WindowCounts(current=3, previous=1, elapsed=599.9, window_seconds=600), 3, 1),
    ],
)
def test_retry_after_is_when_the_estimate_is_back_within_the_ceiling(
    counts: WindowCounts, ceiling: int, expected: int
) -> None:
    wait = seconds_until_within(counts, ceiling)
    assert wait == expected
    later = WindowCounts(
        current=counts.current if counts.elapsed + wait < 600 else 0,
        previous=counts.previous if counts.elapsed + wait < 600 else counts.current,
        elapsed=(counts.elapsed + wait) % 600,
        window_seconds=600,
    )
    assert sliding_estimate(later) <= ceiling + 1e-9
