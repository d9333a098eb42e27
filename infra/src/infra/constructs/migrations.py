"""Runs a service's Alembic migrations on every deploy that changes its bundle."""

from __future__ import annotations

from aws_cdk import CustomResource
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import StageConfig
from infra.nag import accept, managed_policy

MIGRATE_ACTION = "migrate"  # core.aws_lambda.MIGRATE


class MigrationTrigger(Construct):
    """A custom resource whose provider invokes the service function itself with
    `{"action": "migrate"}` (core.aws_lambda.migration): migrations, then the app's
    after-migrate hook.

    The provider invokes the function's current version, the one this deploy publishes, and
    the version is a property: every deploy that changes the function's code or settings
    runs the migrations with that code. A failed migration fails the deploy, and
    CloudFormation rolls the stack back.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.Function,
        stage: StageConfig,
    ) -> None:
        super().__init__(scope, id)
        version = function.current_version
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
            properties={"action": MIGRATE_ACTION, "version": version.version},
        )
        accept(
            self.provider,
            "IAM4",
            "The CDK provider framework's function writes its own logs with AWS's basic "
            "execution policy.",
            applies_to=[managed_policy("AWSLambdaBasicExecutionRole")],
        )
