"""A service's one Lambda function, its role and grants, and its dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from core.routing import ServiceRoutes
from infra.config import (
    PREVIOUS_SERVER_SECRET,
    SERVER_SECRET,
    ServiceDeployment,
    StageConfig,
    stage_previous_server_secret,
    stage_server_secret,
)
from infra.connection_budget import (
    DATABASE_MAX_OVERFLOW,
    DATABASE_POOL_SIZE,
    DATABASE_READ_POOL_SIZE,
    DATABASE_STATEMENT_TIMEOUT,
)
from infra.constructs.messaging import event_source
from infra.constructs.tables import AUDIT_ACTIONS, CACHE_ACTIONS
from infra.function_inputs import INPUTS_DIGEST_VARIABLE
from infra.nag import accept, managed_policy
from infra.platform import PlatformResources

VPC_ACCESS_POLICY = "AWSLambdaVPCAccessExecutionRole"
HANDLER = "main.handler"  # services/<dir>/main.py: handler = lambda_handler(app, ...)
LIVE_ALIAS = "live"
SWEEP_ALIAS = "sweep"
# Lambda's own retries of a failed asynchronous invocation (a consumer that raised).
EVENT_RETRIES = 2
EVENT_MAX_AGE = Duration.hours(6)
# How long a failed asynchronous invocation waits in the dead-letter queue to be looked at
# (and perhaps sent again).
DEAD_LETTER_RETENTION = Duration.days(14)


def sweep_budget_seconds(timeout: Duration) -> int:
    """How long the outbox sweep may go on delivering (core.config's
    OUTBOX_SWEEP_BUDGET_SECONDS): half the function's timeout, rounded down."""
    return int(timeout.to_seconds()) // 2


class ServiceFunction(Construct):
    """arm64 Python 3.12 in the VPC's private subnets; settings from the environment and
    secrets; permissions for exactly the tables, bus and secrets it uses.

    Nothing invokes the function's $LATEST but a person: the API and the consumed events
    invoke the `live` alias, the schedule the `sweep` alias. The deploy's migrations run in
    a twin function with the same code and settings (constructs/migrations.py); the service
    stack moves both aliases to a new version only after they have run, so new code never
    serves before its schema exists.
    """

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
    ) -> None:
        super().__init__(scope, id)
        self.generated_secrets: dict[str, secretsmanager.Secret] = {}
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"svc-{service.name}: its tables, bus and secrets, nothing else",
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
        self.log_group = logs.LogGroup(
            self, "Logs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        # Asynchronous invocations (events, the sweep) that failed every retry land here.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        accept(
            self.dead_letters,
            "SQS3",
            "This queue is itself the dead-letter queue of the function and its event rules.",
        )
        # The migration function runs with the same settings (constructs/migrations.py).
        self.environment = self._environment(service, deployment, stage, platform, inputs_digest)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"svc-{service.name}: HTTP API, events, outbox sweep",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(bundle)),
            memory_size=stage.function_memory_mb,
            timeout=stage.function_timeout,
            role=self.role,
            log_group=self.log_group,
            vpc=platform.vpc,
            vpc_subnets=platform.services_subnets,
            security_groups=[platform.services_security_group],
            environment=self.environment,
            # Every version keeps it: a failed asynchronous invocation of either alias ends
            # here after that alias's retries.
            dead_letter_queue=self.dead_letters,
            reserved_concurrent_executions=stage.function_reserved_concurrency,
            # X-Ray: each invocation's trace, its initialization (or SnapStart restore)
            # apart; the trace id is in every log line of the invocation (core.logging).
            tracing=lambda_.Tracing.ACTIVE,
            snap_start=(
                lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if stage.function_snap_start else None
            ),
            # Versions exist for the migration trigger and the aliases; the old ones serve
            # nothing once the aliases point at the next.
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        version = self.function.current_version
        # HTTP requests (synchronous) and consumed events: a consumer that raised is retried.
        self.live = lambda_.Alias(
            self,
            "Live",
            alias_name=LIVE_ALIAS,
            version=version,
            description="What the API and the event rules invoke: the migrated version",
            retry_attempts=EVENT_RETRIES,
            max_event_age=EVENT_MAX_AGE,
        )
        # The scheduled sweep: a failed one is not retried (constructs/events.py).
        self.sweep = lambda_.Alias(
            self,
            "Sweep",
            alias_name=SWEEP_ALIAS,
            version=version,
            description="What the outbox sweep schedule invokes: no retries",
            retry_attempts=0,
            max_event_age=stage.outbox_sweep_every,
        )
        accept(
            self.role,
            "IAM5",
            "Active tracing lets the function send its trace segments: xray:PutTraceSegments "
            "and xray:PutTelemetryRecords support no resource scoping, so their one "
            "statement names every resource.",
            applies_to=["Resource::*"],
        )
        accept(
            self.function,
            "L1",
            "The bundle's wheels are built for Python 3.12 (infra.bundle.LAMBDA); moving to "
            "a newer runtime is a deliberate change of bundle and function together.",
        )
        self._grant(service, platform)

    def _environment(
        self,
        service: ServiceRoutes,
        deployment: ServiceDeployment,
        stage: StageConfig,
        platform: PlatformResources,
        inputs_digest: str | None,
    ) -> dict[str, str]:
        secrets = self._secrets(deployment, stage)
        secrets[SERVER_SECRET] = self._server_secret(service, stage)
        for secret in secrets.values():
            secret.grant_read(self.role)
        # An operator's secret is named (its ARN ends in a suffix unknown before it exists);
        # a generated one is referenced by ARN.
        secret_environment: Mapping[str, str] = {
            name: secret.secret_name if name in deployment.operator_secrets else secret.secret_arn
            for name, secret in secrets.items()
        }
        optional: dict[str, str] = {}
        optional_secrets = {
            **deployment.optional_operator_secrets,
            PREVIOUS_SERVER_SECRET: stage_previous_server_secret(service.name),
        }
        for variable, name in optional_secrets.items():
            secret = secretsmanager.Secret.from_secret_name_v2(
                self, f"Optional{variable}", stage.secret_name(name)
            )
            secret.grant_read(self.role)
            optional[variable] = secret.secret_name
        return {
            "ENVIRONMENT": stage.name,
            "LOG_LEVEL": "INFO",
            # core.config and core.database.engine: credentials from the secret, through the
            # proxy, without the prepared-statement cache a proxy cannot share.
            # Its own role's credentials, never the master's.
            "DATABASE_SECRET_ARN": platform.service_database_secrets[service.name].secret_arn,
            "DATABASE_PROXY_ENDPOINT": platform.database_proxy.endpoint,
            "DATABASE_BEHIND_PROXY": "true",
            # One request at a time per execution environment: one connection, and one spare
            # for the rare path that opens a second transaction while the first is open;
            # a GET's reads take one of their own pool's (core.database.reads).
            "DATABASE_POOL_SIZE": str(DATABASE_POOL_SIZE),
            "DATABASE_MAX_OVERFLOW": str(DATABASE_MAX_OVERFLOW),
            "DATABASE_READ_POOL_SIZE": str(DATABASE_READ_POOL_SIZE),
            # Inside the function's timeout, itself inside API Gateway's: a statement
            # that runs too long fails the request before the gateway gives up on it.
            "DATABASE_STATEMENT_TIMEOUT_SECONDS": f"{DATABASE_STATEMENT_TIMEOUT.to_seconds()}",
            # A sweep delivers a backlog for at most half the function's timeout: the batch
            # in flight when the budget runs out still ends well inside the timeout.
            "OUTBOX_SWEEP_BUDGET_SECONDS": str(sweep_budget_seconds(stage.function_timeout)),
            # A write's events go out after the response, from an internal extension (a
            # thread of the function registered with the Extensions API: no layer), before
            # the environment may freeze (core.aws_lambda.extension).
            "LAMBDA_DELIVERY_EXTENSION": "true",
            # What the function may take, told to the code too: an Idempotency-Key claim
            # older than that (with margin) was left by an invocation that no longer runs.
            "REQUEST_TIMEOUT_SECONDS": str(int(stage.function_timeout.to_seconds())),
            "AUDIT_TABLE": platform.audit_table.table_name,
            "CACHE_TABLE": platform.cache_table.table_name,
            "EVENT_BUS_NAME": platform.event_bus.event_bus_name,
            "JWT_ISSUER": platform.api_endpoint,
            "JWT_JWKS": ssm.StringParameter.value_for_string_parameter(self, stage.jwks_parameter),
            # core.aws_lambda.load_secret_environment reads these at cold start; the optional
            # ones may be absent.
            "SECRET_ENVIRONMENT": Stack.of(self).to_json_string(secret_environment),
            **(
                {"OPTIONAL_SECRET_ENVIRONMENT": Stack.of(self).to_json_string(optional)}
                if optional
                else {}
            ),
            **deployment.environment(stage, platform),
            # Read by nothing: a new JWKS or secret version is a new digest, so a new
            # version, whose fresh execution environments read them again
            # (infra.function_inputs).
            **({INPUTS_DIGEST_VARIABLE: inputs_digest} if inputs_digest is not None else {}),
        }

    def _server_secret(self, service: ServiceRoutes, stage: StageConfig) -> secretsmanager.Secret:
        """The service's own SERVER_SECRET (core.server_keys), generated at the first deploy:
        what it keys (Idempotency-Key fingerprints, sealed stored answers, derived tokens)
        is worth nothing to a reader of the database, which never sees it."""
        secret = secretsmanager.Secret(
            self,
            "GeneratedServerSecret",
            secret_name=stage.secret_name(stage_server_secret(service.name)),
            description=f"svc-{service.name}'s SERVER_SECRET, generated at the first deploy",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=stage.removal_policy,
        )
        accept(
            secret,
            "SMG4",
            "Rotated by an operator in two steps, the old value kept as PREVIOUS_SERVER_SECRET "
            "meanwhile, so stored answers and pending gift tokens stay readable "
            "(docs/deploying.md).",
        )
        return secret

    def _secrets(
        self, deployment: ServiceDeployment, stage: StageConfig
    ) -> dict[str, secretsmanager.ISecret]:
        secrets: dict[str, secretsmanager.ISecret] = {}
        for variable, name in deployment.operator_secrets.items():
            secrets[variable] = secretsmanager.Secret.from_secret_name_v2(
                self, f"Operator{variable}", stage.secret_name(name)
            )
        for variable in deployment.generated_secrets:
            generated = secretsmanager.Secret(
                self,
                f"Generated{variable}",
                # A fixed name an operator can find (the stack's outputs name it too).
                secret_name=stage.generated_secret_name(variable),
                description=f"{variable}, generated at the first deploy",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=32, exclude_punctuation=True
                ),
                removal_policy=stage.removal_policy,
            )
            accept(
                generated,
                "SMG4",
                "Read once, by the deploy-time bootstrap; the account it sets up changes its "
                "password through the API afterwards.",
            )
            secrets[variable] = generated
            self.generated_secrets[variable] = generated
        return secrets

    def _grant(self, service: ServiceRoutes, platform: PlatformResources) -> None:
        platform.service_database_secrets[service.name].grant_read(self.role)
        platform.audit_table.grant(self.role, *AUDIT_ACTIONS)
        platform.cache_table.grant(self.role, *CACHE_ACTIONS)
        # Its own events only: a rule trusts a detail-type from its producer's source
        # (constructs/events.py), so no other service may put events under that source.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["events:PutEvents"],
                resources=[platform.event_bus.event_bus_arn],
                conditions={"StringEquals": {"events:source": event_source(service.name)}},
            )
        )
