"""What differs between stages, and the little that differs between services.

A stage (`-c stage=dev|prod`) sets sizes, retention and protection. A service needs an
entry in SERVICE_DEPLOYMENTS only when it consumes events or needs secrets of its own;
every other service of core.routing.SERVICES deploys with the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs

from core.routing import ServiceRoutes
from infra.connection_budget import FUNCTION_TIMEOUT

if TYPE_CHECKING:
    from infra.platform import PlatformResources

PROJECT = "coupon-platform"
DEFAULT_STAGE = "dev"

# Names reserved for documentation and testing (RFC 2606, RFC 6761): no portal is served
# from a host under them and no one reads an inbox there, so a setting that names one is
# a placeholder still waiting for the real value.
RESERVED_DOMAINS = (
    "example",
    "example.com",
    "example.net",
    "example.org",
    "test",
    "invalid",
    "localhost",
)


def is_reserved_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith(f".{domain}") for domain in RESERVED_DOMAINS)


@dataclass(frozen=True)
class StageConfig:
    name: str
    function_memory_mb: int
    # Inside API Gateway's 30 s, around the statement timeout (infra.connection_budget);
    # the migrations run in a function of their own, with minutes.
    function_timeout: Duration
    database_instance_type: str
    database_multi_az: bool
    database_storage_gb: int
    database_backup_days: int
    # prod keeps its data when a stack or resource is deleted; dev cleans up after itself.
    keep_data: bool
    log_retention: logs.RetentionDays
    portal_origins: tuple[str, ...]
    api_rate_limit: int
    api_burst_limit: int
    outbox_sweep_every: Duration
    event_archive_days: int
    bootstrap_admin_email: str
    # The service functions reach svc-merchants' public API (svc-coupons) through NAT:
    # one gateway in dev to keep costs down, one per availability zone in prod.
    nat_gateways: int
    # Concurrency reserved for each service function: a ceiling on the connections one
    # service can open through the proxy (infra.connection_budget checks their sum), and a
    # floor no other function can take away.
    function_reserved_concurrency: int
    # Lambda SnapStart on the published versions (docs/deploying.md, "Cold starts"): a
    # cold start resumes a snapshot taken after init instead of importing everything.
    function_snap_start: bool
    # The database connections an alarm reports: about 80% of the instance class's
    # max_connections (LEAST(memory / 9531392, 5000) on RDS for PostgreSQL).
    database_connections_alarm: int
    # Serves real portals and mails a real administrator: synthesis fails while the portal
    # origins or the bootstrap admin's e-mail are placeholders (`placeholder_settings`).
    refuses_placeholders: bool = False

    def placeholder_settings(self) -> list[str]:
        """The settings that still name a reserved domain, each with its value."""
        found = [
            f"portal origin {origin}"
            for origin in self.portal_origins
            if is_reserved_host(urlsplit(origin).hostname or "")
        ]
        if is_reserved_host(self.bootstrap_admin_email.rpartition("@")[2]):
            found.append(f"bootstrap admin e-mail {self.bootstrap_admin_email}")
        return found

    def require_real_settings(self) -> None:
        """Raise PlaceholderSettings when this stage refuses placeholders and has some."""
        if self.refuses_placeholders and (placeholders := self.placeholder_settings()):
            raise PlaceholderSettings(self.name, placeholders)

    @property
    def removal_policy(self) -> RemovalPolicy:
        """What a stack's delete, or a replacement, does with what holds data.

        prod keeps it, except when the resource's own create is what failed: a first
        deploy that rolls back then leaves no fixed-name secret or billing instance
        behind, so the retry does not fail on "already exists" (CloudFormation's
        RetainExceptOnCreate)."""
        return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if self.keep_data else RemovalPolicy.DESTROY

    def resource_name(self, name: str) -> str:
        return f"{PROJECT}-{self.name}-{name}"

    def secret_name(self, name: str) -> str:
        """Where an operator stores a secret of this stage before the first deploy."""
        return f"{PROJECT}/{self.name}/{name}"

    def database_secret_name(self, service_name: str) -> str:
        """The service's own database credentials: coupon-platform/<stage>/db-<service>."""
        return self.secret_name(f"db-{service_name}")

    def generated_secret_name(self, variable: str) -> str:
        """Where CDK keeps a generated secret: BOOTSTRAP_ADMIN_PASSWORD ->
        coupon-platform/<stage>/bootstrap-admin-password."""
        return self.secret_name(variable.lower().replace("_", "-"))

    @property
    def jwks_parameter(self) -> str:
        """SSM parameter with the public JSON Web Key Set every service verifies tokens with."""
        return f"/{PROJECT}/{self.name}/jwt-jwks"


class PlaceholderSettings(ValueError):
    def __init__(self, stage: str, placeholders: list[str]) -> None:
        super().__init__(
            f"stage {stage} still has placeholder settings ({'; '.join(placeholders)}): "
            f"set its portal_origins and bootstrap_admin_email in infra/src/infra/config.py"
        )
        self.placeholders = placeholders


PORTALS = ("merchant", "customer", "exchange", "admin", "partner")
AVAILABILITY_ZONES = 2

STAGES: Mapping[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        function_memory_mb=1024,
        function_timeout=FUNCTION_TIMEOUT,
        database_instance_type="t4g.micro",
        database_multi_az=False,
        database_storage_gb=20,
        database_backup_days=1,
        keep_data=False,
        log_retention=logs.RetentionDays.TWO_WEEKS,
        # The portals' development servers.
        portal_origins=tuple(f"http://localhost:{3000 + i}" for i, _ in enumerate(PORTALS)),
        api_rate_limit=50,
        api_burst_limit=100,
        outbox_sweep_every=Duration.minutes(5),
        event_archive_days=7,
        bootstrap_admin_email="admin@dev.coupon-exchange.example",
        nat_gateways=1,
        # Enough for a person clicking through the portals; an account needs a Lambda
        # concurrency quota of 118 for it (docs/deploying.md).
        function_reserved_concurrency=5,
        # Deploys often and serves little: a snapshot per version costs more deploy time
        # (and cache) than its few cold starts would.
        function_snap_start=False,
        database_connections_alarm=80,  # t4g.micro: 1 GiB, about 100 connections
    ),
    "prod": StageConfig(
        name="prod",
        function_memory_mb=1769,  # one full vCPU: argon2 hashing is CPU-bound
        function_timeout=FUNCTION_TIMEOUT,
        database_instance_type="m7g.large",
        database_multi_az=True,
        database_storage_gb=100,
        database_backup_days=14,
        keep_data=True,
        log_retention=logs.RetentionDays.THREE_MONTHS,
        # Placeholders (a reserved domain): replace them with the portals' real origins and
        # the real administrator's address before the first deploy; until then prod's
        # synthesis fails (`refuses_placeholders`).
        portal_origins=tuple(f"https://{portal}.coupon-exchange.example" for portal in PORTALS),
        api_rate_limit=1000,
        api_burst_limit=2000,
        outbox_sweep_every=Duration.minutes(1),
        event_archive_days=90,
        bootstrap_admin_email="platform-admin@coupon-exchange.example",
        nat_gateways=AVAILABILITY_ZONES,
        # Three connections at most per environment: 60 x 3 x 3 services, and a deploy's
        # migrations, stay within 80% of what the proxy lends out of an m7g.large
        # (infra.connection_budget). 60 environments of a 25 s function answering in
        # 100 ms serve about 600 requests a second per service.
        function_reserved_concurrency=60,
        # Flash claims scale out in bursts, each new environment a cold start.
        function_snap_start=True,
        database_connections_alarm=700,  # m7g.large: 8 GiB, about 900 connections
        refuses_placeholders=True,
    ),
}


def stage_config(name: str) -> StageConfig:
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"unknown stage {name!r}; one of {sorted(STAGES)}") from None


def _no_environment(stage: StageConfig, platform: PlatformResources) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class ServiceDeployment:
    """What one service needs beyond what every service gets."""

    # EventBridge detail-types the service's app.state.consumers handle.
    consumes: tuple[str, ...] = ()
    # Environment variable -> secret name (under coupon-platform/<stage>/) that an operator
    # creates before the first deploy: values CDK cannot make, like an RSA signing key.
    operator_secrets: Mapping[str, str] = field(default_factory=dict)
    # The same, for secrets that exist only some of the time (a key being rotated out):
    # read when present, skipped when absent (core.aws_lambda.load_secret_environment).
    optional_operator_secrets: Mapping[str, str] = field(default_factory=dict)
    # Environment variables whose value CDK generates as a random password and keeps in
    # Secrets Manager.
    generated_secrets: tuple[str, ...] = ()
    # Plain settings of the service, from the stage and the shared resources (a URL, say).
    environment: Callable[[StageConfig, PlatformResources], Mapping[str, str]] = _no_environment


EVENT_PRODUCERS: Mapping[str, str] = {
    # svc_merchants.services.events: the merchant's lifecycle and its outlets.
    **{
        f"merchant.{change}": "merchants"
        for change in ("applied", "verified", "updated", "suspended", "reinstated")
    },
    **{f"outlet.{change}": "merchants" for change in ("created", "updated", "deleted")},
}
"""EventBridge detail-type -> the one service that publishes it.

A consumer's rule admits a detail-type only from its producer's source, and each function
may put events only under its own source, so no service can forge another's events.
"""


def producer_of(detail_type: str) -> str:
    try:
        return EVENT_PRODUCERS[detail_type]
    except KeyError:
        raise ValueError(
            f"no producer known for {detail_type!r}: add it to infra.config.EVENT_PRODUCERS"
        ) from None


SERVER_SECRET = "SERVER_SECRET"
PREVIOUS_SERVER_SECRET = "PREVIOUS_SERVER_SECRET"


def stage_server_secret(service_name: str) -> str:
    """Every service's own SERVER_SECRET (core.config), generated by CDK:
    coupon-platform/<stage>/<service>-server-secret."""
    return f"{service_name}-server-secret"


def stage_previous_server_secret(service_name: str) -> str:
    """Where an operator puts the value being rotated out (docs/deploying.md), optional."""
    return f"{service_name}-previous-server-secret"


SERVICE_DEPLOYMENTS: Mapping[str, ServiceDeployment] = {
    "auth": ServiceDeployment(
        consumes=("merchant.verified",),
        operator_secrets={"AUTH_SIGNING_KEY": "auth-signing-key"},
        # Only during a signing-key rotation (docs/deploying.md).
        optional_operator_secrets={"AUTH_PREVIOUS_SIGNING_KEY": "auth-previous-signing-key"},
        generated_secrets=("BOOTSTRAP_ADMIN_PASSWORD",),
        environment=lambda stage, platform: {"BOOTSTRAP_ADMIN_EMAIL": stage.bootstrap_admin_email},
    ),
    # Merchant changes evict svc-coupons' cached merchant facts (svc_coupons.consumers).
    "coupons": ServiceDeployment(
        consumes=(
            "merchant.suspended",
            "merchant.reinstated",
            "merchant.updated",
            "outlet.created",
            "outlet.updated",
            "outlet.deleted",
        ),
        # svc-coupons reads merchants and outlets through svc-merchants' public endpoints,
        # on the same HTTP API (core.routing), reached through the NAT gateway.
        # One request at a time per execution environment, and a caller's requests spread
        # over many: each adds to the shared per-caller count at once (in the background,
        # core.caller_limits), not every tenth of a ceiling as a long-running server does.
        environment=lambda stage, platform: {
            "COUPONS_MERCHANTS_API_URL": platform.api_endpoint,
            "COUPONS_CALLER_LIMIT_SLACK": "0",
        },
    ),
}


def database_role(service_name: str) -> str:
    """The login role a service connects as; it owns the schema named like the service."""
    return f"svc_{service_name}"


def deployment_for(service: ServiceRoutes) -> ServiceDeployment:
    return SERVICE_DEPLOYMENTS.get(service.name, ServiceDeployment())
