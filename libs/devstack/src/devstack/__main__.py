"""`python -m devstack run|run-svc NAME|migrate`: the local stack's commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import uvicorn

from core.config import PlatformSettings
from core.events.sinks import InProcessBus
from core.heap import settle_heap
from core.logging import configure_logging
from core.routing import SERVICES, ServiceRoutes
from devstack.stack.banner import StackFacts, banner, database_description, dynamodb_description
from devstack.stack.bring_up import (
    LOCAL_ADMIN_EMAIL,
    LocalStack,
    autogenerate,
    bootstrap,
    build_apps,
    close_relays,
    local_stack,
    migrate,
    replay_dead_letters,
    sweeping,
)
from devstack.stack.console_logs import use_console_logs
from devstack.stack.cors import expand_origins, portal_origins_spec, with_cors
from devstack.stack.gateway import LocalGateway
from devstack.stack.services import by_name

# How long a stop waits for the requests in flight before it cancels them: a request that
# never ends (a client that never sends its body) must not keep the stack from stopping.
STOP_GRACE_SECONDS = 5
SERVER_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "timeout_graceful_shutdown": STOP_GRACE_SECONDS,
    "server_header": False,  # what serves the API is nobody's business
    # uvicorn would otherwise take X-Forwarded-For from any client on loopback, every
    # client of the local stack, for the peer address per-address limits count
    # (core.web.addresses).
    "proxy_headers": False,
}
"""uvicorn's settings for every server the stack starts (make run, make run-svc)."""


async def _serve_all(port: int, facts: StackFacts) -> None:
    await migrate()
    apps = build_apps(SERVICES, InProcessBus())
    await bootstrap(apps)
    gateway = with_cors(LocalGateway(apps), expand_origins(portal_origins_spec()))
    config = uvicorn.Config(gateway, host="127.0.0.1", port=port, **SERVER_OPTIONS)
    server = uvicorn.Server(config)
    settle_heap()
    async with sweeping(apps):
        announcing = asyncio.create_task(_announce_when_started(server, facts))
        try:
            await server.serve()
        finally:
            announcing.cancel()


async def _announce_when_started(server: uvicorn.Server, facts: StackFacts) -> None:
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, no event)
        await asyncio.sleep(0.05)
    sys.stderr.write(banner(facts))


def _facts(port: int, stack: LocalStack, started: dict[str, bool]) -> StackFacts:
    """`started`: what the stack had to start itself (nothing named by the environment)."""
    return StackFacts(
        base_url=f"http://127.0.0.1:{port}",
        services=SERVICES,
        admin_email=os.environ.get("BOOTSTRAP_ADMIN_EMAIL", LOCAL_ADMIN_EMAIL),
        admin_password_file=stack.state_dir / "admin-password" if started["admin"] else None,
        database=database_description(stack.state_dir, embedded=started["database"]),
        dynamodb=dynamodb_description(stack.state_dir, embedded=started["dynamodb"]),
        portal_origins=portal_origins_spec(),
    )


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
    use_console_logs()
    # pgserver's start-up chatter (the moto server, in its own process, keeps quiet itself)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    env = os.environ
    started = {
        "database": not env.get("DATABASE_URL"),
        "dynamodb": not env.get("DYNAMODB_ENDPOINT_URL"),
        "admin": not (env.get("BOOTSTRAP_ADMIN_EMAIL") and env.get("BOOTSTRAP_ADMIN_PASSWORD")),
    }
    with local_stack(port) as stack:
        if args.command == "run":
            serve(_serve_all(port, _facts(port, stack, started)))
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
                "devstack.stack.single:create",
                factory=True,
                host="127.0.0.1",
                port=port,
                reload=True,
                reload_dirs=["libs", f"services/{service.directory}/src"],
                **SERVER_OPTIONS,
            )


if __name__ == "__main__":
    # Ctrl-C or SIGTERM: everything started has been stopped by now; no traceback.
    with contextlib.suppress(KeyboardInterrupt):
        main()
