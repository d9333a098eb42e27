"""AWS clients that never hold a request for long: explicit timeouts, a small retry budget,
and a breaker that stops asking a dependency for a few seconds once it has timed out.

boto3's defaults (60 s to connect, 60 s to read, several retries) let one throttled or
unreachable endpoint hold a request for minutes, and a Lambda invocation until its limit.
Here a call waits at most `aws_connect_timeout_seconds` + `aws_read_timeout_seconds` per
attempt, for `aws_max_attempts` attempts; and after a timeout or a failed connection the
client's breaker opens: every call fails at once, as a BotoCoreError (`DependencyResting`),
for `aws_breaker_seconds`, so the next requests do not each wait out the same timeout.
Callers already treat a BotoCoreError as the dependency being down (a cache miss, a 503,
an event left in the outbox for the sweep).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from core.config import PlatformSettings

logger = logging.getLogger(__name__)

_UNREACHABLE = (
    ConnectTimeoutError,
    ReadTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


class DependencyResting(BotoCoreError):
    fmt = "{service} did not answer a moment ago; not asked again for {seconds:.0f} s"


class Breaker:
    """Opens for `cooldown` seconds when a call could not reach the service or timed out.
    Shared by the threads a client's calls run on; a race only lets one more call through."""

    def __init__(self, service: str, cooldown: float) -> None:
        self._service = service
        self._cooldown = cooldown
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def before_send(self, **kwargs: Any) -> None:
        if self.is_open:
            raise DependencyResting(service=self._service, seconds=self._cooldown)

    def needs_retry(self, caught_exception: BaseException | None = None, **kwargs: Any) -> None:
        if isinstance(caught_exception, _UNREACHABLE):
            if not self.is_open:
                logger.warning(
                    "%s unreachable (%s): failing fast for %.0f s",
                    self._service,
                    type(caught_exception).__name__,
                    self._cooldown,
                )
            self._open_until = time.monotonic() + self._cooldown


def bounded_client(service: str, settings: PlatformSettings, **options: Any) -> Any:
    """A boto3 client for `service` with the settings' time budget and its own breaker."""
    import boto3
    from botocore.config import Config

    client: Any = boto3.client(  # type: ignore[call-overload]  # service is any name
        service,
        region_name=settings.aws_region,
        config=Config(
            connect_timeout=settings.aws_connect_timeout_seconds,
            read_timeout=settings.aws_read_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
        ),
        **options,
    )
    breaker = Breaker(service, settings.aws_breaker_seconds)
    client.meta.events.register("before-send", breaker.before_send)
    client.meta.events.register("needs-retry", breaker.needs_retry)
    client.breaker = breaker
    return client
