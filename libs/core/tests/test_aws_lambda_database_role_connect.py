"""The database bootstrap's connection to a proxy that may still be registering its target
(core.aws_lambda.database_role.connect_when_ready), against a fake that refuses N times."""

from __future__ import annotations

import socket

import asyncpg
import pytest

from core.aws_lambda.database_role import _wait_budget, connect_when_ready


class _Clock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class _FreshProxy:
    """Answers what a proxy whose target is registering answers, `refusals` times."""

    ERRORS = (
        socket.gaierror("Name or service not known"),  # its DNS name not published yet
        ConnectionRefusedError("connection refused"),
        TimeoutError(),
        asyncpg.PostgresError("no database target is available"),
    )

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts = 0

    async def connect(self) -> str:
        self.attempts += 1
        if self.attempts <= self.refusals:
            raise self.ERRORS[(self.attempts - 1) % len(self.ERRORS)]
        return "connection"


async def test_connects_once_the_proxy_answers() -> None:
    clock = _Clock()
    proxy = _FreshProxy(refusals=5)
    connection = await connect_when_ready(
        proxy.connect, give_up_after=120, sleep=clock.sleep, clock=clock
    )
    assert connection == "connection"
    assert proxy.attempts == 6
    assert clock.slept == [1, 2, 4, 8, 15]  # doubling, capped


async def test_a_ready_database_is_connected_at_once() -> None:
    clock = _Clock()
    proxy = _FreshProxy(refusals=0)
    assert await connect_when_ready(proxy.connect, give_up_after=0, sleep=clock.sleep, clock=clock)
    assert clock.slept == []


async def test_gives_up_with_the_last_error_when_the_time_is_spent() -> None:
    clock = _Clock()
    proxy = _FreshProxy(refusals=1000)
    with pytest.raises((OSError, TimeoutError, asyncpg.PostgresError)):
        await connect_when_ready(proxy.connect, give_up_after=60, sleep=clock.sleep, clock=clock)
    # Never sleeps past the deadline: 1 + 2 + 4 + 8 + 15 + 15 + 15 = 60, and one more
    # delay would pass it.
    assert clock.slept == [1, 2, 4, 8, 15, 15, 15]
    assert proxy.attempts == 8


async def test_an_unexpected_error_is_not_retried() -> None:
    clock = _Clock()
    attempts = 0

    async def broken() -> str:
        nonlocal attempts
        attempts += 1
        raise KeyError("password")

    with pytest.raises(KeyError):
        await connect_when_ready(broken, give_up_after=120, sleep=clock.sleep, clock=clock)
    assert attempts == 1


def test_the_wait_fits_in_the_invocation() -> None:
    class _Context:
        def get_remaining_time_in_millis(self) -> int:
            return 300_000

    assert _wait_budget(_Context()) == 300 - 15
