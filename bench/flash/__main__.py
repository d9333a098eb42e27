"""make bench-flash: see the package's docstring and bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from platform import python_version

from devstack.stack.embedded import EmbeddedPostgres

from .designs import DESIGNS, same_statements
from .exactness import NotExact
from .pgbench import PgbenchError, pgbench_binary
from .report import README, client_note, markdown, write_into_readme
from .run import Settings, measure, progress
from .server import MAX_CONNECTIONS, create_database, drop_database, start_embedded

ROOM_FOR_OTHERS = 10  # connections besides the clients and bystanders (ours, the admin's)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A flash sale on one campaign, by pgbench")
    parser.add_argument("--clients", default="64,256", help="comma-separated client counts")
    parser.add_argument("--rtt", default="0,0.5,1,2", help="comma-separated round trips, ms")
    parser.add_argument("--seconds", type=int, default=5, help="length of each run")
    parser.add_argument("--designs", default=",".join(DESIGNS), help=f"of {','.join(DESIGNS)}")
    parser.add_argument("--no-key", action="store_true", help="skip the Idempotency-Key runs")
    parser.add_argument(
        "--no-flush-wait",
        action="store_true",
        help="commit without waiting for the WAL flush (synchronous_commit off): the round "
        "trip's share apart from a slow disk's",
    )
    parser.add_argument(
        "--readme", action="store_true", help="write the table into bench/README.md's flash section"
    )
    args = parser.parse_args()
    unknown = set(args.designs.split(",")) - set(DESIGNS)
    if unknown:
        parser.error(f"unknown designs {sorted(unknown)}")
    return args


async def bench(server_url: str, args: argparse.Namespace) -> int:
    database = await create_database(server_url, wait_for_flush=not args.no_flush_wait)
    try:
        settings = Settings(
            rtts_ms=tuple(float(r) for r in args.rtt.split(",")),
            seconds=args.seconds,
            idempotency=not args.no_key,
        )
        room = database.max_connections - ROOM_FOR_OTHERS - settings.bystander_clients
        fitting = []
        for clients in (int(c) for c in args.clients.split(",")):
            if clients > room:
                print(f"skipped {clients} clients: max_connections is {database.max_connections}")
            else:
                fitting.append(clients)
        settings = dataclasses.replace(settings, clients=tuple(fitting))
        designs = [DESIGNS[name] for name in args.designs.split(",")]
        heading = (
            f"flash bench: {os.cpu_count()} CPUs shared by pgbench and PostgreSQL "
            f"{database.server_version}; {settings.seconds} s a run; load average "
            f"{os.getloadavg()[0]:.2f} at start; "
            + ("commits not waiting for the WAL flush" if args.no_flush_wait else "durable commits")
            + "; the platform's claim statements "
            + ("still today's" if same_statements() else "NOT today's: the designs differ")
        )
        print(heading)
        print(
            f"pgbench: {pgbench_binary()}; database {database.name}, max_connections "
            f"{database.max_connections}; Python {python_version()}"
        )
        rows, checks = await measure(database.url, designs, settings)
    finally:
        await drop_database(database)
    print()
    for line in checks:
        print(f"exact: {line}")
    table = markdown(rows)
    note = client_note(rows)
    print()
    print(table)
    print()
    print(note)
    if args.readme:
        stamp = time.strftime("%d %B %Y, %H:%M UTC", time.gmtime())
        given = [arg for arg in sys.argv[1:] if arg != "--readme"]
        command = "make bench-flash" + (f' FLASH_ARGS="{" ".join(given)}"' if given else "")
        write_into_readme(README, f"Run of {stamp} (`{command}`): {heading}. {note}.", table)
        print(f"written into {README.relative_to(README.parents[1])}")
    return 0


def main() -> int:
    args = parse_args()
    embedded: EmbeddedPostgres | None = None
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        progress(f"starting the embedded PostgreSQL (max_connections >= {MAX_CONNECTIONS})")
        embedded, server_url = start_embedded()
    try:
        return asyncio.run(bench(server_url, args))
    except (NotExact, PgbenchError) as exc:
        print(f"flash bench FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("flash bench interrupted", file=sys.stderr)
        return 130
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    raise SystemExit(main())
