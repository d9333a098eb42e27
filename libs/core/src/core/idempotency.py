"""`Idempotency-Key`: the same request with the same key gets the first response again.

The key is claimed in a short transaction of its own (so a concurrent duplicate sees it
and gets 409 instead of waiting), and the response is stored in the same transaction as
the work. A failed attempt releases the key; a claim left by a crashed process is taken
over once it is older than the longest a request can run (`takeover_after`).

Each claim carries a token of its own, and completing or releasing it requires that token:
a request that stalled past the takeover finds its claim gone, so its completion fails
(and its work with it, being one transaction) instead of executing the key a second time,
and its release leaves the new owner's claim alone.

What the table keeps tells a database reader nothing: the request's fingerprint is an
HMAC under a key derived from the server secret (a body may hold what must not be
brute-forced offline), and the caller seals the stored answer (core.sealed_answers).
Routes whose body carries a credential (register, token) do not honour the key at all.

A request whose one write is a statement that commits by itself (a claim,
core.database.driver.statement_connection) cannot complete its key in a later statement
of the same transaction: there is none. Its route says what its answer looks like
(`answer_in_statement`), the request's held key is on the session (`hold_key`), and the
statement stores the answer, sealed, only if its work was done, only while the claim is
still this request's (`StatementAnswer`); the route then does not complete the key again.
A statement that fails commits nothing, so the key is released as after any failure.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, Table, and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.database.engine import Database
from core.errors import Conflict, InvalidInput

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
class Claim:
    """A request's hold on its key; only its holder completes or releases it."""

    caller: str
    key: str
    token: UUID


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
    def __init__(self, database: Database, table: Table, *, takeover_after: timedelta) -> None:
        self._database = database
        self._table = table
        self._takeover_after = takeover_after

    async def claim(
        self,
        *,
        caller: str,
        key: str,
        fingerprint: str,
        earlier_fingerprints: Collection[str] = (),
    ) -> Claim | StoredResponse:
        """Claim the key for this request, or a finished request's response.

        `earlier_fingerprints`: the same request's fingerprints under keys being rotated
        out, which a row claimed before the rotation may hold."""
        table = self._table
        now = utcnow()
        claim = Claim(caller, key, uuid4())
        async with self._database.transaction() as session:
            claimed = (
                await session.execute(
                    insert(table)
                    .values(
                        caller=caller,
                        key=key,
                        request_hash=fingerprint,
                        state="in_progress",
                        claim_token=claim.token,
                        locked_at=now,
                        created_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(table.c.key)
                )
            ).first()
            if claimed is not None:
                return claim
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
            if now - row.locked_at < self._takeover_after:
                raise IdempotencyKeyInFlight()
            # The holder has run longer than any request can: it is gone. The new token
            # fences it off should it come back after all.
            await session.execute(
                update(table)
                .where(table.c.caller == caller, table.c.key == key)
                .values(locked_at=now, claim_token=claim.token)
            )
            return claim

    def _held(self, claim: Claim) -> ColumnElement[bool]:
        table = self._table
        return and_(
            table.c.caller == claim.caller,
            table.c.key == claim.key,
            table.c.claim_token == claim.token,
            table.c.state == "in_progress",
        )

    async def complete(
        self, session: AsyncSession, claim: Claim, response: StoredResponse | None
    ) -> None:
        """In the work's own transaction: store the response (None: an answer that must not
        be kept, whose claim is released after the commit). Raises IdempotencyKeyInFlight,
        failing the work, when the claim was taken over meanwhile."""
        table = self._table
        values = (
            {"locked_at": table.c.locked_at}
            if response is None
            else {
                "state": "completed",
                "response_status": response.status,
                "response_body": response.body,
                "response_media_type": response.media_type,
            }
        )
        still_held = (
            await session.execute(
                update(table).where(self._held(claim)).values(**values).returning(table.c.key)
            )
        ).first()
        if still_held is None:
            raise IdempotencyKeyInFlight()

    async def release(self, claim: Claim) -> None:
        """Give the key up (the attempt failed); a claim taken over is not ours to delete."""
        async with self._database.transaction() as session:
            await session.execute(delete(self._table).where(self._held(claim)))


@dataclass(frozen=True)
class HeldKey:
    """The request's claim on its key, and how its answer is sealed (core.sealed_answers)."""

    claim: Claim
    seal: Callable[[bytes], bytes]


@dataclass(frozen=True)
class AnswerForm:
    """What a route answers on success, from the value its service built before its one
    statement: the same bytes the route then sends."""

    status: int
    media_type: str
    render: Callable[[object], bytes]


@dataclass(frozen=True)
class StatementAnswer:
    key: HeldKey
    form: AnswerForm

    def parameters(self, answer: object) -> tuple[str, str, UUID, int, bytes, str]:
        """caller, key, claim token, status, sealed body, media type: bound to the statement
        that completes the claim with its work."""
        claim = self.key.claim
        body = self.key.seal(self.form.render(answer))
        return (claim.caller, claim.key, claim.token, self.form.status, body, self.form.media_type)

    @staticmethod
    def answered(session: AsyncSession) -> None:
        """The statement stored the answer: the key is complete."""
        session.info[_ANSWERED] = True


_HELD_KEY = "core.idempotency.held_key"
_ANSWER_FORM = "core.idempotency.answer_form"
_ANSWERED = "core.idempotency.answered"


def hold_key(session: AsyncSession, key: HeldKey) -> None:
    session.info[_HELD_KEY] = key


def answer_in_statement(session: AsyncSession, form: AnswerForm) -> None:
    session.info[_ANSWER_FORM] = form


def statement_answer(session: AsyncSession) -> StatementAnswer | None:
    """What a statement stores for the request's key: None when the request has no key, or
    its route did not say what it answers."""
    key: HeldKey | None = session.info.get(_HELD_KEY)
    form: AnswerForm | None = session.info.get(_ANSWER_FORM)
    return None if key is None or form is None else StatementAnswer(key, form)


def completed_after_the_work(session: AsyncSession) -> bool:
    """Whether the request holds a key that its route completes after the work, in the
    work's transaction (its answer is not built before its statement): the work must then
    not commit by itself, or a request that stalled past the takeover would have done it
    before its completion was refused."""
    return session.info.get(_HELD_KEY) is not None and session.info.get(_ANSWER_FORM) is None


def answered_by_statement(session: AsyncSession) -> bool:
    return bool(session.info.get(_ANSWERED))
