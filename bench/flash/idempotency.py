"""The `Idempotency-Key` statements a claim runs, taken from core.idempotency itself.

`IdempotencyStore` builds its statements with SQLAlchemy: here it runs against a recording
session that answers "found", and each statement it would have sent is compiled for
PostgreSQL (asyncpg's `$n` parameters) and bound to pgbench expressions: the caller, key and
claim token are the claim's own (the same in both statements), every time is `now()`, and
everything else is the literal the store passed. When the store's statements change, so does
what the bench runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from core.idempotency import IdempotencyStore, StoredResponse
from svc_coupons.repositories.schema_model import platform_tables

from .pgbench import bind

# Stand-ins the store is given, each replaced by the claim's own pgbench expression.
CALLER = "flash-bench-caller"
KEY = "flash-bench-key"
FINGERPRINT = "f" * 64
RESPONSE_BYTES = 640  # about a sealed claim answer
TAKEOVER_AFTER = timedelta(minutes=5)


class _Found:
    def first(self) -> tuple[int]:
        return (1,)


class _RecordingSession:
    """Stands for the database and the session: keeps each statement, answers "found"."""

    def __init__(self) -> None:
        self.statements: list[ClauseElement] = []

    async def execute(self, statement: ClauseElement) -> _Found:
        self.statements.append(statement)
        return _Found()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_RecordingSession]:
        yield self


@dataclass(frozen=True)
class KeyStatements:
    """A claim with an Idempotency-Key: `claim` in a short transaction of its own before the
    work, `complete` inside the work's transaction (the answer stored with it)."""

    claim: str
    complete: str


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    if isinstance(value, UUID):
        return f"'{value}'::uuid"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no literal for {type(value).__name__}")


def _pgbench_sql(statement: ClauseElement, own: Mapping[object, str]) -> str:
    dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler), "a statement compiles to SQL"
    names = compiled.positiontup or []
    values: dict[int, str] = {}
    for number, name in enumerate(names, start=1):
        value = compiled.params[name]
        if isinstance(value, datetime):
            values[number] = "now()"
        elif isinstance(value, str | UUID) and value in own:
            values[number] = own[value]
        else:
            values[number] = _literal(value)
    return bind(str(compiled), values)


def _run_now(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that awaits nothing but the recording session to its end, here and
    now (also from inside a running event loop, where asyncio.run may not be called)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("the idempotency store awaited something besides its session")


def key_statements(*, caller: str, key: str, token: str) -> KeyStatements:
    """The store's statements with the claim's caller, key and claim token (SQL expressions
    over pgbench variables)."""
    session = _RecordingSession()
    store = IdempotencyStore(
        session,  # type: ignore[arg-type]  # it only opens transactions and executes
        platform_tables.idempotency_keys,
        takeover_after=TAKEOVER_AFTER,
    )

    async def record() -> None:
        claimed = await store.claim(caller=CALLER, key=KEY, fingerprint=FINGERPRINT)
        assert not isinstance(claimed, StoredResponse), "a recording session finds no answer"
        response = StoredResponse(201, b"\0" * RESPONSE_BYTES, "application/json")
        await store.complete(session, claimed, response)  # type: ignore[arg-type]
        own[claimed.token] = token

    own: dict[object, str] = {CALLER: caller, KEY: key}
    _run_now(record())
    claim, complete = session.statements
    return KeyStatements(_pgbench_sql(claim, own), _pgbench_sql(complete, own))
