"""Where delivered events go: the audit trail, EventBridge, in-process subscribers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from core.events.model import DomainEvent

logger = logging.getLogger(__name__)


class EventSink(Protocol):
    async def deliver(self, event: DomainEvent) -> None: ...


class AuditTrail:
    """The DynamoDB audit table: one partition per entity, events sorted by time."""

    def __init__(self, client_factory: Callable[[], Any], table_name: str) -> None:
        self._client_factory = client_factory
        self._table = table_name

    @staticmethod
    def partition(entity_type: str, entity_id: str) -> str:
        return f"{entity_type}#{entity_id}"

    def _put(self, event: DomainEvent) -> None:
        client = self._client_factory()
        item = {
            "pk": {"S": self.partition(event.entity_type, event.entity_id)},
            "sk": {"S": f"{event.occurred_at.isoformat()}#{event.id}"},
            "event_id": {"S": str(event.id)},
            "type": {"S": event.type},
            "source": {"S": event.source},
            "at": {"S": event.occurred_at.isoformat()},
            "data": {"S": json.dumps(event.data, separators=(",", ":"))},
        }
        if event.actor:
            item["actor"] = {"S": event.actor}
        try:
            client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            logger.debug("audit event %s already recorded", event.id)

    async def deliver(self, event: DomainEvent) -> None:
        await asyncio.to_thread(self._put, event)

    def _query(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        client = self._client_factory()
        entries: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self.partition(entity_type, entity_id)}},
            "ScanIndexForward": True,
        }
        while True:
            page = client.query(**kwargs)
            for item in page["Items"]:
                entries.append(
                    {
                        "event_id": item["event_id"]["S"],
                        "type": item["type"]["S"],
                        "actor": item.get("actor", {}).get("S"),
                        "at": item["at"]["S"],
                        "data": json.loads(item["data"]["S"]),
                    }
                )
            if "LastEvaluatedKey" not in page:
                return entries
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def history(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        """The entity's events, oldest first."""
        return await asyncio.to_thread(self._query, entity_type, entity_id)


class EventBridgePublisher:
    def __init__(self, client_factory: Callable[[], Any], bus_name: str) -> None:
        self._client_factory = client_factory
        self._bus = bus_name

    def _put(self, event: DomainEvent) -> None:
        answer = self._client_factory().put_events(
            Entries=[
                {
                    "Source": f"coupon-platform.{event.source}",
                    "DetailType": event.type,
                    "Detail": json.dumps(event.to_message(), separators=(",", ":")),
                    "EventBusName": self._bus,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused event {event.id}: {answer['Entries']}")

    async def deliver(self, event: DomainEvent) -> None:
        await asyncio.to_thread(self._put, event)


EventHandler = Callable[[DomainEvent], Awaitable[None]]


class InProcessBus:
    """Subscribers in this process: the local stack and tests, where EventBridge is absent."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[EventHandler]] = defaultdict(list)

    def subscribe(self, event_type: str, handler: EventHandler) -> None:
        self._handlers[event_type].append(handler)

    async def deliver(self, event: DomainEvent) -> None:
        for handler in self._handlers.get(event.type, []):
            await handler(event)
