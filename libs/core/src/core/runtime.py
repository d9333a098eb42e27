"""What one service's requests share in a process: settings, engine, clients, relay.

Built once per process (per Lambda execution environment); everything in it that opens a
connection does so lazily, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.auth.tokens import TokenVerifier
from core.config import PlatformSettings
from core.database.engine import Database
from core.database.platform_tables import PlatformTables
from core.database.unit_of_work import UnitOfWork
from core.dynamo import DynamoClientFactory
from core.events.relay import OutboxRelay
from core.events.sinks import AuditTrail, EventBridgePublisher, EventSink, InProcessBus


@dataclass
class ServiceRuntime:
    name: str
    settings: PlatformSettings
    tables: PlatformTables
    database: Database
    bus: InProcessBus = field(default_factory=InProcessBus)

    def __post_init__(self) -> None:
        self.dynamo = DynamoClientFactory(self.settings)
        self.audit = AuditTrail(self.dynamo, self.settings.audit_table)
        self.verifier = TokenVerifier.from_settings(self.settings)
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
        )
        self._events: Any = None

    def _events_client(self) -> Any:
        if self._events is None:
            import boto3

            self._events = boto3.client("events", region_name=self.settings.aws_region)
        return self._events

    def unit_of_work(self, *, reads_only: bool = False) -> UnitOfWork:
        return UnitOfWork(
            self.database, after_commit=[self.relay.after_commit], reads_only=reads_only
        )
