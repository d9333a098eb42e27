"""DynamoDB's window counters and expiring marks (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

import core.dynamo
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


async def test_counting_one_reads_the_window_before_and_keeps_it_for_the_next_window(
    dynamodb: DynamoClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = {"now": 1_800_000_000.0 + 590}  # ten seconds before a 600 s window ends
    monkeypatch.setattr(core.dynamo, "time", SimpleNamespace(time=lambda: clock["now"]))
    counter = WindowCounter(dynamodb, "counters", prefix="s", window_seconds=600)
    for _ in range(2):
        await counter.count_one("k")
    clock["now"] += 20
    counts = await counter.count_one("k")
    assert (counts.current, counts.previous, counts.elapsed, counts.window_seconds) == (
        1,
        2,
        10,
        600,
    )
    # TTL may remove the older window only once the window after it has ended too.
    item = dynamodb().get_item(TableName="counters", Key={"pk": {"S": "s#k#1800000000"}})
    assert int(item["Item"]["expires_at"]["N"]) == 1_800_000_000 + 1200
