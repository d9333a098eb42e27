"""Embedded PostgreSQL (pgserver) and DynamoDB (moto server) for a machine with neither."""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir`, kept across restarts."""

    data_dir: Path
    stop_on_exit: bool = True

    def start(self) -> str:
        import pgserver  # ships its own PostgreSQL binaries; nothing is downloaded

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        self._server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            self.data_dir, cleanup_mode="stop" if self.stop_on_exit else None
        )
        uri: str = self._server.get_uri()
        logger.info("embedded PostgreSQL at %s", self.data_dir)
        return uri

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
            server.cleanup()


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
    """A moto server on loopback, speaking the DynamoDB API; its data lives in memory."""

    port: int = 0

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        self.port = self.port or free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.stop()
