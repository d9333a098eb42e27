"""One stack per service, all from the same constructs: a portal team deploys its own alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from core.metrics.catalog import namespace
from core.routing import ServiceRoutes
from infra.config import ServiceDeployment, StageConfig
from infra.constructs.alarms import ServiceAlarms
from infra.constructs.dashboard import ServiceDashboard
from infra.constructs.database_role import ServiceDatabaseRole
from infra.constructs.events import ConsumedEvents, OutboxSweepSchedule
from infra.constructs.migrations import MigrationTrigger
from infra.constructs.routes import ServiceApiRoutes
from infra.constructs.service_function import ServiceFunction
from infra.metrics import ServiceMetrics
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
        inputs_digest: str | None = None,
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
            inputs_digest=inputs_digest,
        )
        fn = self.function.function
        # The service's own login role and schema first: its migrations run as that role.
        self.database_role = ServiceDatabaseRole(
            self,
            "DatabaseRole",
            service=service,
            stage=stage,
            platform=platform,
            bundle=bundle,
            inputs_digest=inputs_digest,
        )
        self.migrations = MigrationTrigger(
            self,
            "Migrations",
            service_function=self.function,
            service_name=service.name,
            stage=stage,
            platform=platform,
            bundle=bundle,
        )
        self.migrations.resource.node.add_dependency(self.database_role.resource)
        # A version serves only once its migrations have run: on every deploy the aliases
        # move to the new version after the trigger succeeded (until then the previous
        # version keeps serving), and on the first one nothing is routed to the function
        # before its tables exist.
        for alias in (self.function.live, self.function.sweep):
            alias.node.add_dependency(self.migrations.resource)
        self.routes = ServiceApiRoutes(
            self,
            "Routes",
            service=service,
            http_api=platform.http_api,
            function=self.function.live,
        )
        self.routes.node.add_dependency(self.migrations.resource)
        if deployment.consumes:
            self.consumed_events: ConsumedEvents | None = ConsumedEvents(
                self,
                "ConsumedEvents",
                bus=platform.event_bus,
                detail_types=deployment.consumes,
                function=self.function.live,
                dead_letters=self.function.dead_letters,
            )
        else:
            self.consumed_events = None
        self.sweep = OutboxSweepSchedule(
            self,
            "OutboxSweep",
            every=stage.outbox_sweep_every,
            function=self.function.sweep,
            dead_letters=self.function.dead_letters,
        )
        metrics = ServiceMetrics(
            service=service.name,
            namespace=namespace(stage.name),
            function=fn,
            dead_letters=self.function.dead_letters,
        )
        self.alarms = ServiceAlarms(
            self,
            "Alarms",
            name=f"svc-{service.name}",
            metrics=metrics,
            # Three sweeps missed: one failed delivery is retried by the next sweep.
            outbox_lag=Duration.seconds(3 * stage.outbox_sweep_every.to_seconds()),
            notify=platform.alert_topic,
        )
        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            dashboard_name=stage.resource_name(service.directory),
            metrics=metrics,
            shared=platform.shared_metrics,
            alarms=self.alarms.alarms,
        )
        CfnOutput(self, "FunctionName", value=fn.function_name)
        CfnOutput(
            self,
            "DatabaseRoleFunctionName",
            value=self.database_role.function.function_name,
            description="Sets the service's database role from its secret (after a rotation)",
        )
        for variable in self.function.generated_secrets:
            # Where an operator reads it (svc-auth: the bootstrap admin's first password).
            CfnOutput(
                self,
                f"{variable.title().replace('_', '')}Secret",
                value=stage.generated_secret_name(variable),
                description=f"Secrets Manager secret holding {variable}",
            )
