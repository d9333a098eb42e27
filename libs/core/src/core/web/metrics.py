"""`/api/v1/<service>/metrics` on a local stack: the metrics a deployed function records in
CloudWatch, as Prometheus text, so a developer sees what production will record."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.metrics.prometheus import CONTENT_TYPE, render
from core.metrics.recorder import MetricsRecorder


def metrics_route(path: str, recorder: MetricsRecorder) -> Route:
    async def metrics(request: Request) -> Response:
        return Response(render([recorder]), media_type=CONTENT_TYPE)

    return Route(path, metrics, methods=["GET"], include_in_schema=False)
