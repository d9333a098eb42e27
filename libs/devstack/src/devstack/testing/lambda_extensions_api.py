"""Lambda's Extensions API on a local port, for tests and benches of an internal extension.

It answers `register` and `event/next` as Lambda does, and plays Lambda's part in each
invocation: `invoke()` hands the extension its INVOKE event, runs the handler (the caller's
wait), then waits until the extension asks for its next event, which is when Lambda would
let the environment freeze or start the next invocation. It records when each `next` came.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2020-01-01/extension"


@dataclass
class Invocation:
    request_id: str
    handler_started_at: float = 0.0  # time.perf_counter()
    handler_returned_at: float = 0.0
    extension_done_at: float = 0.0

    @property
    def caller_waited_seconds(self) -> float:
        return self.handler_returned_at - self.handler_started_at

    @property
    def after_response_seconds(self) -> float:
        """How long the environment stayed busy after the caller had its answer."""
        return self.extension_done_at - self.handler_returned_at


@dataclass
class FakeExtensionsApi:
    registrations: list[dict[str, Any]] = field(default_factory=list)
    next_calls: list[float] = field(default_factory=list)  # time.perf_counter()
    identifier: str = field(default_factory=lambda: str(uuid.uuid4()))
    _condition: threading.Condition = field(default_factory=threading.Condition)
    _waiting: bool = False
    _event: dict[str, Any] | None = None
    _sent: int = 0  # INVOKE events written to the extension's connection
    address: str = ""

    # --- the server's side --------------------------------------------------------------

    def register(self, name: str | None, body: dict[str, Any]) -> None:
        with self._condition:
            self.registrations.append({"name": name, **body})

    def next_event(self) -> dict[str, Any]:
        with self._condition:
            self.next_calls.append(time.perf_counter())
            self._waiting = True
            self._condition.notify_all()
            while self._event is None:
                self._condition.wait()
            event, self._event = self._event, None
            self._waiting = False
            return event

    def sent(self) -> None:
        with self._condition:
            self._sent += 1
            self._condition.notify_all()

    # --- Lambda's side ------------------------------------------------------------------

    def wait_for_next(self, calls: int, timeout: float = 10.0) -> bool:
        """Whether the extension has called `next` `calls` times and waits in it."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self._waiting and len(self.next_calls) >= calls, timeout
            )

    def invoke(
        self, handler: Callable[[], Any], *, timeout: float = 30.0
    ) -> tuple[Any, Invocation]:
        """One invocation as Lambda runs it: the INVOKE event to the waiting extension, the
        handler, then the extension's next `next` (the environment's end of the invocation)."""
        calls = len(self.next_calls)
        if not self.wait_for_next(calls, timeout):
            raise AssertionError("the extension is not waiting for an event")
        invocation = Invocation(request_id=str(uuid.uuid4()))
        with self._condition:
            sent = self._sent
            self._event = {
                "eventType": "INVOKE",
                "requestId": invocation.request_id,
                "deadlineMs": int((time.time() + timeout) * 1000),
                "invokedFunctionArn": "arn:aws:lambda:eu-central-1:123456789012:function:x",
                "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-0-0"},
            }
            self._condition.notify_all()
            # Lambda sends the event from outside the process: this server's own work in
            # this process (a thread writing the answer) is done before the handler starts.
            if not self._condition.wait_for(lambda: self._sent > sent, timeout):
                raise AssertionError("the INVOKE event was never sent")
        invocation.handler_started_at = time.perf_counter()
        answer = handler()
        invocation.handler_returned_at = time.perf_counter()
        if not self.wait_for_next(calls + 1, timeout):
            raise AssertionError("the extension never finished the invocation")
        invocation.extension_done_at = self.next_calls[calls]
        return answer, invocation


def _handler_class(api: FakeExtensionsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as Lambda's API is
        # An answer's headers and body are two writes: without this, a kept-alive
        # connection waits out the client's delayed ACK (40 ms) on each.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: a line per request on stderr would bury the test's own output."""

        def _answer(self, status: int, body: dict[str, Any], **headers: str) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != f"{PREFIX}/register":
                self._answer(404, {"errorType": "NotFound"})
                return
            api.register(self.headers.get("Lambda-Extension-Name"), body)
            self._answer(
                200,
                {"functionName": "x", "functionVersion": "$LATEST", "handler": "main.handler"},
                **{"Lambda-Extension-Identifier": api.identifier},
            )

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/event/next":
                self._answer(404, {"errorType": "NotFound"})
                return
            if self.headers.get("Lambda-Extension-Identifier") != api.identifier:
                self._answer(403, {"errorType": "Extension.Unregistered"})
                return
            self._answer(200, api.next_event())
            api.sent()

    return Handler


@contextmanager
def extensions_api() -> Iterator[FakeExtensionsApi]:
    """The API on 127.0.0.1, its address (AWS_LAMBDA_RUNTIME_API's form) in `address`."""
    api = FakeExtensionsApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(api))
    server.daemon_threads = True
    api.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-extensions-api")
    thread.daemon = True
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
