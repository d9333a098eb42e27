"""A short-lived JSON cache in the DynamoDB cache table (TTL attribute `expires_at`)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from core.dynamo import DynamoClientFactory

logger = logging.getLogger(__name__)


class DynamoCache:
    """Shared through DynamoDB, with a few seconds of process memory in front: a hot
    merchant then costs no network round trip on most claims and redemptions. The memory
    stays short-lived because an eviction (svc_coupons.consumers) reaches only the process
    that consumed the event."""

    def __init__(
        self,
        client_factory: DynamoClientFactory,
        table: str,
        *,
        prefix: str,
        ttl_seconds: int,
        local_seconds: float,
    ) -> None:
        self._client_factory = client_factory
        self._table = table
        self._prefix = prefix
        self._ttl = ttl_seconds
        self._local: dict[str, tuple[float, Any]] = {}
        self._local_seconds = min(local_seconds, ttl_seconds)

    def _recall(self, key: str) -> Any:
        remembered = self._local.get(key)
        if remembered is None:
            return None
        if remembered[0] <= time.monotonic():
            del self._local[key]
            return None
        return remembered[1]

    def _remember(self, key: str, value: Any) -> None:
        if self._local_seconds <= 0:
            return
        self._local[key] = (time.monotonic() + self._local_seconds, value)

    def _key(self, key: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"{self._prefix}#{key}"}}

    def _get(self, key: str) -> Any:
        item = (
            self._client_factory().get_item(TableName=self._table, Key=self._key(key)).get("Item")
        )
        # TTL deletion may lag by hours: an item past its time is a miss.
        if not item or int(item["expires_at"]["N"]) <= time.time():
            return None
        return json.loads(item["data"]["S"])

    def _put(self, key: str, value: Any) -> None:
        self._client_factory().put_item(
            TableName=self._table,
            Item={
                **self._key(key),
                "data": {"S": json.dumps(value, separators=(",", ":"))},
                "expires_at": {"N": str(int(time.time()) + self._ttl)},
            },
        )

    def _delete(self, key: str) -> None:
        self._client_factory().delete_item(TableName=self._table, Key=self._key(key))

    # A cache that fails is a cache that misses: the caller asks the source instead.
    async def get(self, key: str) -> Any:
        remembered = self._recall(key)
        if remembered is not None:
            return remembered
        try:
            value = await asyncio.to_thread(self._get, key)
        except Exception as exc:
            logger.warning("cache read failed: %r", exc)
            return None
        if value is not None:
            self._remember(key, value)
        return value

    async def put(self, key: str, value: Any) -> None:
        self._remember(key, value)
        try:
            await asyncio.to_thread(self._put, key, value)
        except Exception as exc:
            logger.warning("cache write failed: %r", exc)

    async def delete(self, key: str) -> None:
        """Unlike a read or a write, a failed eviction is raised: the event is retried."""
        self._local.pop(key, None)
        await asyncio.to_thread(self._delete, key)
