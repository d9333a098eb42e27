"""DynamoDB's window counters and expiring marks (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from core.config import PlatformSettings
from core.dynamo import DynamoClientFactory, ExpiringMarks, WindowCounter, ensure_tables

SETTINGS = PlatformSettings(cache_table="counters")


@pytest.fixture
def dynamodb() -> Iterator[DynamoClientFactory]:
    with mock_aws():
        ensure_tables(boto3.client("dynamodb", region_name=SETTINGS.aws_region), SETTINGS)
        yield DynamoClientFactory(SETTINGS)


async def test_a_count_is_taken_back_only_from_the_window_that_holds_it(
    dynamodb: DynamoClientFactory,
) -> None:
    counter = WindowCounter(dynamodb, "counters", prefix="t", window_seconds=900)
    assert (await counter.increment("k"))[0] == 1
    count, seconds_left = await counter.increment("k")
    assert count == 2
    assert 0 < seconds_left <= 900
    assert (await counter.increment("k", -1))[0] == 1
    # A window with nothing in it (a new one, or one reset) does not go below zero.
    await counter.reset("k")
    assert (await counter.increment("k", -1))[0] == 0
    assert (await counter.increment("k"))[0] == 1


async def test_a_mark_is_remembered_until_it_expires(dynamodb: DynamoClientFactory) -> None:
    marks = ExpiringMarks(dynamodb, "counters", prefix="m", ttl_seconds=60)
    assert not await marks.has("k")
    await marks.put("k")
    assert await marks.has("k")
    expired = ExpiringMarks(dynamodb, "counters", prefix="x", ttl_seconds=-1)
    await expired.put("k")  # TTL deletion lags: the item is still there, and is not read
    assert not await expired.has("k")
