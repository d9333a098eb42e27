"""The Lambda handler delivers events inline, whatever the settings say."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData

from core.aws_lambda.handler import ServiceLambdaHandler, UnknownEventError
from core.config import Environment, PlatformSettings
from core.database.engine import Database
from core.database.platform_tables import PlatformTables
from core.events.relay import OutboxRelay
from core.metrics.recorder import MetricsRecorder


def test_event_delivery_defaults_to_background_for_long_running_servers() -> None:
    assert PlatformSettings(environment=Environment.LOCAL).event_delivery == "background"


def test_an_invocation_switches_a_background_relay_to_inline(tmp_path: Path) -> None:
    settings = PlatformSettings(environment=Environment.TEST, event_delivery="background")
    relay = OutboxRelay(
        database=Database(settings),
        table=PlatformTables.define(MetaData(schema="x")).outbox,
        source="x",
        sinks=[],
        mode=settings.event_delivery,
    )
    app = FastAPI()
    metrics = MetricsRecorder("x", namespace="CouponPlatform/test")
    app.state.runtime = SimpleNamespace(name="x", relay=relay, metrics=metrics)
    handler = ServiceLambdaHandler(app, service_dir=tmp_path)
    try:
        assert relay.mode == "background"  # building the handler (importing main.py) alone
        with pytest.raises(UnknownEventError):
            handler({"neither": "http nor an action"}, None)
        assert relay.mode == "inline"
        assert metrics.publishing  # and its metrics are flushed as EMF after each invocation
    finally:
        handler._loop.close()
