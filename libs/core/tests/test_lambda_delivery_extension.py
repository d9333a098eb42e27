"""Events delivered after the response: the handler answers first, the internal extension
delivers, and only then asks Lambda for its next event (a fake Extensions API plays Lambda)."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request

from core.aws_lambda.handler import ServiceLambdaHandler
from core.metrics.recorder import MetricsRecorder
from devstack.testing.lambda_extensions_api import extensions_api
from devstack.testing.lambda_harness import LambdaContext, http_event, http_response_json


class HeldRelay:
    """Keeps what a request commits, as the relay does after the response, and delivers it
    only once the test releases it."""

    def __init__(self) -> None:
        self.mode = "inline"
        self.modes: list[str] = []
        self.kept: list[str] = []
        self.delivered: list[str] = []
        self.delivered_at: float | None = None
        self.release = threading.Event()

    async def deliver_after_response(self) -> int:
        assert self.release.wait(10), "the test never released the delivery"
        self.delivered, self.kept = [*self.delivered, *self.kept], []
        self.delivered_at = time.perf_counter()
        return len(self.delivered)


def app_with(relay: HeldRelay) -> FastAPI:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(
        name="x", relay=relay, metrics=MetricsRecorder("x", namespace="CouponPlatform/test")
    )

    @app.post("/write")
    async def write(request: Request) -> dict[str, Any]:
        held: HeldRelay = request.app.state.runtime.relay
        held.modes.append(held.mode)
        held.kept.append(f"event-{len(held.modes)}")
        return {"written": True}

    return app


def test_the_caller_has_its_answer_before_delivery_and_delivery_ends_before_next(
    tmp_path: Path,
) -> None:
    relay = HeldRelay()
    handler = ServiceLambdaHandler(app_with(relay), service_dir=tmp_path)
    returned = threading.Event()

    def invoke() -> Any:
        answer = handler(http_event("POST", "/write"), LambdaContext())
        returned.set()
        return answer

    with extensions_api() as api, ThreadPoolExecutor(1) as lambda_service:
        assert handler.start_delivery_extension(api.address)
        assert api.registrations == [{"name": "outbox-delivery", "events": ["INVOKE"]}]
        assert api.wait_for_next(1)  # its init done: waiting for the first invocation

        running = lambda_service.submit(api.invoke, invoke)
        assert returned.wait(10)
        # The caller has its answer; the event is kept, not delivered, and the extension
        # has not yet told Lambda it is done (the environment cannot freeze).
        assert relay.modes == ["after_response"]
        assert relay.kept == ["event-1"]
        assert relay.delivered == []
        time.sleep(0.05)
        assert len(api.next_calls) == 1

        relay.release.set()
        response, invocation = running.result(timeout=10)
        assert http_response_json(response) == {"written": True}
        assert relay.delivered == ["event-1"]
        assert relay.delivered_at is not None
        assert invocation.handler_returned_at < relay.delivered_at < api.next_calls[1]

        # The next invocation the same way.
        response, _ = api.invoke(lambda: handler(http_event("POST", "/write"), LambdaContext()))
        assert relay.modes == ["after_response", "after_response"]
        assert relay.delivered == ["event-1", "event-2"]
    handler._loop.close()


def test_without_the_extensions_api_events_go_inline(tmp_path: Path) -> None:
    relay = HeldRelay()
    handler = ServiceLambdaHandler(app_with(relay), service_dir=tmp_path)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert not handler.start_delivery_extension(f"127.0.0.1:{port}")
    handler(http_event("POST", "/write"), LambdaContext())
    assert relay.modes == ["inline"]
    handler._loop.close()
