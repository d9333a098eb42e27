"""The local stack's terminal log lines, and when JSON stays."""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime

import pytest

from core.logging import request_id
from devstack.stack.console_logs import ConsoleFormatter, wants_console


def record(message: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("access", level, __file__, 1, message, (), None)
    entry.__dict__.update(extra)
    return entry


def test_one_plain_line_with_level_logger_message_and_duration() -> None:
    token = request_id.set("0123456789abcdef")
    try:
        line = ConsoleFormatter(colour=False).format(
            record("GET /api/v1/wallet 200", duration_ms=3.2)
        )
    finally:
        request_id.reset(token)
    assert "\n" not in line
    assert "INFO" in line
    assert "access" in line
    assert (
        line.split("access", 1)[1].strip().startswith("GET /api/v1/wallet 200 3.2ms req 01234567")
    )
    assert not line.startswith("{")


def test_colour_marks_the_level() -> None:
    line = ConsoleFormatter(colour=True).format(record("boom", logging.ERROR))
    assert "\033[31mERROR" in line


def test_log_format_decides_and_a_terminal_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert wants_console(Terminal())
    assert not wants_console(io.StringIO())
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert not wants_console(Terminal())
    monkeypatch.setenv("LOG_FORMAT", "console")
    assert wants_console(io.StringIO())


def test_a_line_starts_with_its_time_in_utc_to_the_millisecond_with_its_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        entry = record("GET /api/v1/wallet 200")
        entry.created = datetime(2026, 12, 7, 20, 56, 1, 123_999, tzinfo=UTC).timestamp()
        line = ConsoleFormatter(colour=False).format(entry)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert line.startswith("2026-12-07T20:56:01.123+00:00 INFO ")
