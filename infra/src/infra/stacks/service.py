"""One stack per service, all from the same constructs: a portal team deploys its own alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from core.routing import ServiceRoutes
from infra.config import ServiceDeployment, StageConfig
from infra.constructs.alarms import FunctionAlarms
from infra.constructs.events import ConsumedEvents, OutboxSweepSchedule
from infra.constructs.migrations import MigrationTrigger
from infra.constructs.routes import ServiceApiRoutes
from infra.constructs.service_function import ServiceFunction
from infra.platform import PlatformResources


class ServiceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: ServiceRoutes,
        deployment: ServiceDeployment,
        stage: StageConfig,
        platform: PlatformResources,
        bundle: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.service = service
        self.function = ServiceFunction(
            self,
            "Service",
            service=service,
            deployment=deployment,
            stage=stage,
            platform=platform,
            bundle=bundle,
        )
        fn = self.function.function
        self.routes = ServiceApiRoutes(
            self, "Routes", service=service, http_api=platform.http_api, function=fn
        )
        self.migrations = MigrationTrigger(self, "Migrations", function=fn, stage=stage)
        if deployment.consumes:
            ConsumedEvents(
                self,
                "ConsumedEvents",
                bus=platform.event_bus,
                detail_types=deployment.consumes,
                function=fn,
                dead_letters=self.function.dead_letters,
            )
        OutboxSweepSchedule(
            self,
            "OutboxSweep",
            every=stage.outbox_sweep_every,
            function=fn,
            dead_letters=self.function.dead_letters,
        )
        FunctionAlarms(
            self,
            "Alarms",
            name=f"svc-{service.name}",
            function=fn,
            dead_letters=self.function.dead_letters,
            notify=platform.alert_topic,
        )
        CfnOutput(self, "FunctionName", value=fn.function_name)
