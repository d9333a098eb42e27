"""Stopping `make run`: the relays deliver what they hold before the databases go."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from devstack.stack.bring_up import sweeping


class Recorder:
    def __init__(self, name: str, calls: list[str]) -> None:
        self._name = name
        self._calls = calls

    async def aclose(self) -> None:
        self._calls.append(f"{self._name}: relay closed")

    async def dispose(self) -> None:
        self._calls.append(f"{self._name}: database disposed")


def app(name: str, calls: list[str]) -> Any:
    runtime = SimpleNamespace(relay=Recorder(name, calls), database=Recorder(name, calls))
    return SimpleNamespace(state=SimpleNamespace(runtime=runtime))


async def test_sweeping_closes_every_relay_before_disposing_the_databases() -> None:
    calls: list[str] = []
    # Through the in-process bus, one service's relay runs another service's consumers on
    # that service's database: every relay must be done before any database goes.
    async with sweeping({"auth": app("auth", calls), "coupons": app("coupons", calls)}):
        calls.append("serving")
    assert calls == [
        "serving",
        "auth: relay closed",
        "coupons: relay closed",
        "auth: database disposed",
        "coupons: database disposed",
    ]
