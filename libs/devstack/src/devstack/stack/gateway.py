"""One ASGI app in front of every service, routing by the shared route table."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from core.routing import service_for_path


class LocalGateway:
    """What API Gateway does in AWS: a path prefix picks the service.

    The service runs in this process and gets the request's own scope: its client is the
    socket's peer, as a function's is API Gateway's sourceIp. Nothing is proxied, so no
    forwarding header is added and none is to be trusted (core.web.addresses)."""

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self._apps = dict(apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        service = service_for_path(scope["path"])
        app = self._apps.get(service.name) if service else None
        if app is None:
            await self._not_found(scope, send)
            return
        await app(scope, receive, send)

    async def _not_found(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "/problems/not_found",
                "title": "Not found",
                "status": 404,
                "detail": f"No service serves {scope['path']}",
                "code": "not_found",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
