"""What one service's requests share in a process: settings, engine, clients, relay.

Built once per process (per Lambda execution environment); everything in it that opens a
connection does so lazily, on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.tokens import TokenVerifier
from core.config import PlatformSettings
from core.database.engine import Database
from core.database.errors import is_unavailable
from core.database.platform_tables import PlatformTables
from core.database.unit_of_work import UnitOfWork
from core.dynamo import DynamoClientFactory
from core.events.outbox import PENDING_EVENTS
from core.events.relay import OutboxRelay, SweepResult
from core.events.sinks import AuditTrail, EventBridgePublisher, EventSink, InProcessBus
from core.metrics.business import BusinessCounters
from core.metrics.catalog import namespace
from core.metrics.recorder import MetricsRecorder
from core.retention import Purged, purge_expired
from core.server_keys import ServerKeys

if TYPE_CHECKING:
    from core.sealed_answers import AnswerSealer

logger = logging.getLogger(__name__)

Chore = Callable[[], Awaitable[object]]


class ChoresFailed(RuntimeError):
    """A scheduled chore raised; the outbox was swept all the same."""


@dataclass
class ServiceRuntime:
    name: str
    settings: PlatformSettings
    tables: PlatformTables
    database: Database
    bus: InProcessBus = field(default_factory=InProcessBus)
    # What the scheduled sweep does besides delivering the outbox (svc-coupons: lapsed
    # gifts give their coupons back). Each runs in a unit of work of its own.
    chores: list[Chore] = field(default_factory=list)
    # What it counts for the business (svc-coupons: claims, redemptions, sold-out refusals).
    counters: BusinessCounters = field(default_factory=BusinessCounters)

    def __post_init__(self) -> None:
        self.metrics = MetricsRecorder(self.name, namespace=namespace(self.settings.environment))
        self.dynamo = DynamoClientFactory(self.settings)
        self.audit = AuditTrail(self.dynamo, self.settings.audit_table)
        self.verifier = TokenVerifier.from_settings(self.settings)
        self.server_keys = ServerKeys.from_settings(self.settings)
        sinks: list[EventSink] = [self.audit]
        if self.settings.event_bus_name:
            sinks.append(EventBridgePublisher(self._events_client, self.settings.event_bus_name))
        else:
            sinks.append(self.bus)
        self.relay = OutboxRelay(
            database=self.database,
            table=self.tables.outbox,
            source=self.name,
            sinks=sinks,
            mode=self.settings.event_delivery,
            max_attempts=self.settings.outbox_max_attempts,
            retry_after_min=timedelta(seconds=self.settings.outbox_sweep_after_seconds),
            retry_after_max=timedelta(seconds=self.settings.outbox_retry_max_seconds),
        )
        self.chores.append(self.purge_expired)
        self._events: Any = None

    @cached_property
    def answer_sealer(self) -> AnswerSealer:
        """Built on the first Idempotency-Key: cryptography's import stays off cold start."""
        from core.sealed_answers import AnswerSealer

        return AnswerSealer(self.server_keys)

    def _events_client(self) -> Any:
        if self._events is None:
            from core.aws_clients import bounded_client

            self._events = bounded_client("events", self.settings)
        return self._events

    def unit_of_work(self, *, reads_only: bool = False) -> UnitOfWork:
        return UnitOfWork(
            self.database,
            after_commit=[self._count_committed, self.relay.after_commit],
            reads_only=reads_only,
        )

    async def _count_committed(self, session: AsyncSession) -> None:
        # Before the relay, which takes the transaction's events off the session.
        self.counters.count_committed(self.metrics, session.info.get(PENDING_EVENTS, ()))

    async def _report_outbox(self, result: SweepResult) -> None:
        """What a sweep leaves behind: the age of the oldest event still undelivered."""
        age = await self.relay.oldest_undelivered_age()
        self.metrics.outbox_swept(
            lag_seconds=0.0 if age is None else age.total_seconds(),
            dead_lettered=result.dead_lettered,
        )

    async def sweep(self) -> SweepResult:
        """The scheduled run: every chore, then the outbox (which delivers what the chores
        wrote along with anything left behind). A failing chore is logged and stops
        neither the others nor the outbox, then raised as ChoresFailed."""
        failed = 0
        for chore in self.chores:
            try:
                await chore()
            except Exception as exc:
                failed += 1
                name = getattr(chore, "__qualname__", repr(chore))
                if is_unavailable(exc):
                    logger.warning("%s: chore %s skipped, database unavailable", self.name, name)
                else:
                    logger.exception("%s: chore %s failed", self.name, name)
        result = await self.relay.sweep(
            older_than=timedelta(seconds=self.settings.outbox_sweep_after_seconds),
            budget_seconds=self.settings.outbox_sweep_budget_seconds,
        )
        await self._report_outbox(result)
        if failed:
            raise ChoresFailed(f"{failed} of {len(self.chores)} chores failed")
        return result

    async def purge_expired(self) -> Purged:
        """The retention chore every service's sweep runs (core.retention)."""
        return await purge_expired(self.database, self.tables, self.settings)
