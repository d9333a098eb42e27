"""AWS clients with a time budget: an endpoint that accepts connections and never answers
(a paused or overloaded DynamoDB) costs one bounded wait, then calls fail at once until
the breaker's rest is over."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import BotoCoreError, ReadTimeoutError

from core.aws_clients import DependencyResting, bounded_client
from core.config import Environment, PlatformSettings


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A listening socket nobody reads: connects succeed, answers never come."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def settings(**overrides: object) -> PlatformSettings:
    return PlatformSettings(
        environment=Environment.TEST,
        aws_read_timeout_seconds=0.3,
        aws_max_attempts=3,
        aws_breaker_seconds=0.8,
        **overrides,  # type: ignore[arg-type]
    )


def test_a_silent_endpoint_costs_one_timeout_then_calls_fail_at_once(silent_endpoint: str) -> None:
    client = bounded_client("dynamodb", settings(), endpoint_url=silent_endpoint)
    started = time.monotonic()
    # The first attempt times out; the retry meets the breaker, open by then.
    with pytest.raises(BotoCoreError) as first:
        client.get_item(TableName="t", Key={"pk": {"S": "k"}})
    assert 0.25 < time.monotonic() - started < 0.9
    assert isinstance(first.value, DependencyResting | ReadTimeoutError)
    assert client.breaker.is_open

    started = time.monotonic()
    with pytest.raises(DependencyResting):
        client.put_item(TableName="t", Item={"pk": {"S": "k"}})
    assert time.monotonic() - started < 0.05

    time.sleep(0.85)  # the rest is over: the next call tries the endpoint again
    assert not client.breaker.is_open
    started = time.monotonic()
    with pytest.raises(BotoCoreError):
        client.get_item(TableName="t", Key={"pk": {"S": "k"}})
    assert time.monotonic() - started > 0.25


def test_the_budget_comes_from_the_settings() -> None:
    client = bounded_client(
        "events", settings(aws_connect_timeout_seconds=0.2), endpoint_url="http://127.0.0.1:9"
    )
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.2, 0.3)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
