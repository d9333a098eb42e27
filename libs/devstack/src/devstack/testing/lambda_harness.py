"""Running a service's Lambda handler in tests as the Lambda runtime would.

Events are built from real AWS payloads (aws_events/); the handler module (the service's
`main.py`) is imported with the environment a deployment would give it, and invoked on one
thread of its own, as in an execution environment, so its event loop and connection pool
live across invocations exactly as they do in AWS.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).parent / "aws_events"


def _fixture(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def http_event(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    body: bytes | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request on the `$default` stage and route;
    `source_ip`: the client's address as API Gateway saw it (else the sample's)."""
    event = _fixture("api-gateway-http-v2.json")
    sent_headers = {"host": event["requestContext"]["domainName"], "user-agent": "agent"}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        sent_headers["content-type"] = "application/json"
    elif form is not None:
        body = urlencode(form).encode()
        sent_headers["content-type"] = "application/x-www-form-urlencoded"
    sent_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    now = datetime.now(UTC)
    event.update(
        rawPath=path,
        rawQueryString=urlencode(query or {}),
        headers=sent_headers,
        queryStringParameters=dict(query) if query else None,
        cookies=None,
        pathParameters=None,
        stageVariables=None,
        body=base64.b64encode(body).decode() if body is not None else None,
        isBase64Encoded=body is not None,
    )
    context = event["requestContext"]
    context.pop("authentication", None)  # no mutual TLS on this API
    context.pop("authorizer", None)  # no API Gateway authorizer: the services check tokens
    context["http"].update(method=method.upper(), path=path)
    if source_ip is not None:
        context["http"]["sourceIp"] = source_ip
    context.update(
        requestId=uuid.uuid4().hex,
        time=now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        timeEpoch=int(now.timestamp() * 1000),
    )
    return event


def eventbridge_event(detail_type: str, source: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """A custom event on the platform's bus, as a rule delivers it to a target."""
    event = _fixture("eventbridge.json")
    event.pop("replay-name", None)  # a live event, not one replayed from the archive
    event.update(
        id=str(uuid.uuid4()),
        source=source,
        resources=[],
        time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        detail=copy.deepcopy(dict(detail)),
    )
    event["detail-type"] = detail_type
    return event


def scheduled_event() -> dict[str, Any]:
    """What a schedule rule sends its target: source aws.events, an empty detail."""
    event = eventbridge_event("Scheduled Event", "aws.events", {})
    event["resources"] = [f"arn:aws:events:{event['region']}:{event['account']}:rule/sweep"]
    return event


@dataclass
class LambdaContext:
    """The attributes of the runtime's context object that code reads."""

    function_name: str = "svc-test"
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:svc-test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_response_body(response: Mapping[str, Any]) -> bytes:
    body: str = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def http_response_json(response: Mapping[str, Any]) -> Any:
    return json.loads(http_response_body(response))


class LambdaHarness:
    """A service's `main.py`, loaded under `environment` and invoked on its own thread."""

    def __init__(self, main_py: Path, environment: Mapping[str, str]) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")
        with mock.patch.dict(os.environ, environment):
            self.module = self._run(_load_module, main_py)
        self.handler = self.module.handler

    def _run(self, fn: Any, *args: Any) -> Any:
        return self._thread.submit(fn, *args).result()

    def invoke(self, event: Mapping[str, Any], context: LambdaContext | None = None) -> Any:
        return self._run(self.handler, dict(event), context or LambdaContext())

    def close(self) -> None:
        """Release the pool's connections on the loop that opened them, then the thread."""
        database = self.module.app.state.runtime.database
        self._run(lambda: self.handler._loop.run_until_complete(database.dispose()))
        self._thread.shutdown()


def _load_module(main_py: Path) -> ModuleType:
    name = f"lambda_main_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, main_py)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def lambda_harness(main_py: Path, environment: Mapping[str, str]) -> Iterator[LambdaHarness]:
    harness = LambdaHarness(main_py, environment)
    try:
        yield harness
    finally:
        harness.close()
