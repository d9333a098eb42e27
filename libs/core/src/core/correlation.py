"""The correlation id: one value for everything a request to the platform causes.

It is the API Gateway request id of the request that started it (what the API's access
log records as `requestId`), or a local request's own id; a service calling another
passes it on in `X-Correlation-Id`, and the events a request writes carry it to their
audit items, to EventBridge, and to the consumers they reach, whose logs and events carry
it in turn. Every log line has it (core.logging).

A caller may send its own: it is taken when it looks like an id (a short run of
letters, digits and `-_.:=+/`), never echoed into logs otherwise.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

HEADER = "x-correlation-id"
_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current() -> str | None:
    return correlation_id.get()


def accepted(value: str | None) -> str | None:
    """`value` when it may serve as a correlation id, else None."""
    return value if value and _ID.fullmatch(value) else None
