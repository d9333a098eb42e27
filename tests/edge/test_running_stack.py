"""The edge of a running stack (`python -m devstack run`), as a client on the network meets
it: one process serves every service, so a request that holds the process holds them all."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from core.routing import SERVICES
from devstack.__main__ import STOP_GRACE_SECONDS
from devstack.stack.spawned import SpawnedStack, spawned_stack

pytestmark = pytest.mark.slow  # starts whole stacks of its own

GRAPHQL_PATHS = [f"/graphql/{service.name}" for service in SERVICES]  # warmed by `stack`


def fan_out(n: int) -> str:
    """About 30n bytes that stand for 2^n spreads of one fragment."""
    fragments = ["fragment F0 on Query { __typename }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return f"query {{ ...F{n} }} {' '.join(fragments)}"


@pytest.mark.parametrize("n", [21, 29])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_fan_out_document_is_refused_at_once_and_the_stack_keeps_serving(
    stack: SpawnedStack, method: str, n: int
) -> None:
    # The client's own bound is short: the stack's answer must come well before it.
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=5) as http:
        for path in GRAPHQL_PATHS:

            async def timed(request: httpx.Request) -> tuple[httpx.Response, float]:
                started = time.perf_counter()
                response = await http.send(request)
                return response, time.perf_counter() - started

            document = {"query": fan_out(n)}
            asked = (
                http.build_request("POST", path, json=document)
                if method == "POST"
                else http.build_request("GET", path, params=document)
            )
            (refused, refused_in), (health, health_in) = await asyncio.gather(
                timed(asked), timed(http.build_request("GET", "/api/v1/auth/health"))
            )
            assert refused.status_code == 400, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "query_too_complex"
            assert refused_in < 1.0, f"{method} {path}: {refused_in:.2f} s"
            assert health.status_code == 200
            assert health_in < 1.0, f"health beside {method} {path}: {health_in:.2f} s"


def test_a_stop_does_not_wait_for_a_request_that_never_ends(database_server: str) -> None:
    with spawned_stack(database_server) as running:
        address = urlsplit(running.base_url)
        with socket.create_connection((address.hostname, address.port)) as client:
            # The headers promise a body that never comes: the request is in flight for good.
            client.sendall(
                b"POST /graphql/merchants HTTP/1.1\r\nHost: stack\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                b'{"query": "'
            )
            time.sleep(0.5)  # the server has read the headers and called the app
            assert httpx.get(f"{running.base_url}/api/v1/auth/health").status_code == 200
            started = time.monotonic()
            running.process.send_signal(signal.SIGTERM)
            # The grace period, then the relays, the databases and DynamoDB stop.
            assert running.process.wait(timeout=STOP_GRACE_SECONDS + 15) == 0
            assert time.monotonic() - started >= STOP_GRACE_SECONDS - 1


def test_no_answer_builds_a_url_from_the_host_header(stack: SpawnedStack) -> None:
    with httpx.Client(base_url=stack.base_url, headers={"Host": "evil.example"}) as http:
        for path in ("/api/v1/merchants/", "/api/v1/campaigns/", "/graphql/auth/"):
            answer = http.get(path)
            assert answer.status_code == 404, answer.headers
            assert "location" not in answer.headers


def test_no_answer_names_the_server(stack: SpawnedStack) -> None:
    with httpx.Client(base_url=stack.base_url) as http:
        answers = [
            http.get("/api/v1/coupons/health"),
            http.get("/api/v1/campaigns", params={"limit": 0}),
            http.post("/graphql/merchants", json={"query": "{ __typename }"}),
            http.get("/no/service/here"),
        ]
    for answer in answers:
        assert "server" not in answer.headers, (answer.request.url, answer.headers)
