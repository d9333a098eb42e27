"""Server processes set aside what their start built, and collect young objects less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI

from core.aws_lambda import handler as aws_lambda_handler
from core.heap import YOUNG_GENERATION_THRESHOLD, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_settling_freezes_what_exists_and_raises_the_young_threshold() -> None:
    gc.unfreeze()
    built_at_start = [[] for _ in range(1000)]  # containers: what the collector tracks
    settle_heap()
    assert gc.get_freeze_count() >= len(built_at_start)
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD


def test_a_lambda_handler_settles_the_heap_once_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled: list[bool] = []
    monkeypatch.setattr(aws_lambda_handler, "settle_heap", lambda: settled.append(True))
    app = FastAPI()
    app.state.runtime = SimpleNamespace(name="x")
    handler = aws_lambda_handler.lambda_handler(app, service_dir=tmp_path)
    try:
        assert settled == [True]
    finally:
        handler._loop.close()
