"""The request owns the transaction: commit when the work succeeded, roll back otherwise."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import greenlet_spawn

from core.database.driver import READ_POOL, READS_ONLY
from core.database.engine import Database

logger = logging.getLogger(__name__)

AfterCommit = Callable[[AsyncSession], Awaitable[None]]


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


class UnitOfWork:
    """One session, one transaction. Services and repositories never commit themselves.

    `reads_only`: the work only reads (a GET), so statements on the driver connection run
    without a transaction (core.database.driver).

    `after_commit` hooks run once the transaction is durable (the outbox relay is one);
    their failures are logged and never undo or fail the committed work.

    The transaction begins at the first write: reads before it run on the session's
    connection without BEGIN (core.database.driver.reading_connection). A request whose
    one write is a statement that commits by itself (a claim: its contended rows locked by
    the statement and released by its own commit, with no round trip to the client in
    between; core.database.driver.statement_connection) therefore commits at that
    statement, which carries everything the request writes: its change, its events
    (the outbox rows) and its Idempotency-Key's answer (core.idempotency). The request
    still owns that work: it chose every value the statement writes, and nothing it does
    afterwards writes. Ending the unit of work then ends a transaction that holds
    nothing, and the after-commit hooks deliver the statement's events as after any
    commit. Had the request written before, the statement runs inside its transaction
    (in a savepoint), and everything commits together here as usual. If the request
    fails after such a statement, what the statement committed stays committed (it was
    complete in itself), and its events are delivered by the outbox sweep.
    """

    def __init__(
        self,
        database: Database,
        *,
        after_commit: list[AfterCommit] | None = None,
        reads_only: bool = False,
    ):
        self._database = database
        self._after_commit = after_commit or []
        self._session: AsyncSession | None = None
        self.reads_only = reads_only
        self.rollback_only = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._database.session()
            if self.reads_only:
                self._session.info[READS_ONLY] = True
                self._session.info[READ_POOL] = self._database.reads
        return self._session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        if not session.in_transaction():
            # It never reached the database (its reads went through a connection of their
            # own, core.database.driver): there is nothing to end, and closing it does no
            # I/O, so it is closed directly rather than through a greenlet (AsyncSession's
            # close), a hop per read request.
            session.sync_session.close()
            return
        committed = exc is None and not self.rollback_only
        # AsyncSession's commit (or rollback) and close are each a hop into a greenlet; the
        # two in one hop, the close whatever the end raised.
        await greenlet_spawn(_end, session.sync_session, committed)
        if committed:
            for hook in self._after_commit:
                try:
                    await hook(session)
                except Exception:
                    logger.exception("after-commit hook failed; the outbox sweep will retry")
