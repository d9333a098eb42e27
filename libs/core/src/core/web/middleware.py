"""Request and correlation ids, access log, request metrics and the caching of personal
answers, as a pure ASGI middleware (no per-request task overhead)."""

from __future__ import annotations

import logging
import time
from secrets import token_hex

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import correlation
from core.logging import mask, request_id
from core.metrics.recorder import MetricsRecorder

logger = logging.getLogger("access")

# Path parameters that are bearer secrets (a coupon code is as good as the coupon).
SECRET_PATH_PARAMS = frozenset({"code"})


def loggable_path(scope: Scope) -> str:
    """The request path with secret path parameters masked, once routing has named them."""
    path: str = scope["path"]
    params = scope.get("path_params") or {}
    for name in SECRET_PATH_PARAMS & params.keys():
        value = str(params[name])
        if value:
            path = path.replace(value, mask(value))
    return path


def route_template(scope: Scope) -> str:
    """`POST /api/v1/coupons/codes/{code}/redeem`: what routing matched, never the path
    itself (a coupon's code is part of some paths, and a metric dimension per code would
    both leak it and cost a metric each)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return f"{scope['method']} {path}" if path else f"{scope['method']} (unmatched)"


def gateway_request_id(scope: Scope) -> str | None:
    """API Gateway's id of the request (its access log's `requestId`), under Mangum."""
    event = scope.get("aws.event") or {}
    found: str | None = (event.get("requestContext") or {}).get("requestId")
    return found


def no_store(headers: list[tuple[bytes, bytes]]) -> None:
    """An answer to a caller who said who they are (a wallet, `/me`, their transfers, a
    token) is theirs alone: no cache keeps it, unless the route said otherwise itself."""
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        headers.append((b"cache-control", b"no-store"))


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: MetricsRecorder | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        lambda_context = scope.get("aws.context")
        # In Lambda the platform's own id wins: a client cannot choose what our logs say.
        rid = getattr(lambda_context, "aws_request_id", None) or incoming[:100] or token_hex(16)
        gateway_id = gateway_request_id(scope)
        # A service calling another passes its own on; else this request starts one.
        cid = (
            correlation.accepted(headers.get(b"x-correlation-id", b"").decode("latin-1"))
            or gateway_id
            or rid
        )
        token = request_id.set(rid)
        correlation_token = correlation.correlation_id.set(cid)
        started = time.perf_counter()
        status = 500

        personal = b"authorization" in headers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", rid.encode()),
                    (b"x-correlation-id", cid.encode()),
                ]
                if personal:
                    no_store(message["headers"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            if self.metrics is not None:
                self.metrics.request(route_template(scope), status, duration_ms)
            extra: dict[str, object] = {"status": status, "duration_ms": round(duration_ms, 2)}
            if gateway_id is not None and gateway_id != cid:
                # A correlation id passed on by a caller: this hop's own line in the API's
                # access log is found by this one.
                extra["gateway_request_id"] = gateway_id
            logger.info("%s %s %s", scope["method"], loggable_path(scope), status, extra=extra)
            correlation.correlation_id.reset(correlation_token)
            request_id.reset(token)
