from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from core.events import DomainEvent
from core.events.sinks import EventBridgePublisher, InProcessBus

EVENT = DomainEvent(
    type="merchant.verified",
    entity_type="merchant",
    entity_id="m-1",
    actor="admin-1",
    data={"merchant_id": "m-1", "owner_user_id": "u-1"},
    source="merchants",
)


@pytest.fixture
def eventbridge() -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="platform")
        queue_url = sqs.create_queue(QueueName="merchant-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="verified",
            EventBusName="platform",
            EventPattern=json.dumps({"detail-type": ["merchant.verified"]}),
        )
        events.put_targets(
            Rule="verified", EventBusName="platform", Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        yield events, sqs, queue_url


async def test_eventbridge_carries_the_event_message(eventbridge: tuple[Any, Any, str]) -> None:
    events, sqs, queue_url = eventbridge
    await EventBridgePublisher(lambda: events, "platform").deliver(EVENT)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)["Messages"]
    envelope = json.loads(messages[0]["Body"])
    assert envelope["source"] == "coupon-platform.merchants"
    assert envelope["detail-type"] == "merchant.verified"
    assert DomainEvent.from_message(envelope["detail"]) == EVENT


async def test_in_process_bus_delivers_by_type() -> None:
    bus, seen = InProcessBus(), []

    async def record(event: DomainEvent) -> None:
        seen.append(event.id)

    bus.subscribe("merchant.verified", record)
    await bus.deliver(EVENT)
    await bus.deliver(
        DomainEvent(type="other", entity_type="x", entity_id="1", actor=None, data={}, source="x")
    )
    assert seen == [EVENT.id]
