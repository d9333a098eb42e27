"""A service's own database login role, made by the only code that reads the master secret."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from core.database.session_limits import SESSION_LIMITS
from core.routing import ServiceRoutes
from infra.config import StageConfig, database_role
from infra.nag import accept, managed_policy
from infra.platform import PlatformResources

BOOTSTRAP_HANDLER = "core.aws_lambda.database_role.bootstrap_database_role"
VPC_ACCESS_POLICY = "AWSLambdaVPCAccessExecutionRole"
BOOTSTRAP_TIMEOUT = Duration.minutes(5)


class ServiceDatabaseRole(Construct):
    """A custom resource, before the service's migrations: with the master credentials,
    through the proxy, `core.aws_lambda.database_role.ensure_service_role` makes the login
    role of the service's own secret, owning the service's schema and nothing else, its
    sessions bounded by core.database.session_limits.

    Its function (the service's bundle, another handler) has a role of its own: the only
    one that may read the master secret. It runs on the first deploy and whenever its
    properties change: the secret, the session limits (a change sets them on the existing role),
    or the digest of what the service's functions read
    (infra.function_inputs), which covers the service's database secret: a new password
    put in it is set on the role by the next deploy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: ServiceRoutes,
        stage: StageConfig,
        platform: PlatformResources,
        bundle: Path,
        inputs_digest: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        service_secret = platform.service_database_secrets[service.name]
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"svc-{service.name}'s database bootstrap: the master secret, its own",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(f"service-role/{VPC_ACCESS_POLICY}")
            ],
        )
        accept(
            self.role,
            "IAM4",
            "A function in a VPC must create and delete its network interfaces; "
            "ec2:DescribeNetworkInterfaces supports no resource scoping, so AWS's managed "
            "policy is as narrow as a policy of ours could be.",
            applies_to=[managed_policy(VPC_ACCESS_POLICY)],
        )
        platform.database_master_secret.grant_read(self.role)
        service_secret.grant_read(self.role)
        logs_group = logs.LogGroup(
            self, "Logs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"svc-{service.name}: its database role and schema (deploy time)",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=BOOTSTRAP_HANDLER,
            code=lambda_.Code.from_asset(str(bundle)),  # the service's: one asset
            memory_size=256,
            # On a first deploy the proxy may still be registering its target: the
            # bootstrap keeps trying to connect for as long as this allows
            # (core.aws_lambda.database_role.connect_when_ready).
            timeout=BOOTSTRAP_TIMEOUT,
            role=self.role,
            log_group=logs_group,
            vpc=platform.vpc,
            vpc_subnets=platform.services_subnets,
            security_groups=[platform.services_security_group],
            environment={
                "DATABASE_MASTER_SECRET_ARN": platform.database_master_secret.secret_arn,
                "DATABASE_SECRET_ARN": service_secret.secret_arn,
                "DATABASE_PROXY_ENDPOINT": platform.database_proxy.endpoint,
                "DATABASE_SCHEMA": service.name,
                "LOG_LEVEL": "INFO",
            },
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        accept(
            self.function,
            "L1",
            "The bundle's wheels are built for Python 3.12 (infra.bundle.LAMBDA); moving to "
            "a newer runtime is a deliberate change of bundle and function together.",
        )
        provider_logs = logs.LogGroup(
            self, "ProviderLogs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        # Invoking a version lets the provider's grant name exactly that version's ARN.
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function.current_version,
            log_group=provider_logs,
        )
        accept(
            self.provider,
            "IAM4",
            "The CDK provider framework's function writes its own logs with AWS's basic "
            "execution policy.",
            applies_to=[managed_policy("AWSLambdaBasicExecutionRole")],
        )
        properties = {
            "role": database_role(service.name),
            "schema": service.name,
            "secret": service_secret.secret_arn,
            # A change of the limits is a change of the resource: the bootstrap runs again
            # and sets them on the existing role.
            "session_limits": dict(SESSION_LIMITS),
        }
        if inputs_digest is not None:
            properties["inputs_digest"] = inputs_digest
        self.resource = CustomResource(
            self,
            "DatabaseRole",
            service_token=self.provider.service_token,
            resource_type="Custom::ServiceDatabaseRole",
            properties=properties,
        )
