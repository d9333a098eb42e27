"""Embedded PostgreSQL (pgserver) and DynamoDB (moto server) for a machine with neither."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# platformdirs (for pgserver) warns when a session has no XDG_RUNTIME_DIR, as containers
# and CI have not; its fallback in /tmp is what the embedded server needs.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


async def connect(url: str) -> Any:
    """An asyncpg connection to any server URL the stack takes: `postgresql://` or
    `postgresql+asyncpg://`, over TCP or, as the embedded server's do, a Unix socket named
    by the `host` query parameter."""
    import asyncpg
    from sqlalchemy import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(dsn)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir`, kept across restarts."""

    data_dir: Path
    stop_on_exit: bool = True
    # At least this many connections (a benchmark's servers and clients): raised with ALTER
    # SYSTEM, and the server restarted once, when it has fewer.
    max_connections: int | None = None

    def start(self) -> str:
        self._start()
        if self.max_connections is not None and self._max_connections() < self.max_connections:
            self._server.psql(f"ALTER SYSTEM SET max_connections = {self.max_connections};")
            self.stop()  # a restart applies it (unless another process still uses the server)
            self._start()
        uri: str = self._server.get_uri()
        logger.info("embedded PostgreSQL at %s", self.data_dir)
        return uri

    def _start(self) -> None:
        import pgserver  # ships its own PostgreSQL binaries; nothing is downloaded

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        self._server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            self.data_dir, cleanup_mode="stop" if self.stop_on_exit else None
        )

    def _max_connections(self) -> int:
        shown = self._server.psql(
            "\\pset tuples_only on\n\\pset format unaligned\nSHOW max_connections;"
        )
        return int(shown.split()[-1])

    def _forget_dead_handles(self) -> None:
        """pgserver stops the server when its last user exits, counting users in a file; a
        killed process never leaves that list, and the server would then outlive every run."""
        handles = self.data_dir / ".handle_pids.json"
        if not handles.exists():
            return
        alive = [pid for pid in json.loads(handles.read_text() or "[]") if _is_alive(pid)]
        handles.write_text(json.dumps(alive))

    def stop(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            self._server = None
            server.cleanup()
            # pgserver registers the same cleanup to run at exit; done now, it would only
            # run (and log) a second time after everything else has finished.
            atexit.unregister(server._cleanup)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class EmbeddedDynamo:
    """A moto server on loopback, speaking the DynamoDB API; its data lives in memory.

    It runs in a process of its own (devstack.stack.dynamo_server): in the platform's process its
    request handling would compete with the services' requests for the GIL. That process
    starts in a session of its own, so that Ctrl-C in the terminal reaches only the stack,
    which stops this server after the services delivered what they still held; and it
    exits by itself should the stack die without stopping it.
    """

    port: int = 0
    log_file: Path | None = None  # its warnings and errors; None: discarded
    start_timeout: float = 30.0
    stop_timeout: float = 5.0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> str:
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "devstack.stack.dynamo_server"]
        command += ["-H", "127.0.0.1", "-p", str(self.port)]
        with contextlib.ExitStack() as files:
            log: Any = subprocess.DEVNULL
            if self.log_file is not None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                log = files.enter_context(self.log_file.open("ab"))
            # The child keeps its own copy of the log's file descriptor.
            self.process = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
                command,
                env={**os.environ, PARENT_PID: str(os.getpid())},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        logger.info("DynamoDB (moto server, pid %d) on port %d", self.process.pid, self.port)
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"the moto server exited with {code} at start{self._log()}")
            if _answers_http(self.port):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the moto server did not answer within {self.start_timeout:.0f} s{self._log()}"
                )
            time.sleep(0.05)

    def _log(self) -> str:
        return f"; see {self.log_file}" if self.log_file is not None else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


PARENT_PID = "DEVSTACK_PARENT_PID"  # devstack.stack.dynamo_server exits when this process is gone


def _answers_http(port: int) -> bool:
    """Whether an HTTP server answers on the port (any status will do); no proxy consulted."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/moto-api/")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True
