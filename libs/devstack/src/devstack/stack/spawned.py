"""`python -m devstack.stack.spawned -- COMMAND...`: run COMMAND against a whole stack of its own.

The stack is `python -m devstack run` on a free loopback port, over a fresh database
(on TEST_DATABASE_URL's server, else an embedded one in .local/clients-pgdata) with its
own moto DynamoDB, signing key and admin; all of it is stopped and dropped afterwards.
COMMAND gets PLATFORM_URL, ADMIN_EMAIL and ADMIN_PASSWORD in its environment, and its
exit status is this one's. The clients' tests run this way (make test-clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url

from core.routing import SERVICES
from devstack.stack.embedded import EmbeddedPostgres, connect, free_port
from devstack.stack.services import REPO_ROOT

START_TIMEOUT_SECONDS = 120
ADMIN_EMAIL = "admin@spawned.localhost.test"


@dataclass(frozen=True)
class SpawnedStack:
    base_url: str
    admin_email: str
    admin_password: str
    process: subprocess.Popen[bytes]
    log: Path

    def environment(self) -> dict[str, str]:
        return {
            "PLATFORM_URL": self.base_url,
            "ADMIN_EMAIL": self.admin_email,
            "ADMIN_PASSWORD": self.admin_password,
        }


async def _execute(server_url: str, statement: str) -> None:
    connection = await connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_database(server_url: str | None = None) -> Iterator[str]:
    """A new database on `server_url`'s server, else TEST_DATABASE_URL's, else an embedded
    one's; dropped afterwards."""
    server_url = server_url or os.environ.get("TEST_DATABASE_URL")
    embedded = None
    if not server_url:
        embedded = EmbeddedPostgres(REPO_ROOT / ".local" / "clients-pgdata")
        server_url = embedded.start()
    name = f"clients_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            asyncio.run(_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        if embedded is not None:
            embedded.stop()


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    waiting = [f"/api/v1/{service.name}/health" for service in SERVICES]
    with httpx.Client(base_url=base_url, timeout=2.0) as http:
        while waiting:
            if process.poll() is not None:
                raise RuntimeError(f"the stack exited at start:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not answer in time:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if http.get(waiting[0]).status_code == 200:
                    waiting.pop(0)
                    continue
            time.sleep(0.2)


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def spawned_stack(
    database_server_url: str | None = None, settings: Mapping[str, str] | None = None
) -> Iterator[SpawnedStack]:
    """`settings`: environment variables for the stack beyond those it gets anyway."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    admin_password = secrets.token_urlsafe(16)
    with (
        fresh_database(database_server_url) as database_url,
        tempfile.TemporaryDirectory() as state,
    ):
        log = Path(state) / "stack.log"
        inherited = {k: v for k, v in os.environ.items() if k != "DYNAMODB_ENDPOINT_URL"}
        inherited |= settings or {}
        env = inherited | {
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "LOCAL_STATE_DIR": state,
            "JWT_ISSUER": base_url,
            "COUPONS_MERCHANTS_API_URL": base_url,
            "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
            "BOOTSTRAP_ADMIN_PASSWORD": admin_password,
            "LOG_FORMAT": "json",
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "devstack", "run"],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_serving(base_url, process, log)
            yield SpawnedStack(base_url, ADMIN_EMAIL, admin_password, process, log)
        finally:
            _stop(process)


def main(argv: Sequence[str]) -> int:
    command = list(argv[1:] if argv and argv[0] == "--" else argv)
    if not command:
        sys.stderr.write("usage: python -m devstack.stack.spawned -- COMMAND [ARGS...]\n")
        return 2
    with spawned_stack() as stack:
        sys.stderr.write(f"stack at {stack.base_url}: {' '.join(command)}\n")
        return subprocess.call(command, env=os.environ | stack.environment())  # noqa: S603


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
