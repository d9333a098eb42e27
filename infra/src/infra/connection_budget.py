"""The database connections a stage may open, against what its RDS Proxy can lend.

Config in: per stage, the concurrency reserved for each service function, the connections
one execution environment may hold, the number of services, and what a deploy opens beside
them (each service's migration function and its database role bootstrap). Assertion out:
all of it fits in what the proxy lends out of the instance's `max_connections`, with
headroom, or the synthesis stops (`check`).

The timeouts a request meets nest the same way, each inside the next (`check_timeouts`):
a request waits for a pooled connection less long than its statement may run, which is
less than the function may run, which is less than API Gateway waits for the function; a
function never keeps its slot (and its connections) after the gateway has answered.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration

if TYPE_CHECKING:
    from infra.config import StageConfig

# RDS for PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000).
MAX_CONNECTIONS_MEMORY_DIVISOR = 9_531_392
MAX_CONNECTIONS_CEILING = 5_000
GIB = 1024**3
# Nominal memory of the instance classes the stages use; DBInstanceClassMemory is a little
# less (what the OS keeps), which the headroom covers.
INSTANCE_CLASS_MEMORY_GIB = {
    "t4g.micro": 1,
    "t4g.small": 2,
    "t4g.medium": 4,
    "m7g.large": 8,
    "m7g.xlarge": 16,
    "r7g.large": 16,
}

# What the proxy may open to the instance, as a share of max_connections: the rest is left
# for a person's session (psql through a bastion) and RDS's own. Idle connections it keeps
# open for the next burst: at most half.
PROXY_MAX_CONNECTIONS_PERCENT = 90
PROXY_MAX_IDLE_CONNECTIONS_PERCENT = 50
# The demand may use 80% of what the proxy lends: pinned sessions, a deploy that starts
# while a burst is at its peak, and DBInstanceClassMemory being below the nominal memory.
HEADROOM = 0.2

# One execution environment's pools (core.database): DATABASE_POOL_SIZE plus
# DATABASE_MAX_OVERFLOW for writes, DATABASE_READ_POOL_SIZE for a GET's reads.
DATABASE_POOL_SIZE = 1
DATABASE_MAX_OVERFLOW = 1
DATABASE_READ_POOL_SIZE = 1
CONNECTIONS_PER_ENVIRONMENT = DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW + DATABASE_READ_POOL_SIZE
# A deploy, per service: the migration function (one environment: its migration
# connection, and its app's pools for the after-migrate step) and the role bootstrap (one
# connection with the master credentials).
MIGRATION_FUNCTION_CONCURRENCY = 1
MIGRATION_CONNECTIONS = MIGRATION_FUNCTION_CONCURRENCY * (1 + CONNECTIONS_PER_ENVIRONMENT)
BOOTSTRAP_CONNECTIONS = 1

# The timeouts a request meets, innermost first.
PROXY_BORROW_TIMEOUT = Duration.seconds(10)  # the proxy's ConnectionBorrowTimeout
DATABASE_STATEMENT_TIMEOUT = Duration.seconds(15)  # DATABASE_STATEMENT_TIMEOUT_SECONDS
FUNCTION_TIMEOUT = Duration.seconds(25)  # the service functions'
API_GATEWAY_TIMEOUT = Duration.seconds(30)  # HTTP API's integration timeout, its maximum
# The migration function's: a migration statement may run 300 s (the runner's
# statement_timeout), several of them in one deploy.
MIGRATION_FUNCTION_TIMEOUT = Duration.minutes(10)
MIGRATION_STATEMENT_TIMEOUT = Duration.seconds(300)

# Lambda refuses a reservation that leaves an account fewer unreserved executions than this.
LAMBDA_MIN_UNRESERVED_CONCURRENCY = 100


class ConnectionBudgetExceeded(ValueError):
    """The stage would open more database connections than its proxy can lend."""


class TimeoutsDoNotNest(ValueError):
    """A timeout is not shorter than the one that encloses it."""


def instance_max_connections(instance_class: str) -> int:
    """RDS for PostgreSQL's default max_connections for an instance class (no `db.`)."""
    try:
        memory_gib = INSTANCE_CLASS_MEMORY_GIB[instance_class]
    except KeyError:
        raise ConnectionBudgetExceeded(
            f"no memory size known for the instance class {instance_class!r}: add it to "
            "infra.connection_budget.INSTANCE_CLASS_MEMORY_GIB"
        ) from None
    return min(memory_gib * GIB // MAX_CONNECTIONS_MEMORY_DIVISOR, MAX_CONNECTIONS_CEILING)


@dataclass(frozen=True)
class ConnectionBudget:
    stage: str
    reserved_concurrency_per_function: int
    connections_per_environment: int
    services: int
    migration_connections_per_service: int
    bootstrap_connections_per_service: int
    instance_class: str
    max_connections_percent: int = PROXY_MAX_CONNECTIONS_PERCENT
    headroom: float = HEADROOM

    @property
    def serving(self) -> int:
        """Every environment of every service function at once, each holding its pools."""
        return (
            self.reserved_concurrency_per_function
            * self.connections_per_environment
            * (self.services)
        )

    @property
    def deploying(self) -> int:
        """A deploy of every service at once (CI deploys the service stacks in parallel)."""
        per_service = self.migration_connections_per_service + (
            self.bootstrap_connections_per_service
        )
        return per_service * self.services

    @property
    def demand(self) -> int:
        return self.serving + self.deploying

    @property
    def lendable(self) -> int:
        """What the proxy may open to the instance."""
        return instance_max_connections(self.instance_class) * self.max_connections_percent // 100

    @property
    def ceiling(self) -> int:
        return int(self.lendable * (1 - self.headroom))

    def check(self) -> None:
        if self.demand > self.ceiling:
            raise ConnectionBudgetExceeded(
                f"stage {self.stage}: {self.demand} database connections "
                f"({self.reserved_concurrency_per_function} reserved environments x "
                f"{self.connections_per_environment} connections x {self.services} services"
                f" = {self.serving}, and {self.deploying} for a deploy's migrations and "
                f"role bootstraps) exceed {self.ceiling}: the proxy lends "
                f"{self.max_connections_percent}% of db.{self.instance_class}'s "
                f"{instance_max_connections(self.instance_class)} max_connections "
                f"({self.lendable}), less {self.headroom:.0%} headroom. Reserve less "
                "concurrency, pool fewer connections, or take a larger instance class."
            )


def stage_budget(stage: StageConfig, services: int) -> ConnectionBudget:
    """A stage's budget: every service of the route table connects through its proxy."""
    return ConnectionBudget(
        stage=stage.name,
        reserved_concurrency_per_function=stage.function_reserved_concurrency,
        connections_per_environment=CONNECTIONS_PER_ENVIRONMENT,
        services=services,
        migration_connections_per_service=MIGRATION_CONNECTIONS,
        bootstrap_connections_per_service=BOOTSTRAP_CONNECTIONS,
        instance_class=stage.database_instance_type,
    )


def check_timeouts(*timeouts: tuple[str, Duration]) -> None:
    """Each timeout strictly shorter than the next one, innermost first."""
    for (inner, inner_timeout), (outer, outer_timeout) in itertools.pairwise(timeouts):
        if inner_timeout.to_milliseconds() >= outer_timeout.to_milliseconds():
            raise TimeoutsDoNotNest(
                f"{inner} ({inner_timeout.to_seconds():g} s) must be shorter than {outer} "
                f"({outer_timeout.to_seconds():g} s)"
            )


def check_request_timeouts(function_timeout: Duration) -> None:
    check_timeouts(
        ("the proxy's connection borrow timeout", PROXY_BORROW_TIMEOUT),
        ("DATABASE_STATEMENT_TIMEOUT_SECONDS", DATABASE_STATEMENT_TIMEOUT),
        ("the service function's timeout", function_timeout),
        ("API Gateway's integration timeout", API_GATEWAY_TIMEOUT),
    )
    check_timeouts(
        ("a migration statement's timeout", MIGRATION_STATEMENT_TIMEOUT),
        ("the migration function's timeout", MIGRATION_FUNCTION_TIMEOUT),
    )


def required_account_concurrency(reserved_per_function: int, services: int) -> int:
    """The account's Lambda concurrency quota a stage needs: its reservations (each service
    function and each migration function), plus what Lambda keeps unreserved."""
    reserved = services * (reserved_per_function + MIGRATION_FUNCTION_CONCURRENCY)
    return reserved + LAMBDA_MIN_UNRESERVED_CONCURRENCY
