"""The per-address limit slides: a burst astride a fixed window's boundary does not find a
fresh ceiling on the other side, and Retry-After says when a request would be let through."""

from __future__ import annotations

import pytest

from svc_auth.services.limits import AddressLimit, seconds_until_within
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
    ("counts", "expected"),
    [
        # Room for one more (2 counted + the retry + 4 * (1 - t/600) <= 3) once t >= 600:
        # 300 s from t = 300.
        (WindowCounts(current=2, previous=4, elapsed=300, window_seconds=600), 300),
        # Over the ceiling alone: the window must end (300 s), then 3/5 of it slide out
        # (360 s) so that 5 * (1 - t/600) + the retry <= 3.
        (WindowCounts(current=5, previous=0, elapsed=300, window_seconds=600), 660),
        # Just before the window ends: the next window, then 1/3 of it (200 s).
        (WindowCounts(current=3, previous=1, elapsed=599.9, window_seconds=600), 201),
    ],
)
async def test_a_retry_after_retry_after_is_let_through_and_not_a_second_before(
    counts: WindowCounts, expected: int
) -> None:
    ceiling = 3

    class Answers:
        def __init__(self, *answers: WindowCounts) -> None:
            self._answers = list(answers)

        async def count_one(self, key: str) -> WindowCounts:
            return self._answers.pop(0)

    def at(seconds_later: float) -> WindowCounts:
        """The counts a retry `seconds_later` finds: itself counted, nothing else."""
        elapsed = counts.elapsed + seconds_later
        if elapsed < WINDOW:
            return WindowCounts(counts.current + 1, counts.previous, elapsed, WINDOW)
        return WindowCounts(1, counts.current, elapsed - WINDOW, WINDOW)

    refused = AddressLimit(Answers(counts), ceiling=ceiling)
    wait = await refused.take("a")
    assert wait == expected
    assert seconds_until_within(counts, ceiling - 1) == expected
    assert await AddressLimit(Answers(at(wait)), ceiling=ceiling).take("a") is None
    assert await AddressLimit(Answers(at(wait - 1.5)), ceiling=ceiling).take("a") is not None
