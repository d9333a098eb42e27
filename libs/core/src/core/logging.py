"""Structured JSON logs, each line carrying the request id of the request it belongs to,
the correlation id of everything that request caused (core.correlation), and in Lambda
the X-Ray trace id of the invocation."""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from core.correlation import correlation_id

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# color_message: uvicorn's ANSI-coloured duplicate of the message.
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "color_message",
}


def utc_timestamp(created: float) -> str:
    """A record's time as `2026-12-07T20:56:01.123+00:00`: UTC whatever the machine's zone,
    to the millisecond, with the offset written out, so that lines from a laptop, CI and
    AWS sort and compare as they are."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


# One encoder for every line: json.dumps with any option builds a new one per call.
_encode = json.JSONEncoder(default=str).encode


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
            "correlation_id": correlation_id.get(),
        }
        # Lambda sets it per invocation (active tracing): a log line leads to its trace.
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        if trace:
            entry["trace_id"] = trace.partition(";")[0].removeprefix("Root=")
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS:  # what `extra` added, in its order
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry)


class StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to `sys.stdout` as it is when a record comes, like logging's own last resort
    does with stderr.

    A handler holding the stream found at configuration would keep writing to it after it
    is replaced and closed: pytest swaps `sys.stdout` for its capture while a test imports
    a service's main.py (which configures logging) and closes that capture at the end of
    the session, before the exit hooks that still log (pgserver stopping the embedded
    server).
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)  # StreamHandler's would set the stream

    @property
    def stream(self) -> TextIO:  # type: ignore[override]  # read-only: always the current one
        return sys.stdout


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)


def mask(secret: str, keep: int = 4) -> str:
    """For logs: never a secret, token or coupon code in full."""
    return secret[:keep] + "…" if len(secret) > keep else "…"
