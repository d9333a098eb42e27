"""Settings shared by every service; each service adds its own class with its own prefix."""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    DEV = "dev"
    PROD = "prod"

    @property
    def is_deployed(self) -> bool:
        return self in (Environment.DEV, Environment.PROD)


EventDelivery = Literal["inline", "background"]
"""How the outbox relay delivers a committed transaction's events (core.events.relay)."""


class MissingSecretError(ValueError):
    """A deployed environment started without a secret it needs, or with a default one."""


LOCAL_SERVER_SECRET = "local-server-secret-never-deployed"
MIN_SERVER_SECRET_LENGTH = 32


class PlatformSettings(BaseSettings):
    """What every service needs: where the data lives and how tokens are checked.

    Read from unprefixed variables (DATABASE_URL, JWT_ISSUER, ...) so one environment
    serves all services locally. Outside local and test, missing values stop the start.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: Environment = Environment.LOCAL
    database_url: SecretStr | None = None
    database_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret with host, port, username, password"
    )
    # For a long-running server: a request holds its connection for about one round of the
    # event loop, so the pool is of the order of the requests served at once. Reads outside
    # a transaction (GETs' hot paths) take theirs from a pool of their own, asyncpg's
    # (core.database.reads), opened on demand and waited for in turn (5 served 32
    # concurrent lookups as fast as 10 did); the rest share 10 + 5. A service's 20 keep
    # three within PostgreSQL's default 100 connections. Lambda sets 1 + 1, and 1 read.
    database_pool_size: int = 10
    database_max_overflow: int = 5
    database_read_pool_size: int = Field(default=5, ge=1)
    database_behind_proxy: bool = Field(
        default=False, description="RDS Proxy or PgBouncer: no prepared statement cache"
    )
    # A database that does not answer gets a bounded wait and a 503, never a hang.
    database_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="Opening a connection, before database_unavailable"
    )
    database_statement_timeout_seconds: float = Field(
        default=15.0, gt=0, description="One statement's answer, before database_unavailable"
    )
    database_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Waiting for a free pooled connection"
    )
    # Migrations run on a live database (core.database.migrations): a statement that waits
    # for a lock queues every request behind it, so it gives up soon and the deploy fails
    # instead of the traffic; a statement that works (an index built concurrently) may take
    # minutes.
    database_migration_lock_timeout_seconds: float = Field(
        default=5.0, gt=0, description="A migration's wait for a lock, then it fails"
    )
    database_migration_statement_timeout_seconds: float = Field(
        default=300.0, gt=0, description="One migration statement's run, then it fails"
    )
    aws_region: str = "us-east-1"
    # DynamoDB and EventBridge calls on a request's path (core.aws_clients): at most about
    # 0.5 + 1 s an attempt, two attempts, then the client rests for a few seconds.
    aws_connect_timeout_seconds: float = Field(default=0.5, gt=0)
    aws_read_timeout_seconds: float = Field(default=1.0, gt=0)
    aws_max_attempts: int = Field(default=2, ge=1)
    aws_breaker_seconds: float = Field(
        default=5.0, ge=0, description="How long a client fails fast after a timeout"
    )
    dynamodb_endpoint_url: str | None = None
    audit_table: str = "coupon-audit"
    cache_table: str = "coupon-cache"
    event_bus_name: str | None = None
    outbox_sweep_after_seconds: float = Field(
        default=30, ge=0, description="How old an undelivered event is before the sweep sends it"
    )
    outbox_max_attempts: int = Field(
        default=10,
        ge=1,
        description="Refusals of an event (malformed, too large: not an unavailable sink)"
        " before it is dead-lettered",
    )
    outbox_retry_max_seconds: float = Field(
        default=300,
        ge=0,
        description="The longest a failed event waits for its next attempt (each wait"
        " doubles from OUTBOX_SWEEP_AFTER_SECONDS)",
    )
    # At most half the timeout of the function that sweeps (the CDK app sets it from it):
    # the batch in flight when the budget runs out still finishes in time.
    outbox_sweep_budget_seconds: float = Field(
        default=10, gt=0, description="How long one sweep goes on delivering a backlog"
    )
    # The longest a request may run: deployed, the function's timeout (the CDK sets it).
    # An Idempotency-Key claimed by a request that has run for longer than that, with
    # margin, was left by a process that died, and is taken over (core.idempotency).
    request_timeout_seconds: float = Field(
        default=30, gt=0, description="The function's timeout; locally, a request's bound"
    )
    # Retention, enforced by the scheduled sweep in batches (core.retention).
    outbox_retention_days: float = Field(default=7, gt=0, description="Delivered events")
    idempotency_key_retention_hours: float = Field(
        default=24, gt=0, description="How long an Idempotency-Key's answer is replayed"
    )
    # The service's own secret, never in its database: keys the Idempotency-Key request
    # fingerprints and seals the answers kept for replay (core.server_keys), and whatever
    # else a service derives instead of storing (svc-coupons: gift claim tokens).
    server_secret: SecretStr = Field(
        default=SecretStr(LOCAL_SERVER_SECRET),
        description="Keys fingerprints, sealed answers and derived tokens; refused default"
        " when deployed",
    )
    previous_server_secret: SecretStr | None = Field(
        default=None,
        description="The secret being rotated out: what it sealed or derived is still read",
    )
    # Longer than anything can deliver an event again: the EventBridge archive's replay
    # (90 days in prod), a dead-letter queue's messages (14 days) after Lambda's and
    # EventBridge's retries (tests/infra/test_event_redelivery_window.py checks them all).
    processed_event_retention_days: float = Field(
        default=100, gt=0, description="Consumed event ids kept against redelivery"
    )
    retention_batch_size: int = Field(default=1000, ge=1)
    lambda_delivery_extension: bool = Field(
        default=False,
        description="In AWS Lambda: deliver a write's events after the response, from an"
        " internal extension (core.aws_lambda.extension); off: before the response",
    )
    event_delivery: EventDelivery = Field(
        default="background",
        description="inline: in the request, after commit; background: a worker of the"
        " process delivers in batches (long-running servers). Lambda is always inline.",
    )
    jwt_issuer: str = "http://127.0.0.1:8000"
    jwt_audience: str = "coupon-platform"
    jwt_jwks: str | None = Field(default=None, description="JSON Web Key Set of the verifying keys")
    trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        description="Proxies of ours in front of a long-running server, each appending its"
        " peer to X-Forwarded-For: the client is the address this many hops from the right."
        " 0: the socket's peer. Lambda reads API Gateway's sourceIp whatever this says.",
    )
    local_state_dir: Path = Path(".local")
    log_level: str = "INFO"
    graphql_max_depth: int = 10
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 15
    # Selections in a document's operations with every fragment spread in place: what the
    # depth and alias limits walk (core.web.graphql_expansion). Without fragments the token
    # limit keeps a document below 2000.
    graphql_max_expanded_selections: int = Field(default=5000, ge=1)

    @model_validator(mode="after")
    def _refuse_missing_secrets_when_deployed(self) -> PlatformSettings:
        if not self.environment.is_deployed:
            return self
        if self.database_url is None and self.database_secret_arn is None:
            raise MissingSecretError(
                f"ENVIRONMENT={self.environment}: set DATABASE_URL or DATABASE_SECRET_ARN"
            )
        if not self.jwt_jwks:
            raise MissingSecretError(
                f"ENVIRONMENT={self.environment}: set JWT_JWKS to the public signing keys"
            )
        if self.jwt_issuer.startswith("http://127.0.0.1"):
            raise MissingSecretError(
                f"ENVIRONMENT={self.environment}: JWT_ISSUER still has its local default"
            )
        server_secret = self.server_secret.get_secret_value()
        if server_secret == LOCAL_SERVER_SECRET or len(server_secret) < MIN_SERVER_SECRET_LENGTH:
            raise MissingSecretError(
                f"ENVIRONMENT={self.environment}: set SERVER_SECRET to a random value of at"
                f" least {MIN_SERVER_SECRET_LENGTH} characters"
            )
        return self

    @property
    def idempotency_takeover_after(self) -> timedelta:
        """How old a claim on an Idempotency-Key is before another request takes it over."""
        return timedelta(seconds=1.5 * self.request_timeout_seconds)

    @property
    def keys_dir(self) -> Path:
        return self.local_state_dir / "keys"

    def jwks(self) -> dict[str, Any] | None:
        return json.loads(self.jwt_jwks) if self.jwt_jwks else None
