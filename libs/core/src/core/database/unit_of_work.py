"""The request owns the transaction: commit when the work succeeded, roll back otherwise."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from core.database.driver import READS_ONLY
from core.database.engine import Database

logger = logging.getLogger(__name__)

AfterCommit = Callable[[AsyncSession], Awaitable[None]]


class UnitOfWork:
    """One session, one transaction. Services and repositories never commit themselves.

    `reads_only`: the work only reads (a GET), so statements on the driver connection run
    without a transaction (core.database.driver).

    `after_commit` hooks run once the transaction is durable (the outbox relay is one);
    their failures are logged and never undo or fail the committed work.
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
            # own, core.database.driver): there is nothing to end.
            await session.close()
            return
        committed = False
        try:
            if exc is None and not self.rollback_only:
                await session.commit()
                committed = True
            else:
                await session.rollback()
        finally:
            await session.close()
        if committed:
            for hook in self._after_commit:
                try:
                    await hook(session)
                except Exception:
                    logger.exception("after-commit hook failed; the outbox sweep will retry")
