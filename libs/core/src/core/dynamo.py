"""DynamoDB: one lazily created client, the tables, and expiring counters."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from core.config import PlatformSettings


class DynamoClientFactory:
    """Creates the boto3 client on first use (a cold start should not pay for it) and keeps it.

    The client waits a bounded time for DynamoDB (core.aws_clients' budget and breaker), so
    a throttled or unreachable table costs a request about a second, not minutes."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._settings = settings
        self._client: Any = None

    def __call__(self) -> Any:
        if self._client is None:
            from core.aws_clients import bounded_client

            self._client = bounded_client(
                "dynamodb", self._settings, endpoint_url=self._settings.dynamodb_endpoint_url
            )
        return self._client


def is_unavailable(exc: BaseException) -> bool:
    """Whether a DynamoDB call failed because the service did (unreachable, timed out,
    throttled, refused, or resting behind core.aws_clients' breaker), not because of a bug:
    the caller falls back (a cache miss, a counter let through) or answers 503."""
    # botocore is loaded by now when a client raised; importing it at start would cost
    # every cold start, including those that never reach DynamoDB.
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError)


def ensure_tables(client: Any, settings: PlatformSettings) -> None:
    """Create the audit and cache tables where they are missing (local stack and tests only)."""
    existing = set(client.list_tables()["TableNames"])
    if settings.audit_table not in existing:
        client.create_table(
            TableName=settings.audit_table,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    if settings.cache_table not in existing:
        client.create_table(
            TableName=settings.cache_table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=settings.cache_table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


@dataclass(frozen=True)
class WindowCounts:
    """A key's count in the current window and in the one before it, and how far into the
    current window `now` is: enough to estimate a sliding window's count."""

    current: int
    previous: int
    elapsed: float
    window_seconds: int


class WindowCounter:
    """Counts events per key in fixed windows; DynamoDB's TTL removes a window once the
    window after it has ended too (a sliding estimate reads the previous window)."""

    def __init__(
        self, client_factory: DynamoClientFactory, table: str, *, prefix: str, window_seconds: int
    ) -> None:
        self._client_factory = client_factory
        self._table = table
        self._prefix = prefix
        self._window = window_seconds

    def _window_start(self, now: float) -> int:
        return int(now) // self._window * self._window

    def _pk(self, key: str, window_start: int) -> str:
        return f"{self._prefix}#{key}#{window_start}"

    def _increment(self, key: str, amount: int, now: float) -> tuple[int, int]:
        from botocore.exceptions import ClientError

        window_start = self._window_start(now)
        pk, window_end = self._pk(key, window_start), window_start + self._window
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": "ADD #n :amount SET expires_at = if_not_exists(expires_at, :end)",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {
                ":amount": {"N": str(amount)},
                ":end": {"N": str(window_end + self._window)},
            },
            "ReturnValues": "UPDATED_NEW",
        }
        if amount < 0:
            # Taking a count back only from the window that holds it: a window that began
            # since starts at zero, not below.
            request["ConditionExpression"] = "attribute_exists(pk)"
        try:
            answer = self._client_factory().update_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return 0, window_end - int(now)
        return int(answer["Attributes"]["count"]["N"]), window_end - int(now)

    def _count_in(self, key: str, window_start: int) -> int:
        answer = self._client_factory().get_item(
            TableName=self._table,
            Key={"pk": {"S": self._pk(key, window_start)}},
            # A burst just before the boundary must be seen just after it.
            ConsistentRead=True,
            ProjectionExpression="#n",
            ExpressionAttributeNames={"#n": "count"},
        )
        return int(answer.get("Item", {}).get("count", {}).get("N", 0))

    def _increment_and_read_previous(self, key: str) -> WindowCounts:
        now = time.time()
        current, _ = self._increment(key, 1, now)
        window_start = self._window_start(now)
        previous = self._count_in(key, window_start - self._window)
        return WindowCounts(current, previous, now - window_start, self._window)

    def _reset(self, key: str) -> None:
        pk = self._pk(key, self._window_start(time.time()))
        self._client_factory().delete_item(TableName=self._table, Key={"pk": {"S": pk}})

    async def increment(self, key: str, amount: int = 1) -> tuple[int, int]:
        """One atomic update: the key's count in the current window after adding `amount`,
        and the seconds until the window ends."""
        return await asyncio.to_thread(self._increment, key, amount, time.time())

    async def count_one(self, key: str) -> WindowCounts:
        """Add one to the key's current window and read the window before it: what a
        sliding-window limit needs, so that no window boundary doubles what it lets through."""
        return await asyncio.to_thread(self._increment_and_read_previous, key)

    async def reset(self, key: str) -> None:
        await asyncio.to_thread(self._reset, key)


class ExpiringMarks:
    """Keys remembered for `ttl_seconds`; reads check `expires_at` themselves, since TTL
    deletion may lag by hours."""

    def __init__(
        self, client_factory: DynamoClientFactory, table: str, *, prefix: str, ttl_seconds: int
    ) -> None:
        self._client_factory = client_factory
        self._table = table
        self._prefix = prefix
        self._ttl = ttl_seconds

    def _put(self, key: str) -> None:
        self._client_factory().put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"{self._prefix}#{key}"},
                "expires_at": {"N": str(int(time.time()) + self._ttl)},
            },
        )

    def _has(self, key: str) -> bool:
        item = (
            self._client_factory()
            .get_item(
                TableName=self._table,
                Key={"pk": {"S": f"{self._prefix}#{key}"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return item is not None and int(item["expires_at"]["N"]) > time.time()

    async def put(self, key: str) -> None:
        await asyncio.to_thread(self._put, key)

    async def has(self, key: str) -> bool:
        return await asyncio.to_thread(self._has, key)
