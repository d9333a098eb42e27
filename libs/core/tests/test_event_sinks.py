from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from core.aws_clients import DependencyResting
from core.config import PlatformSettings
from core.dynamo import ensure_tables
from core.events import DomainEvent
from core.events import sinks as sinks_module
from core.events.sinks import AuditTrail, EventBridgePublisher, Failure, InProcessBus

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
    assert await EventBridgePublisher(lambda: events, "platform").deliver_many([EVENT]) == {}
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


async def test_in_process_bus_fails_only_the_event_whose_subscriber_failed() -> None:
    bus, seen = InProcessBus(), []
    events = many(3, entity_id="m-1")

    async def record(event: DomainEvent) -> None:
        if event.id == events[1].id:
            raise RuntimeError("subscriber down")
        seen.append(event.id)

    bus.subscribe("merchant.verified", record)
    refused = await bus.deliver_many(events)
    assert list(refused) == [events[1].id]
    assert "subscriber down" in refused[events[1].id].reason
    assert refused[events[1].id].event_refused  # a consumer that cannot handle the event
    assert seen == [events[0].id, events[2].id]


def many(count: int, *, entity_id: str, **overrides: Any) -> list[DomainEvent]:
    """Events of one entity, a millisecond apart (the audit trail sorts by time)."""
    return [
        DomainEvent(
            type="merchant.verified",
            entity_type="merchant",
            entity_id=entity_id,
            actor="admin-1",
            data={"n": n, "merchant_id": entity_id},
            source="merchants",
            occurred_at=EVENT.occurred_at + timedelta(milliseconds=n),
            **overrides,
        )
        for n in range(count)
    ]


class Recording:
    """A boto3 client whose calls are counted, each one of them changeable by a test."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer: dict[str, Any] = {}  # method name -> callable(**kwargs) replacing it

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return self.answer.get(name, method)(**kwargs)

        return call

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)


AUDIT_SETTINGS = PlatformSettings(audit_table="sink-audit", cache_table="sink-cache")


@pytest.fixture
def dynamo() -> Iterator[Recording]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_tables(client, AUDIT_SETTINGS)
        yield Recording(client)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks_module, "UNPROCESSED_BACKOFF_SECONDS", 0)


def audit_of(client: Recording) -> AuditTrail:
    return AuditTrail(lambda: client, AUDIT_SETTINGS.audit_table)


async def test_audit_trail_writes_a_batch_25_items_per_call(dynamo: Recording) -> None:
    trail = audit_of(dynamo)
    events = many(60, entity_id="m-1") + many(3, entity_id="m-2")

    assert await trail.deliver_many(events) == {}

    assert dynamo.count("batch_write_item") == 3  # 25 + 25 + 13
    assert dynamo.count("put_item") == 0
    history = await trail.history("merchant", "m-1")
    assert [entry["event_id"] for entry in history] == [str(e.id) for e in events[:60]]
    assert history[0] == {
        "event_id": str(events[0].id),
        "type": "merchant.verified",
        "actor": "admin-1",
        "at": events[0].occurred_at.isoformat(),
        "data": {"n": 0, "merchant_id": "m-1"},
    }
    assert len(await trail.history("merchant", "m-2")) == 3


async def test_audit_history_is_in_version_order_and_read_consistently(
    dynamo: Recording,
) -> None:
    trail = audit_of(dynamo)
    # Stamped in this order by the clock; the database's versions say the third change
    # committed before the second. The first carries none (made before versions): it keeps
    # its place in time.
    stamped = many(4, entity_id="c-1")
    events = [
        replace(event, entity_version=version)
        for event, version in zip(stamped, [None, 3, 2, 4], strict=True)
    ]
    await trail.deliver_many(events)

    history = await trail.history("merchant", "c-1")

    assert [entry["data"]["n"] for entry in history] == [0, 2, 1, 3]
    assert [entry.get("entity_version") for entry in history] == [None, 2, 3, 4]
    # A history read right after a change sees it: a strongly consistent query.
    (query,) = [kwargs for name, kwargs in dynamo.calls if name == "query"]
    assert query["ConsistentRead"] is True


async def test_audit_trail_redelivery_overwrites_and_adds_nothing(dynamo: Recording) -> None:
    trail = audit_of(dynamo)
    events = many(30, entity_id="m-1")
    await trail.deliver_many(events)
    # The sweep's copy comes from the outbox row: same event, keys in another order.
    again = [replace(e, data=dict(reversed(list(e.data.items())))) for e in events]
    before = dynamo.client.scan(TableName="sink-audit")["Items"]

    assert await trail.deliver_many(again) == {}

    after = dynamo.client.scan(TableName="sink-audit")["Items"]
    assert len(after) == 30
    assert sorted(after, key=lambda i: i["sk"]["S"]) == sorted(before, key=lambda i: i["sk"]["S"])


async def test_audit_trail_retries_unprocessed_items(dynamo: Recording, no_backoff: None) -> None:
    trail = audit_of(dynamo)
    events = many(10, entity_id="m-1")
    write = dynamo.client.batch_write_item
    throttled_once: set[str] = set()

    def throttle_some(**kwargs: Any) -> Any:
        """DynamoDB under pressure: writes the first half and hands back the rest, once."""
        [(table, requests)] = kwargs["RequestItems"].items()
        fresh = [r for r in requests if r["PutRequest"]["Item"]["sk"]["S"] not in throttled_once]
        if not fresh:
            return write(**kwargs)
        keep, left = requests[:5], requests[5:]
        throttled_once.update(r["PutRequest"]["Item"]["sk"]["S"] for r in left)
        write(RequestItems={table: keep})
        return {"UnprocessedItems": {table: left}}

    dynamo.answer["batch_write_item"] = throttle_some

    assert await trail.deliver_many(events) == {}
    assert dynamo.count("batch_write_item") == 2
    assert len(await trail.history("merchant", "m-1")) == 10


async def test_audit_trail_fails_only_items_left_unprocessed_after_retries(
    dynamo: Recording, no_backoff: None
) -> None:
    trail = audit_of(dynamo)
    events = many(30, entity_id="m-1")
    stuck = str(events[27].id)
    write = dynamo.client.batch_write_item

    def never_this_one(**kwargs: Any) -> Any:
        [(table, requests)] = kwargs["RequestItems"].items()
        hot = [r for r in requests if r["PutRequest"]["Item"]["event_id"]["S"] == stuck]
        rest = [r for r in requests if r not in hot]
        if rest:
            write(RequestItems={table: rest})
        return {"UnprocessedItems": {table: hot} if hot else {}}

    dynamo.answer["batch_write_item"] = never_this_one

    refused = await trail.deliver_many(events)

    assert list(refused) == [events[27].id]
    assert "unprocessed" in refused[events[27].id].reason
    assert not refused[events[27].id].event_refused  # throttled: not the event's fault
    # The first chunk once; the second (with the stuck item) on every attempt.
    assert dynamo.count("batch_write_item") == 1 + sinks_module.UNPROCESSED_ATTEMPTS
    written = {e["event_id"] for e in await trail.history("merchant", "m-1")}
    assert written == {str(e.id) for e in events} - {stuck}


async def test_audit_trail_isolates_an_item_dynamodb_refuses(dynamo: Recording) -> None:
    trail = audit_of(dynamo)
    events = many(5, entity_id="m-1")
    too_big = DomainEvent(
        type="merchant.updated",
        entity_type="merchant",
        entity_id="m-1",
        actor=None,
        data={"blob": "x" * 500_000},  # over DynamoDB's 400 KB item limit
        source="merchants",
    )

    refused = await trail.deliver_many([*events[:2], too_big, *events[2:]])

    assert list(refused) == [too_big.id]
    assert "ValidationException" in refused[too_big.id].reason
    assert refused[too_big.id].event_refused
    written = {e["event_id"] for e in await trail.history("merchant", "m-1")}
    assert written == {str(e.id) for e in events}


async def test_audit_trail_outage_fails_the_whole_batch_without_more_calls(
    dynamo: Recording,
) -> None:
    trail = AuditTrail(lambda: dynamo, "no-such-table")
    events = many(60, entity_id="m-1")

    refused = await trail.deliver_many(events)

    assert set(refused) == {e.id for e in events}
    assert all("ResourceNotFoundException" in f.reason for f in refused.values())
    assert not any(failure.event_refused for failure in refused.values())
    assert dynamo.count("batch_write_item") == 1


class StubEvents:
    """EventBridge's PutEvents, answering with per-entry failures where told."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.fail_detail_ids: set[str] = set()
        self.raise_on_call: dict[int, Exception] = {}

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if len(self.calls) in self.raise_on_call:
            raise self.raise_on_call[len(self.calls)]
        results: list[dict[str, Any]] = []
        for entry in Entries:
            event_id = json.loads(entry["Detail"])["event_id"]
            if event_id in self.fail_detail_ids:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again later"})
            else:
                results.append({"EventId": f"eb-{event_id}"})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}


async def test_eventbridge_sends_ten_entries_per_call_and_fails_only_refused_entries() -> None:
    stub = StubEvents()
    events = many(23, entity_id="m-1")
    stub.fail_detail_ids = {str(events[4].id), str(events[21].id)}

    refused = await EventBridgePublisher(lambda: stub, "platform").deliver_many(events)

    assert [len(call) for call in stub.calls] == [10, 10, 3]
    assert set(refused) == {events[4].id, events[21].id}
    assert refused[events[4].id] == Failure.outage(
        "EventBridge refused the entry: InternalFailure: try again later"
    )
    sent = [json.loads(entry["Detail"])["event_id"] for call in stub.calls for entry in call]
    assert sent == [str(e.id) for e in events]
    assert {entry["EventBusName"] for call in stub.calls for entry in call} == {"platform"}


async def test_eventbridge_outage_fails_the_rest_of_the_batch() -> None:
    stub = StubEvents()
    stub.raise_on_call = {2: ConnectionError("endpoint unreachable")}
    events = many(25, entity_id="m-1")

    refused = await EventBridgePublisher(lambda: stub, "platform").deliver_many(events)

    assert len(stub.calls) == 2
    assert set(refused) == {e.id for e in events[10:]}
    assert "endpoint unreachable" in refused[events[24].id].reason
    assert not any(failure.event_refused for failure in refused.values())


async def test_eventbridge_keeps_each_call_under_its_size_limit() -> None:
    stub = StubEvents()
    events = [
        DomainEvent(
            type="merchant.updated",
            entity_type="merchant",
            entity_id="m-1",
            actor=None,
            data={"blob": "x" * 100_000},
            source="merchants",
        )
        for _ in range(5)
    ]

    assert await EventBridgePublisher(lambda: stub, "platform").deliver_many(events) == {}
    assert [len(call) for call in stub.calls] == [2, 2, 1]


async def test_eventbridge_batch_reaches_the_bus(eventbridge: tuple[Any, Any, str]) -> None:
    events, sqs, queue_url = eventbridge
    sent = many(12, entity_id="m-1")
    assert await EventBridgePublisher(lambda: events, "platform").deliver_many(sent) == {}
    received: list[UUID] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            received.append(UUID(json.loads(message["Body"])["detail"]["event_id"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(received, key=str) == sorted((e.id for e in sent), key=str)


def client_error(code: str, status: int, operation: str = "BatchWriteItem") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


# Each way a sink can be unavailable; none of them says anything about the event.
UNAVAILABLE = {
    "unreachable": EndpointConnectionError(endpoint_url="http://dynamodb"),
    "timed out": ReadTimeoutError(endpoint_url="http://dynamodb"),
    "throttled": client_error("ProvisionedThroughputExceededException", 400),
    "throttled (request rate)": client_error("ThrottlingException", 400),
    "5xx": client_error("InternalServerError", 500),
    "unavailable": client_error("ServiceUnavailable", 503),
    "breaker open": DependencyResting(service="dynamodb", seconds=5),
}


@pytest.mark.parametrize("failure", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
async def test_an_unavailable_audit_table_is_an_outage_not_a_refusal(
    dynamo: Recording, failure: Exception
) -> None:
    def fail(**kwargs: Any) -> Any:
        raise failure

    dynamo.answer["batch_write_item"] = fail
    events = many(30, entity_id="m-1")

    refused = await audit_of(dynamo).deliver_many(events)

    assert set(refused) == {e.id for e in events}
    assert not any(f.event_refused for f in refused.values())


@pytest.mark.parametrize("failure", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
async def test_an_unavailable_event_bus_is_an_outage_not_a_refusal(failure: Exception) -> None:
    stub = StubEvents()
    stub.raise_on_call = {1: failure}
    events = many(12, entity_id="m-1")

    refused = await EventBridgePublisher(lambda: stub, "platform").deliver_many(events)

    assert set(refused) == {e.id for e in events}
    assert not any(f.event_refused for f in refused.values())


async def test_an_entry_eventbridge_refuses_is_a_refusal_a_throttled_one_is_not() -> None:
    events = many(3, entity_id="m-1")
    codes = {str(events[0].id): "MalformedDetail", str(events[1].id): "ThrottlingException"}

    class Answering(StubEvents):
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            self.calls.append(Entries)
            results: list[dict[str, Any]] = []
            for entry in Entries:
                code = codes.get(json.loads(entry["Detail"])["event_id"])
                results.append({"ErrorCode": code, "ErrorMessage": code} if code else {})
            return {"FailedEntryCount": len(codes), "Entries": results}

    refused = await EventBridgePublisher(lambda: Answering(), "platform").deliver_many(events)

    assert {event_id: f.event_refused for event_id, f in refused.items()} == {
        events[0].id: True,
        events[1].id: False,
    }


async def test_a_call_eventbridge_refuses_is_sent_again_entry_by_entry() -> None:
    """One invalid entry fails its whole PutEvents call: the others are sent alone, so
    only the invalid one counts a refusal."""
    events = many(4, entity_id="m-1")
    bad = str(events[2].id)

    class Validating(StubEvents):
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            self.calls.append(Entries)
            if any(json.loads(entry["Detail"])["event_id"] == bad for entry in Entries):
                raise client_error("ValidationException", 400, "PutEvents")
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}

    stub = Validating()
    refused = await EventBridgePublisher(lambda: stub, "platform").deliver_many(events)

    assert list(refused) == [events[2].id]
    assert refused[events[2].id].event_refused
    assert [len(call) for call in stub.calls] == [4, 1, 1, 1, 1]


async def test_a_subscriber_whose_dependency_is_down_fails_as_an_outage() -> None:
    bus = InProcessBus()
    events = many(3, entity_id="m-1")

    async def handle(event: DomainEvent) -> None:
        if event.id == events[0].id:
            raise ConnectionRefusedError(111, "Connect call failed")  # the database
        if event.id == events[1].id:
            raise DependencyResting(service="dynamodb", seconds=5)
        raise ValueError("cannot handle this event")

    bus.subscribe("merchant.verified", handle)
    refused = await bus.deliver_many(events)

    assert {event_id: f.event_refused for event_id, f in refused.items()} == {
        events[0].id: False,
        events[1].id: False,
        events[2].id: True,
    }
    assert isinstance(refused[events[2].id], Failure)
