"""Consuming another service's events exactly once per event id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import correlation
from core.clock import utcnow
from core.database.unit_of_work import UnitOfWork
from core.events.model import DomainEvent

EventEffect = Callable[[AsyncSession, DomainEvent], Awaitable[None]]


class IdempotentConsumer:
    """Runs `effect` in its own transaction, together with the record that it ran.

    A redelivered event (EventBridge retries, the sweep, a replayed message) finds its id
    already recorded and changes nothing.
    """

    def __init__(
        self, *, unit_of_work: Callable[[], UnitOfWork], processed: Table, effect: EventEffect
    ) -> None:
        # The service's own unit of work: the events the effect writes are handed to its
        # relay after commit, as a request's are (not left for the sweep).
        self._unit_of_work = unit_of_work
        self._processed = processed
        self._effect = effect

    async def __call__(self, event: DomainEvent) -> bool:
        # What the effect logs and the events it writes belong to the request that caused
        # the event, in whichever service it ran.
        token = correlation.correlation_id.set(event.correlation_id)
        try:
            return await self._consume(event)
        finally:
            correlation.correlation_id.reset(token)

    async def _consume(self, event: DomainEvent) -> bool:
        async with self._unit_of_work() as uow:
            first_time = (
                await uow.session.execute(
                    insert(self._processed)
                    .values(event_id=event.id, event_type=event.type, processed_at=utcnow())
                    .on_conflict_do_nothing()
                    .returning(self._processed.c.event_id)
                )
            ).first()
            if first_time is None:
                return False
            await self._effect(uow.session, event)
        return True
