"""Everything stateful the services share: network, PostgreSQL, DynamoDB, the event bus."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from core.routing import SERVICES
from infra.config import StageConfig
from infra.constructs.alarms import SharedDataAlarms
from infra.constructs.database import PostgresBehindProxy
from infra.constructs.messaging import AlertTopic, PlatformEventBus
from infra.constructs.network import PlatformNetwork
from infra.constructs.tables import PlatformTables
from infra.metrics import SharedMetrics

ALERT_TOPIC_OUTPUT = "AlertTopicArn"


class DataStack(Stack):
    """Deployed first and rarely; the service stacks only reference what it exports."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.network = PlatformNetwork(self, "Network", stage=stage)
        self.database = PostgresBehindProxy(
            self,
            "Database",
            stage=stage,
            network=self.network,
            # Every service of the route table, deployed or not: the proxy admits them all.
            services=[service.name for service in SERVICES],
        )
        self.tables = PlatformTables(self, "Tables", stage=stage)
        self.events = PlatformEventBus(self, "Events", stage=stage)
        self.alerts = AlertTopic(self, "Alerts")
        # What an operator subscribes to (docs/deploying.md, "Alerts").
        CfnOutput(
            self,
            ALERT_TOPIC_OUTPUT,
            value=self.alerts.topic.topic_arn,
            description="Every alarm of the stage notifies this topic: subscribe to it",
        )
        self.shared_metrics = SharedMetrics(
            database=self.database.instance,
            proxy=self.database.proxy,
            tables={"audit": self.tables.audit, "cache": self.tables.cache},
        )
        self.alarms = SharedDataAlarms(
            self,
            "Alarms",
            metrics=self.shared_metrics,
            database_connections=stage.database_connections_alarm,
            notify=self.alerts.topic,
        )
