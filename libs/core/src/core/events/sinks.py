"""Where delivered events go: the audit trail, EventBridge, in-process subscribers.

A sink takes a batch and answers which of its events it did not deliver, why, and whose
fault it was: the event's (refused: malformed, too large), which the relay counts toward
dead-lettering it, or the sink's (unreachable, timed out, throttled, failing, resting
behind its breaker), which it only retries later. The relay marks exactly those for the
sweep and the rest delivered. boto3 blocks, so each AWS sink makes its calls on one
worker thread per batch, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from core.database.errors import is_unavailable
from core.events.model import DomainEvent
from core.tracing import subsegment

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a sink did not deliver an event."""

    reason: str
    # True: the event itself was refused (it will be refused again), which counts toward
    # dead-lettering it. False: the sink was unavailable, which says nothing of the event.
    event_refused: bool

    @classmethod
    def refusal(cls, reason: str) -> Failure:
        return cls(reason, event_refused=True)

    @classmethod
    def outage(cls, reason: str) -> Failure:
        return cls(reason, event_refused=False)


Failed = dict[UUID, Failure]
"""The events of a batch a sink did not deliver: id -> why."""


class EventSink(Protocol):
    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        """Deliver the events; return those not delivered (an empty dict when all were)."""
        ...


# The codes by which DynamoDB and EventBridge refuse what a request carries (an item too
# large or malformed, an entry EventBridge cannot take), as opposed to being unavailable
# (throttled, a 5xx, a timeout): sending the same event again gets the same answer.
EVENT_REFUSAL_CODES = frozenset(
    {"ValidationException", "SerializationException", "InvalidArgument", "MalformedDetail"}
)


def _error_code(exc: BaseException) -> str | None:
    # A ClientError's answer; botocore's timeouts carry `response = None`.
    response = getattr(exc, "response", None) or {}
    code: str | None = response.get("Error", {}).get("Code")
    return code


def _is_request_invalid(exc: BaseException) -> bool:
    """The service refused the request for what it carries: a fault of some event in it,
    not an outage."""
    return _error_code(exc) in EVENT_REFUSAL_CODES


def aws_failure(exc: BaseException) -> Failure:
    """An AWS call's exception: the event's fault only when the service said so."""
    if _is_request_invalid(exc):
        return Failure.refusal(repr(exc))
    return Failure.outage(repr(exc))


def subscriber_failure(exc: BaseException) -> Failure:
    """A subscriber's exception: an unavailable dependency of its (the database, an AWS
    service) is an outage; anything else is a consumer that cannot handle the event."""
    from botocore.exceptions import BotoCoreError, ClientError

    if _is_request_invalid(exc):
        return Failure.refusal(repr(exc))
    if isinstance(exc, BotoCoreError | ClientError) or is_unavailable(exc):
        return Failure.outage(repr(exc))
    return Failure.refusal(repr(exc))


BATCH_WRITE_LIMIT = 25  # DynamoDB BatchWriteItem: at most 25 put requests per call
UNPROCESSED_ATTEMPTS = 4  # the first call and three retries of what it left unprocessed
UNPROCESSED_BACKOFF_SECONDS = 0.05  # doubled after each retry


def in_commit_order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries (in time order) with those that carry the entity's version in its order.

    An event's time is the app's clock when it was made, before its statement waited for
    its locks: a change that waited behind another can carry the earlier time. The version
    is what the database assigned under the row lock. Entries without one (an entity that
    keeps none, events from before versions) keep their place in time."""
    slots = [index for index, entry in enumerate(entries) if "entity_version" in entry]
    ordered = sorted((entries[index] for index in slots), key=lambda e: e["entity_version"])
    placed = list(entries)
    for index, entry in zip(slots, ordered, strict=True):
        placed[index] = entry
    return placed


class AuditTrail:
    """The DynamoDB audit table: one partition per entity, events sorted by time, and by
    the entity's version where the events carry one (`in_commit_order`)."""

    def __init__(self, client_factory: Callable[[], Any], table_name: str) -> None:
        self._client_factory = client_factory
        self._table = table_name

    @staticmethod
    def partition(entity_type: str, entity_id: str) -> str:
        return f"{entity_type}#{entity_id}"

    def _item(self, event: DomainEvent) -> dict[str, Any]:
        item = {
            "pk": {"S": self.partition(event.entity_type, event.entity_id)},
            "sk": {"S": f"{event.occurred_at.isoformat()}#{event.id}"},
            "event_id": {"S": str(event.id)},
            "type": {"S": event.type},
            "source": {"S": event.source},
            "at": {"S": event.occurred_at.isoformat()},
            # Sorted keys: the same event read back from the outbox (JSONB reorders keys)
            # makes the same item.
            "data": {"S": json.dumps(event.data, separators=(",", ":"), sort_keys=True)},
        }
        if event.actor:
            item["actor"] = {"S": event.actor}
        if event.correlation_id:
            item["correlation_id"] = {"S": event.correlation_id}
        if event.entity_version is not None:
            item["entity_version"] = {"N": str(event.entity_version)}
        return item

    # BatchWriteItem takes no condition expression, and none is needed: the key (pk = the
    # entity, sk = occurred_at#event_id) follows from the event alone, so a redelivered
    # event overwrites its own item with identical content and never adds a second one.

    def _write(self, events: Sequence[DomainEvent]) -> Failed:
        client = self._client_factory()
        refused: Failed = {}
        for start in range(0, len(events), BATCH_WRITE_LIMIT):
            chunk = events[start : start + BATCH_WRITE_LIMIT]
            try:
                refused |= self._write_chunk(client, chunk)
            except Exception as exc:
                if _is_request_invalid(exc):
                    # One bad item fails the whole call: write them one by one, so that
                    # only the bad one stays undelivered.
                    refused |= self._put_each(client, chunk)
                    continue
                # The table or the service is unavailable: the rest of the batch would only
                # wait for the same answer. The sweep retries all of it.
                outage = Failure.outage(repr(exc))
                refused |= {event.id: outage for event in events[start:]}
                break
        return refused

    def _write_chunk(self, client: Any, chunk: Sequence[DomainEvent]) -> Failed:
        requests = [{"PutRequest": {"Item": self._item(event)}} for event in chunk]
        for attempt in range(UNPROCESSED_ATTEMPTS):
            if attempt:
                time.sleep(UNPROCESSED_BACKOFF_SECONDS * 2 ** (attempt - 1))
            answer = client.batch_write_item(RequestItems={self._table: requests})
            requests = answer.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return {}
        left = {request["PutRequest"]["Item"]["event_id"]["S"] for request in requests}
        throttled = Failure.outage(
            f"DynamoDB left the item unprocessed {UNPROCESSED_ATTEMPTS} times (throttled)"
        )
        return {event.id: throttled for event in chunk if str(event.id) in left}

    def _put_each(self, client: Any, chunk: Sequence[DomainEvent]) -> Failed:
        refused: Failed = {}
        for event in chunk:
            try:
                client.put_item(TableName=self._table, Item=self._item(event))
            except Exception as exc:
                refused[event.id] = aws_failure(exc)
        return refused

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        if not events:
            return {}
        with subsegment("DynamoDB", namespace="aws", aws=self._traced("BatchWriteItem")):
            return await asyncio.to_thread(self._write, list(events))

    def _traced(self, operation: str) -> dict[str, str]:
        return {"operation": operation, "table_name": self._table}

    def _query(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        client = self._client_factory()
        entries: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self.partition(entity_type, entity_id)}},
            "ScanIndexForward": True,
            # A history read right after a change shows it (the write was acknowledged
            # before the change's answer left).
            "ConsistentRead": True,
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
                        **(
                            {"entity_version": int(item["entity_version"]["N"])}
                            if "entity_version" in item
                            else {}
                        ),
                    }
                )
            if "LastEvaluatedKey" not in page:
                return in_commit_order(entries)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def history(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        """The entity's events, oldest first."""
        with subsegment("DynamoDB", namespace="aws", aws=self._traced("Query")):
            return await asyncio.to_thread(self._query, entity_type, entity_id)


PUT_EVENTS_LIMIT = 10  # EventBridge PutEvents: at most 10 entries per call
PUT_EVENTS_MAX_BYTES = 256 * 1024  # and 256 KiB per call, entry sizes summed


def _entry_size(entry: dict[str, str]) -> int:
    """An entry's size as EventBridge counts it: 14 bytes for the time, plus its strings."""
    size = 14
    for name in ("Source", "DetailType", "Detail"):
        size += len(entry[name].encode())
    return size


class EventBridgePublisher:
    def __init__(self, client_factory: Callable[[], Any], bus_name: str) -> None:
        self._client_factory = client_factory
        self._bus = bus_name

    def _entry(self, event: DomainEvent) -> dict[str, str]:
        return {
            "Source": f"coupon-platform.{event.source}",
            "DetailType": event.type,
            "Detail": json.dumps(event.to_message(), separators=(",", ":")),
            "EventBusName": self._bus,
        }

    def _calls(
        self, events: Sequence[DomainEvent]
    ) -> Iterator[list[tuple[DomainEvent, dict[str, str]]]]:
        """The events in groups one PutEvents call takes; an entry too large alone is sent
        alone, and EventBridge refuses just that call."""
        group: list[tuple[DomainEvent, dict[str, str]]] = []
        size = 0
        for event in events:
            entry = self._entry(event)
            entry_size = _entry_size(entry)
            if group and (
                len(group) == PUT_EVENTS_LIMIT or size + entry_size > PUT_EVENTS_MAX_BYTES
            ):
                yield group
                group, size = [], 0
            group.append((event, entry))
            size += entry_size
        if group:
            yield group

    def _put(self, events: Sequence[DomainEvent]) -> Failed:
        client = self._client_factory()
        refused: Failed = {}
        calls = list(self._calls(events))
        for index, call in enumerate(calls):
            try:
                answer = client.put_events(Entries=[entry for _, entry in call])
            except Exception as exc:
                if _is_request_invalid(exc):
                    # One bad entry fails the whole call: as in AuditTrail, send them one
                    # by one, so that only the bad one counts a refusal.
                    refused |= (
                        self._put_each(client, call)
                        if len(call) > 1
                        else {call[0][0].id: aws_failure(exc)}
                    )
                    continue
                # As in AuditTrail: an outage fails the rest of the batch too.
                outage = Failure.outage(repr(exc))
                for rest in calls[index:]:
                    refused |= {event.id: outage for event, _ in rest}
                break
            refused |= self._failed_entries(call, answer)
        return refused

    def _put_each(self, client: Any, call: Sequence[tuple[DomainEvent, dict[str, str]]]) -> Failed:
        refused: Failed = {}
        for event, entry in call:
            try:
                answer = client.put_events(Entries=[entry])
            except Exception as exc:
                refused[event.id] = aws_failure(exc)
                continue
            refused |= self._failed_entries([(event, entry)], answer)
        return refused

    @staticmethod
    def _failed_entries(
        call: Sequence[tuple[DomainEvent, dict[str, str]]], answer: dict[str, Any]
    ) -> Failed:
        """The entries of a call's answer that EventBridge did not put, each with whose
        fault it was (its ErrorCode: throttled and internal failures are its own)."""
        if not answer.get("FailedEntryCount"):
            return {}
        results = answer.get("Entries", [])
        if len(results) != len(call):
            unclear = Failure.outage(
                f"EventBridge refused {answer['FailedEntryCount']} entries: {results}"
            )
            return {event.id: unclear for event, _ in call}
        refused: Failed = {}
        # The answer's entries are in the order of the request's.
        for (event, _), result in zip(call, results, strict=True):
            code = result.get("ErrorCode")
            if code:
                reason = f"EventBridge refused the entry: {code}: {result.get('ErrorMessage', '')}"
                refused[event.id] = Failure(reason, event_refused=code in EVENT_REFUSAL_CODES)
        return refused

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        if not events:
            return {}
        with subsegment("EventBridge", namespace="aws", aws={"operation": "PutEvents"}):
            return await asyncio.to_thread(self._put, list(events))


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

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        """Event by event: a failing subscriber fails only the event it was handling."""
        refused: Failed = {}
        for event in events:
            try:
                await self.deliver(event)
            except Exception as exc:
                refused[event.id] = subscriber_failure(exc)
        return refused
