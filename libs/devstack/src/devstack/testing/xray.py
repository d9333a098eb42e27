"""A stand-in for Lambda's X-Ray daemon in tests: the UDP socket core.tracing sends its
subsegments to, and the environment of a sampled invocation pointing at it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

SAMPLED_TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


class XRayDaemon:
    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"

    def received(self, wait: float = 0.2) -> list[dict[str, Any]]:
        """Every subsegment sent so far (each datagram: a header line, then the document)."""
        documents: list[dict[str, Any]] = []
        self.socket.settimeout(wait)
        while True:
            try:
                payload = self.socket.recv(65536)
            except TimeoutError:
                return documents
            header, _, body = payload.partition(b"\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            documents.append(json.loads(body))


@contextmanager
def sampled_invocation(monkeypatch: pytest.MonkeyPatch) -> Iterator[XRayDaemon]:
    """The environment Lambda gives a sampled invocation with active tracing on."""
    daemon = XRayDaemon()
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", daemon.address)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED_TRACE)
    try:
        yield daemon
    finally:
        daemon.socket.close()
