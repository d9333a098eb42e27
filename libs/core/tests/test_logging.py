"""Structured logs go to standard output: the one in place when a record comes."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core.logging import JsonFormatter, configure_logging


@pytest.fixture
def unconfigured_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers = []
    yield root
    root.handlers = handlers
    root.setLevel(level)


def test_a_stdout_replaced_and_closed_after_configuration_is_not_written_to(
    unconfigured_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As under pytest, whose capture of a test that imports a main.py is closed later."""
    configured_under = io.StringIO()
    monkeypatch.setattr(sys, "stdout", configured_under)
    configure_logging()
    configured_under.close()
    current = io.StringIO()
    monkeypatch.setattr(sys, "stdout", current)

    logging.getLogger("core.tests").info("after the swap")

    (line,) = current.getvalue().splitlines()
    assert json.loads(line)["message"] == "after the swap"


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's zone is +05:30: a local time would show it."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_json_line_carries_its_time_in_utc_to_the_millisecond_with_its_offset(
    far_from_utc: None,
) -> None:
    record = logging.LogRecord("access", logging.INFO, __file__, 1, "GET /", (), None)
    record.created = datetime(2026, 12, 7, 20, 56, 1, 123_456, tzinfo=UTC).timestamp()
    line = json.loads(JsonFormatter().format(record))
    assert line["time"] == "2026-12-07T20:56:01.123+00:00"
    assert datetime.fromisoformat(line["time"]).timestamp() == pytest.approx(
        record.created, abs=1e-3
    )
