"""Events delivered after the response: an internal Lambda extension.

A write's audit event used to be delivered inside the invocation, so the caller waited for
boto3 and a DynamoDB round trip after the commit. Lambda freezes the execution environment
once the handler has returned and every registered extension has asked for its next event,
so work simply left for later would not run until some later invocation, if ever.

This extension is a thread of the function's own process, registered with the Extensions
API at init (`Lambda-Extension-Name`, INVOKE events). For each invocation it receives the
INVOKE event, waits until the handler has returned (the response is on its way to the
caller), delivers what the invocation committed, and only then asks for the next event:
the environment is not frozen before the events are out, and the next invocation does not
start before then either, so the event loop the delivery runs on is the handler's own, idle
in between.

Nothing is lost whatever happens after the response: every event's outbox row committed
with its write. A failed delivery is recorded on the row and retried by the scheduled sweep,
as an inline one is; an environment that dies before delivering (a crash, a timeout) leaves
the rows undelivered, and the sweep delivers them once they are `outbox_sweep_after_seconds`
old. When the extension cannot register or its thread stops, the handler delivers inline,
before returning, as it did before.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

API_VERSION = "2020-01-01"
NAME = "outbox-delivery"
# Waiting for the handler to return: Lambda ends an invocation at its deadline anyway.
DEFAULT_WAIT_SECONDS = 900.0


class ExtensionUnavailable(RuntimeError):
    """The Extensions API refused or could not be reached."""


class DeliveryExtension:
    """Registered by `start()`; the handler calls `invocation_returned()` once its answer is
    final, and `wait_idle()` before touching the event loop the delivery runs on."""

    def __init__(self, runtime_api: str, deliver: Callable[[], None], *, name: str = NAME) -> None:
        self._runtime_api = runtime_api
        self._deliver = deliver
        self._name = name
        self._identifier: str | None = None
        self._returned = threading.Semaphore(0)
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._connection: http.client.HTTPConnection | None = None
        self.alive = False

    # --- the Extensions API ------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """On one kept-alive connection (a new one per call would cost a connect twice an
        invocation); a connection the API closed meanwhile is opened again, once."""
        try:
            return self._exchange(method, path, headers=headers, body=body)
        except (http.client.HTTPException, OSError):
            self._disconnect()
            return self._exchange(method, path, headers=headers, body=body)

    def _exchange(
        self, method: str, path: str, *, headers: dict[str, str], body: bytes | None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        # `next` blocks until the next invocation: no timeout on the socket.
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._runtime_api)
        self._connection.request(method, f"/{API_VERSION}/extension/{path}", body, headers)
        response = self._connection.getresponse()
        return response, response.read()

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _register(self) -> str:
        response, body = self._request(
            "POST",
            "register",
            headers={"Lambda-Extension-Name": self._name, "Content-Type": "application/json"},
            body=json.dumps({"events": ["INVOKE"]}).encode(),
        )
        identifier = response.getheader("Lambda-Extension-Identifier")
        if response.status != 200 or not identifier:
            raise ExtensionUnavailable(f"register answered {response.status}: {body[:200]!r}")
        return identifier

    def _next(self) -> dict[str, Any]:
        assert self._identifier is not None
        response, body = self._request(
            "GET", "event/next", headers={"Lambda-Extension-Identifier": self._identifier}
        )
        if response.status != 200:
            raise ExtensionUnavailable(f"event/next answered {response.status}: {body[:200]!r}")
        event: dict[str, Any] = json.loads(body)
        return event

    # --- the handler's side -----------------------------------------------------------

    def start(self) -> bool:
        """Registers and starts the thread (at init, before the first invocation); False,
        with the reason logged, when the Extensions API refuses."""
        try:
            self._identifier = self._register()
        except (OSError, ExtensionUnavailable, http.client.HTTPException) as exc:
            logger.warning("delivery extension not registered, events go inline: %r", exc)
            return False
        self.alive = True
        self._thread = threading.Thread(target=self._run, name=f"extension-{self._name}")
        self._thread.daemon = True
        self._thread.start()
        return True

    def invocation_returned(self) -> None:
        """The handler's answer is final: what it committed may be delivered now."""
        self._idle.clear()
        self._returned.release()

    def wait_idle(self, timeout: float) -> bool:
        """Whether the last invocation's delivery is done (Lambda guarantees it before the
        next invocation; this makes sure of it wherever the handler runs)."""
        return self._idle.wait(timeout)

    # --- the thread -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                # The first call ends this extension's init; each later one says the
                # invocation's deliveries are done, and waits for the next invocation.
                event = self._next()
                if event.get("eventType") != "INVOKE":
                    continue
                self._after(event)
        except Exception as exc:
            # The handler goes back to inline delivery; what is pending now is in the
            # outbox for the sweep.
            logger.error("delivery extension stopped, events go inline: %r", exc)
        finally:
            self.alive = False
            self._idle.set()

    def _after(self, event: dict[str, Any]) -> None:
        deadline_ms = event.get("deadlineMs")
        wait = (
            max(0.0, deadline_ms / 1000 - time.time())
            if isinstance(deadline_ms, int | float)
            else DEFAULT_WAIT_SECONDS
        )
        if not self._returned.acquire(timeout=wait):
            logger.warning(
                "invocation %s did not return before its deadline", event.get("requestId")
            )
            return
        try:
            self._deliver()
        except Exception:
            logger.exception("delivery after the response failed; the outbox sweep will retry")
        finally:
            self._idle.set()
