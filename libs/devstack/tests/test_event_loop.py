"""The local stack serves on uvloop, as uvicorn would by itself."""

from __future__ import annotations

import asyncio

from devstack.__main__ import serve


def test_the_stack_runs_on_uvloop() -> None:
    loops: list[str] = []

    async def main() -> None:
        loops.append(type(asyncio.get_running_loop()).__module__)

    serve(main())
    assert len(loops) == 1
    assert loops[0].startswith("uvloop")
