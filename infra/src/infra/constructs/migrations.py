"""Runs a service's Alembic migrations on every deploy that changes its function."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import StageConfig
from infra.connection_budget import (
    MIGRATION_FUNCTION_CONCURRENCY,
    MIGRATION_FUNCTION_TIMEOUT,
    MIGRATION_STATEMENT_TIMEOUT,
)
from infra.constructs.service_function import HANDLER, ServiceFunction
from infra.nag import accept, managed_policy
from infra.platform import PlatformResources

MIGRATE_ACTION = "migrate"  # core.aws_lambda.MIGRATE


class MigrationTrigger(Construct):
    """A custom resource whose provider invokes the service's migration function with
    `{"action": "migrate"}` (core.aws_lambda.migration): migrations, then the app's
    after-migrate hook.

    The migration function is the service function's twin (same bundle, handler, role,
    network and settings) with the time a migration needs: ten minutes, and statements
    of up to 300 s instead of a request's 15. Its reserved concurrency of one keeps a
    deploy's connections counted (infra.connection_budget). The provider invokes the
    version this deploy publishes, and both functions' versions are properties: every
    deploy that changes the service function's code or settings runs the migrations with
    that code. A failed migration fails the deploy, and CloudFormation rolls the stack back.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service_function: ServiceFunction,
        service_name: str,
        stage: StageConfig,
        platform: PlatformResources,
        bundle: Path,
    ) -> None:
        super().__init__(scope, id)
        function_logs = logs.LogGroup(
            self, "Logs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"svc-{service_name}: its migrations (deploy time)",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(bundle)),  # the service's: one asset
            memory_size=stage.function_memory_mb,
            timeout=MIGRATION_FUNCTION_TIMEOUT,
            role=service_function.role,
            log_group=function_logs,
            vpc=platform.vpc,
            vpc_subnets=platform.services_subnets,
            security_groups=[platform.services_security_group],
            environment={
                **service_function.environment,
                # The after-migrate step's statements (svc-auth's bootstrap admin) get a
                # migration's time too; the migrations themselves run with the runner's
                # lock_timeout (5 s) and statement_timeout (300 s).
                "DATABASE_STATEMENT_TIMEOUT_SECONDS": f"{MIGRATION_STATEMENT_TIMEOUT.to_seconds()}",
                "REQUEST_TIMEOUT_SECONDS": str(int(MIGRATION_FUNCTION_TIMEOUT.to_seconds())),
            },
            reserved_concurrent_executions=MIGRATION_FUNCTION_CONCURRENCY,
            tracing=lambda_.Tracing.ACTIVE,
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        accept(
            self.function,
            "L1",
            "The bundle's wheels are built for Python 3.12 (infra.bundle.LAMBDA); moving to "
            "a newer runtime is a deliberate change of bundle and function together.",
        )
        version = self.function.current_version
        provider_logs = logs.LogGroup(
            self, "ProviderLogs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        # Invoking a version lets the provider's grant name exactly that version's ARN.
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=version, log_group=provider_logs
        )
        self.resource = CustomResource(
            self,
            "Migrations",
            service_token=self.provider.service_token,
            resource_type="Custom::ServiceMigrations",
            properties={
                "action": MIGRATE_ACTION,
                "version": version.version,
                # The version the aliases move to once this succeeded.
                "serves": service_function.function.current_version.version,
            },
        )
        accept(
            self.provider,
            "IAM4",
            "The CDK provider framework's function writes its own logs with AWS's basic "
            "execution policy.",
            applies_to=[managed_policy("AWSLambdaBasicExecutionRole")],
        )
