"""The trace of the current invocation, and subsegments of it sent to the X-Ray daemon."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

TRACE_ENV = "_X_AMZN_TRACE_ID"  # set by the Lambda runtime for each invocation
DAEMON_ENV = "AWS_XRAY_DAEMON_ADDRESS"  # set by Lambda when active tracing is on
_HEADER = b'{"format": "json", "version": 1}\n'


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # Root=1-5759e988-bd862e3fe1be46a994272793
    parent_id: str  # the function's segment
    sampled: bool


def current_trace() -> TraceContext | None:
    """The invocation's trace, from `Root=...;Parent=...;Sampled=1`; None outside Lambda."""
    value = os.environ.get(TRACE_ENV)
    if not value:
        return None
    fields = dict(part.split("=", 1) for part in value.split(";") if "=" in part)
    root, parent = fields.get("Root"), fields.get("Parent")
    if not root or not parent:
        return None
    return TraceContext(root, parent, fields.get("Sampled") == "1")


def sampled() -> bool:
    """Whether X-Ray samples the current invocation: the cheap check to make before
    building a subsegment's fields (most invocations are not sampled)."""
    return "Sampled=1" in os.environ.get(TRACE_ENV, "")


def tracing_enabled() -> bool:
    return bool(os.environ.get(DAEMON_ENV))


class _Daemon:
    """The X-Ray daemon's UDP socket, opened on first use."""

    def __init__(self) -> None:
        self._socket: socket.socket | None = None
        self._named: str | None = None
        self._address: tuple[str, int] = ("", 0)

    def send(self, document: dict[str, Any]) -> None:
        named = os.environ.get(DAEMON_ENV)
        if not named:
            return
        if self._socket is None:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._socket.setblocking(False)
        if named != self._named:
            host, _, port = named.rpartition(":")
            self._named, self._address = named, (host, int(port))
        payload = _HEADER + json.dumps(document, separators=(",", ":")).encode()
        # A trace is never worth failing or slowing a request for.
        with contextlib.suppress(OSError):
            self._socket.sendto(payload, self._address)


daemon = _Daemon()


def record(
    name: str, start: float, end: float, *, namespace: str, error: bool = False, **fields: Any
) -> None:
    """A finished subsegment of the current invocation, when X-Ray sampled it."""
    context = current_trace()
    if context is None or not context.sampled:
        return
    document: dict[str, Any] = {
        "type": "subsegment",
        "id": secrets.token_hex(8),
        "trace_id": context.trace_id,
        "parent_id": context.parent_id,
        "name": name,
        "namespace": namespace,
        "start_time": start,
        "end_time": end,
        **fields,
    }
    if error:
        document["fault"] = True
    daemon.send(document)


@contextmanager
def subsegment(name: str, *, namespace: str = "remote", **fields: Any) -> Iterator[dict[str, Any]]:
    """Times the block as a subsegment; the block may add fields (an HTTP status) to the
    dict it gets. Costs a dict and two clock reads when the invocation is not sampled."""
    extra: dict[str, Any] = {}
    start = time.time()
    error = False
    try:
        yield extra
    except BaseException:
        error = True
        raise
    finally:
        record(name, start, time.time(), namespace=namespace, error=error, **fields, **extra)
