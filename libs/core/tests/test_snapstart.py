"""SnapStart: what a restored execution environment redoes (core.aws_lambda.snapstart)."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from types import ModuleType

import pytest

from core.aws_lambda.snapstart import register_restore_hooks, reseed


def test_outside_lambdas_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert register_restore_hooks() is False


def test_each_restore_reseeds_random(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies restored from one snapshot would otherwise draw the same numbers (botocore's
    retry jitter among them)."""
    registered: list[Callable[[], None]] = []
    runtime_library = ModuleType("snapshot_restore_py")
    runtime_library.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime_library)

    assert register_restore_hooks() is True
    assert registered == [reseed]

    state = random.getstate()
    snapshot_draw = random.random()
    random.setstate(state)  # as every copy restored from the snapshot would start
    registered[0]()
    assert random.random() != snapshot_draw
