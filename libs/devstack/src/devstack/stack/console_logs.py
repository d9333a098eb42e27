"""One readable, coloured line per log record, for the local stack in a terminal.

JSON (core.logging) stays the format everywhere else: in AWS, when the output is not a
terminal, and whenever LOG_FORMAT=json.
"""

from __future__ import annotations

import logging
import os
import sys

from core.logging import request_id, utc_timestamp

LOG_FORMAT = "LOG_FORMAT"  # json, console, or unset: console in a terminal, else json

_RESET = "\033[0m"
_DIM = "\033[2m"
_LEVEL_COLOURS = {
    "DEBUG": "\033[2m",
    "INFO": "\033[32m",
    "WARNING": "\033[33m",
    "ERROR": "\033[31m",
    "CRITICAL": "\033[1;31m",
}
# What the access log adds to its message, shown after it.
_SHOWN_EXTRAS = ("duration_ms",)


class ConsoleFormatter(logging.Formatter):
    def __init__(self, *, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def _paint(self, text: str, colour: str) -> str:
        return f"{colour}{text}{_RESET}" if self.colour else text

    def format(self, record: logging.LogRecord) -> str:
        stamp = utc_timestamp(record.created)  # as the JSON lines write it
        level = record.levelname
        parts = [
            self._paint(stamp, _DIM),
            self._paint(f"{level:<7}", _LEVEL_COLOURS.get(level, "")),
            self._paint(f"{record.name:<22}", _DIM),
            record.getMessage(),
        ]
        extras = [f"{vars(record)[k]}ms" for k in _SHOWN_EXTRAS if k in vars(record)]
        rid = request_id.get()
        if rid:
            extras.append(f"req {rid[:8]}")
        if extras:
            parts.append(self._paint(" ".join(extras), _DIM))
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def wants_console(stream: object = None) -> bool:
    chosen = os.environ.get(LOG_FORMAT, "").strip().lower()
    if chosen in ("json", "console"):
        return chosen == "console"
    isatty = getattr(stream if stream is not None else sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def use_console_logs() -> bool:
    """Give the root logger's handlers the console format when it is wanted."""
    if not wants_console():
        return False
    formatter = ConsoleFormatter(colour=not os.environ.get("NO_COLOR"))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    return True
