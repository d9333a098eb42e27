"""Alarms, every one notifying the stage's alert topic: a service's (its function, its
requests, its outbox), the shared data's (the database, its proxy, the tables), and the
API's 5xx answers."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.metrics import PERIOD, ServiceMetrics, SharedMetrics

# A service's p99 over three periods in a row; its 5xx share of a period with traffic.
LATENCY_P99_MS = 1500
SERVER_ERROR_PERCENT = 5
SERVER_ERROR_MINIMUM_REQUESTS = 20
DATABASE_CPU_PERCENT = 80
SUSTAINED_PERIODS = 3


@dataclass(frozen=True)
class Threshold:
    value: float
    # Periods that must breach in a row: 1 for what is wrong at once, more for what a
    # moment's burst would trip.
    periods: int = 1


AT_LEAST_ONE = Threshold(1)


def _alarm(
    scope: Construct,
    id: str,
    metric: cloudwatch.IMetric,
    description: str,
    notify: sns.ITopic,
    threshold: Threshold = AT_LEAST_ONE,
) -> cloudwatch.Alarm:
    """At or over the threshold; no data (no traffic) is not a problem."""
    alarm = cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        alarm_description=description,
        threshold=threshold.value,
        evaluation_periods=threshold.periods,
        datapoints_to_alarm=threshold.periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(actions.SnsAction(notify))
    return alarm


class ServiceAlarms(Construct):
    """The function's on its name alone, so every version and alias counts: the API's and
    the events' `live` alias, the sweep's alias (a sweep that cannot deliver raises
    core.aws_lambda.OutboxDeliveryFailed), and direct invocations. Latency and 5xx share
    from the service's own request metrics; the outbox's from its sweeps."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        metrics: ServiceMetrics,
        outbox_lag: Duration,
        notify: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        lag_seconds = int(outbox_lag.to_seconds())
        rules: dict[str, tuple[cloudwatch.IMetric, str, Threshold]] = {
            "Errors": (
                metrics.errors(),
                f"{name}: invocations failed (unhandled exceptions, timeouts)",
                AT_LEAST_ONE,
            ),
            "Throttles": (
                metrics.throttles(),
                f"{name}: invocations throttled (concurrency exhausted)",
                AT_LEAST_ONE,
            ),
            "DeadLetters": (
                metrics.dead_letter_depth(),
                f"{name}: events or sweeps gave up after every retry",
                AT_LEAST_ONE,
            ),
            "LatencyP99": (
                metrics.latency("p99"),
                f"{name}: p99 latency of its requests at or over {LATENCY_P99_MS} ms for "
                f"{SUSTAINED_PERIODS} periods",
                Threshold(LATENCY_P99_MS, SUSTAINED_PERIODS),
            ),
            "ServerErrorRate": (
                metrics.server_error_rate(minimum_requests=SERVER_ERROR_MINIMUM_REQUESTS),
                f"{name}: {SERVER_ERROR_PERCENT}% or more of its answers were 5xx",
                Threshold(SERVER_ERROR_PERCENT),
            ),
            "OutboxLag": (
                metrics.outbox_lag(),
                f"{name}: an event waited {lag_seconds} s or more for delivery (EventBridge "
                "or the audit table failing, or the sweep not running)",
                Threshold(lag_seconds),
            ),
            "OutboxDeadLettered": (
                metrics.outbox_dead_lettered(),
                f"{name}: the outbox gave up delivering events (replay them once fixed)",
                AT_LEAST_ONE,
            ),
        }
        self.alarms = [
            _alarm(self, alarm_id, metric, description, notify, threshold)
            for alarm_id, (metric, description, threshold) in rules.items()
        ]


class SharedDataAlarms(Construct):
    """Once per stage, in the data stack: every service's dashboard shows these resources,
    and an alarm per service stack would notify three times of one database."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        metrics: SharedMetrics,
        database_connections: int,
        notify: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        self.alarms = [
            _alarm(
                self,
                "DatabaseCpu",
                metrics.database_cpu(),
                f"PostgreSQL: CPU at or over {DATABASE_CPU_PERCENT}% for "
                f"{SUSTAINED_PERIODS} periods",
                notify,
                Threshold(DATABASE_CPU_PERCENT, SUSTAINED_PERIODS),
            ),
            _alarm(
                self,
                "DatabaseConnections",
                metrics.database_connections(),
                f"PostgreSQL: {database_connections} connections or more, near the "
                "instance's max_connections",
                notify,
                Threshold(database_connections),
            ),
            _alarm(
                self,
                "ProxyPinnedConnections",
                metrics.proxy_pinned_connections(),
                f"RDS Proxy: connections pinned to one client for {SUSTAINED_PERIODS} "
                "periods (a session-level statement on a request path)",
                notify,
                Threshold(1, SUSTAINED_PERIODS),
            ),
        ]
        for label, table in metrics.tables.items():
            self.alarms.append(
                _alarm(
                    self,
                    f"{label.title()}TableThrottles",
                    metrics.table_throttles(table, label),
                    f"DynamoDB: requests to the {label} table throttled",
                    notify,
                )
            )


class ApiAlarms(Construct):
    """5xx answers of the whole API. Mangum turns an unhandled exception into a 500
    *response*, so the functions' Errors metric never counts those; nor does it count
    API Gateway's own 502/503/504 (a function timing out, failing to start, throttled)."""

    def __init__(
        self, scope: Construct, id: str, *, http_api: apigwv2.IHttpApi, notify: sns.ITopic
    ) -> None:
        super().__init__(scope, id)
        self.server_errors = _alarm(
            self,
            "ServerErrors",
            http_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "API: 5xx answers (a service's unhandled error, or its function failing)",
            notify,
        )
