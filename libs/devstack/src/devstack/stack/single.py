"""The app `make run-svc` serves: one service, rebuilt by uvicorn's reloader.

uvicorn runs the app's lifespan, whose shutdown delivers what the outbox relay still holds
(core.web.app), so a reload or a clean stop leaves nothing waiting for the sweep.
"""

from __future__ import annotations

import os
from typing import Any

from core.config import PlatformSettings
from core.events.sinks import InProcessBus
from core.heap import settle_heap
from core.logging import configure_logging
from devstack.stack.bring_up import build_apps
from devstack.stack.console_logs import use_console_logs
from devstack.stack.services import by_name


def create() -> Any:
    configure_logging(PlatformSettings().log_level)
    use_console_logs()
    service = by_name(os.environ["DEVSTACK_SERVICE"])
    app = build_apps([service], InProcessBus())[service.name]
    settle_heap()
    return app
