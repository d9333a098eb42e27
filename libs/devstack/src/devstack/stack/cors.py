"""CORS for the local gateway: the portals' development servers may call it from a browser.

PORTAL_ORIGINS lists the allowed origins, comma-separated; an origin may end in a port
range (`http://localhost:3000-3010`). The services themselves add no CORS headers: in
AWS the HTTP API answers for them.
"""

from __future__ import annotations

import os
import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from core.cors import ALLOWED_HEADERS, EXPOSED_HEADERS, PREFLIGHT_MAX_AGE_SECONDS

PORTAL_ORIGINS = "PORTAL_ORIGINS"
DEFAULT_PORTAL_ORIGINS = "http://localhost:3000-3010"
_PORT_RANGE = re.compile(r"^(?P<base>https?://[^/:]+):(?P<first>\d+)-(?P<last>\d+)$")


def expand_origins(spec: str) -> list[str]:
    origins: list[str] = []
    for item in (part.strip().rstrip("/") for part in spec.split(",")):
        ranged = _PORT_RANGE.match(item)
        if ranged:
            first, last = int(ranged["first"]), int(ranged["last"])
            origins += [f"{ranged['base']}:{port}" for port in range(first, last + 1)]
        elif item:
            origins.append(item)
    return origins


def portal_origins_spec() -> str:
    return os.environ.get(PORTAL_ORIGINS) or DEFAULT_PORTAL_ORIGINS


def with_cors(app: ASGIApp, origins: list[str]) -> ASGIApp:
    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=["*"],
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
