"""Structured logs go to standard output: the one in place when a record comes."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from core.logging import configure_logging


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
