"""`python -m devstack run|run-svc NAME|migrate`: the local stack's commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Coroutine
from typing import Any

import uvicorn

from core.config import PlatformSettings
from core.events.sinks import InProcessBus
from core.heap import settle_heap
from core.logging import configure_logging
from core.routing import SERVICES, ServiceRoutes
from devstack.gateway import LocalGateway
from devstack.services import by_name
from devstack.stack import (
    autogenerate,
    bootstrap,
    build_apps,
    close_relays,
    local_stack,
    migrate,
    replay_dead_letters,
    sweeping,
)


async def _serve_all(port: int) -> None:
    await migrate()
    apps = build_apps(SERVICES, InProcessBus())
    await bootstrap(apps)
    config = uvicorn.Config(
        LocalGateway(apps), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    settle_heap()
    async with sweeping(apps):
        await uvicorn.Server(config).serve()


async def _prepare_one(service: ServiceRoutes) -> None:
    await migrate([service])
    apps = build_apps([service], InProcessBus())
    await bootstrap(apps)
    await close_relays(apps)
    await apps[service.name].state.runtime.database.dispose()


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    # uvicorn re-raises the signal it stopped on once it has shut down; SIGTERM's default
    # action would then end the process before the embedded database is stopped.
    raise KeyboardInterrupt


def serve(main: Coroutine[Any, Any, None]) -> None:
    """Run the stack's servers on uvloop where it is installed, as uvicorn itself would
    (its default loop): the standard loop costs every request noticeably more CPU."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    parser = argparse.ArgumentParser(prog="devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="every service behind one local gateway")
    one = commands.add_parser("run-svc", help="one service alone, reloading on changes")
    one.add_argument("service")
    commands.add_parser("migrate", help="run every service's migrations")
    revision = commands.add_parser("revision", help="autogenerate a migration of one service")
    revision.add_argument("service")
    revision.add_argument("message")
    replay = commands.add_parser(
        "replay-events", help="deliver a service's dead-lettered outbox events again"
    )
    replay.add_argument("service")
    replay.add_argument("event_ids", nargs="*", help="only these (default: all)")
    args = parser.parse_args()

    port = int(os.environ.get("PORT", "8000"))
    configure_logging(PlatformSettings().log_level)
    # pgserver's start-up chatter (the moto server, in its own process, keeps quiet itself)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with local_stack(port):
        if args.command == "run":
            serve(_serve_all(port))
        elif args.command == "migrate":
            asyncio.run(migrate())
        elif args.command == "revision":
            asyncio.run(autogenerate(by_name(args.service), args.message))
        elif args.command == "replay-events":
            replayed = asyncio.run(replay_dead_letters(by_name(args.service), args.event_ids))
            print(f"{replayed} dead-lettered events of {args.service} will be delivered again")  # noqa: T201
        else:
            service = by_name(args.service)
            asyncio.run(_prepare_one(service))
            os.environ["DEVSTACK_SERVICE"] = service.name
            uvicorn.run(
                "devstack.single:create",
                factory=True,
                host="127.0.0.1",
                port=port,
                reload=True,
                reload_dirs=["libs", f"services/{service.directory}/src"],
                log_config=None,
                access_log=False,
            )


if __name__ == "__main__":
    # Ctrl-C or SIGTERM: everything started has been stopped by now; no traceback.
    with contextlib.suppress(KeyboardInterrupt):
        main()
