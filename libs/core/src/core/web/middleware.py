"""Request id and access log, as a pure ASGI middleware (no per-request task overhead)."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logging import mask, request_id

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


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        lambda_context = scope.get("aws.context")
        # In Lambda the platform's own id wins: a client cannot choose what our logs say.
        rid = getattr(lambda_context, "aws_request_id", None) or incoming[:100] or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logger.info(
                "%s %s %s",
                scope["method"],
                loggable_path(scope),
                status,
                extra={
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id.reset(token)
