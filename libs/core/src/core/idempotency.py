"""`Idempotency-Key`: the same request with the same key gets the first response again.

The key is claimed in a short transaction of its own (so a concurrent duplicate sees it
and gets 409 instead of waiting), and the response is stored in the same transaction as
the work. A failed attempt releases the key; a claim left by a crashed process is taken
over once it is older than `STALE_AFTER`.

What the table keeps tells a database reader nothing: the request's fingerprint is an
HMAC under a key derived from the server secret (a body may hold what must not be
brute-forced offline), and the caller seals the stored answer (core.sealed_answers).
Routes whose body carries a credential (register, token) do not honour the key at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.database.engine import Database
from core.errors import Conflict, InvalidInput

STALE_AFTER = timedelta(seconds=60)
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used for a different request"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"
    title = "A request with this Idempotency-Key is still being processed"


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"
    title = f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    media_type: str | None


FINGERPRINT_PURPOSE = "idempotency-request-fingerprint"


def request_fingerprint(key: bytes, method: str, path: str, query: str, body: bytes) -> str:
    """HMAC-SHA256 of the request under `key` (ServerKeys.key_for(FINGERPRINT_PURPOSE))."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyInvalid()
    return key


class IdempotencyStore:
    def __init__(self, database: Database, table: Table) -> None:
        self._database = database
        self._table = table

    async def claim(
        self,
        *,
        caller: str,
        key: str,
        fingerprint: str,
        earlier_fingerprints: Collection[str] = (),
    ) -> StoredResponse | None:
        """Claim the key for this request; a finished request's response if there is one.

        `earlier_fingerprints`: the same request's fingerprints under keys being rotated
        out, which a row claimed before the rotation may hold."""
        table = self._table
        now = utcnow()
        async with self._database.transaction() as session:
            claimed = (
                await session.execute(
                    insert(table)
                    .values(
                        caller=caller,
                        key=key,
                        request_hash=fingerprint,
                        state="in_progress",
                        locked_at=now,
                        created_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(table.c.key)
                )
            ).first()
            if claimed is not None:
                return None
            row = (
                await session.execute(
                    select(table)
                    .where(table.c.caller == caller, table.c.key == key)
                    .with_for_update()
                )
            ).one()
            if row.request_hash != fingerprint and row.request_hash not in earlier_fingerprints:
                raise IdempotencyKeyReused()
            if row.state == "completed":
                return StoredResponse(
                    row.response_status, row.response_body, row.response_media_type
                )
            if now - row.locked_at < STALE_AFTER:
                raise IdempotencyKeyInFlight()
            await session.execute(
                update(table)
                .where(table.c.caller == caller, table.c.key == key)
                .values(locked_at=now)
            )
            return None

    async def complete(
        self, session: AsyncSession, *, caller: str, key: str, response: StoredResponse
    ) -> None:
        """Store the response in the work's own transaction."""
        table = self._table
        await session.execute(
            update(table)
            .where(table.c.caller == caller, table.c.key == key)
            .values(
                state="completed",
                response_status=response.status,
                response_body=response.body,
                response_media_type=response.media_type,
            )
        )

    async def release(self, *, caller: str, key: str) -> None:
        table = self._table
        async with self._database.transaction() as session:
            await session.execute(
                delete(table).where(
                    table.c.caller == caller, table.c.key == key, table.c.state == "in_progress"
                )
            )
