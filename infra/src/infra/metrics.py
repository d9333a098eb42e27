"""The CloudWatch metrics a service's alarms and dashboard read, defined once for both.

The services' own metrics (latency per route and status class, business events, outbox
lag) arrive as embedded metric format log lines under the stage's namespace
(core.metrics.catalog); the rest are AWS's: Lambda, SQS, RDS and its proxy, DynamoDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sqs as sqs

from core.metrics import catalog

PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class ServiceMetrics:
    """One service's: its requests as it measured them, its function, its queues."""

    service: str  # core.routing.ServiceRoutes.name: the Service dimension
    namespace: str
    function: lambda_.IFunction
    dead_letters: sqs.IQueue

    def _own(self, name: str, statistic: str, **dimensions: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map={catalog.SERVICE: self.service, **dimensions},
            statistic=statistic,
            period=PERIOD,
        )

    def latency(self, statistic: str = "p99") -> cloudwatch.Metric:
        return self._own(catalog.LATENCY, statistic).with_(label=f"latency {statistic} (ms)")

    def requests(self) -> cloudwatch.Metric:
        return self._own(catalog.LATENCY, "SampleCount").with_(label="requests")

    def server_errors(self) -> cloudwatch.Metric:
        return self._own(
            catalog.LATENCY,
            "SampleCount",
            **{catalog.STATUS_CLASS: catalog.SERVER_ERROR_CLASS},
        ).with_(label="5xx answers")

    def server_error_rate(self, *, minimum_requests: int = 0) -> cloudwatch.MathExpression:
        """5xx answers in percent of requests; 0 below `minimum_requests` in a period, where
        one failed request would be a large share of a handful."""
        return cloudwatch.MathExpression(
            expression=(
                f"IF(requests >= {max(minimum_requests, 1)}, 100 * FILL(errors, 0) / requests, 0)"
            ),
            using_metrics={"requests": self.requests(), "errors": self.server_errors()},
            period=PERIOD,
            label="5xx (% of requests)",
        )

    def business_events(self) -> cloudwatch.MathExpression:
        """Every business counter the service records (claims, redemptions...), one line
        each, without the app having to list them."""
        search = (
            f"SEARCH('{{{self.namespace},{catalog.SERVICE},{catalog.EVENT}}} "
            f'MetricName="{catalog.BUSINESS_EVENTS}" {catalog.SERVICE}="{self.service}"\', '
            f"'Sum', {int(PERIOD.to_seconds())})"
        )
        return cloudwatch.MathExpression(
            expression=search, using_metrics={}, period=PERIOD, label=""
        )

    def outbox_lag(self) -> cloudwatch.Metric:
        return self._own(catalog.OUTBOX_LAG, "Maximum").with_(label="oldest undelivered event (s)")

    def outbox_dead_lettered(self) -> cloudwatch.Metric:
        return self._own(catalog.OUTBOX_DEAD_LETTERED, "Sum").with_(label="outbox events given up")

    def errors(self) -> cloudwatch.Metric:
        return self.function.metric_errors(period=PERIOD, statistic="Sum")

    def throttles(self) -> cloudwatch.Metric:
        return self.function.metric_throttles(period=PERIOD, statistic="Sum")

    def invocations(self) -> cloudwatch.Metric:
        return self.function.metric_invocations(period=PERIOD, statistic="Sum")

    def duration(self, statistic: str = "p99") -> cloudwatch.Metric:
        return self.function.metric_duration(period=PERIOD, statistic=statistic)

    def concurrency(self) -> cloudwatch.Metric:
        return self.function.metric(
            "ConcurrentExecutions", period=PERIOD, statistic="Maximum"
        ).with_(label="concurrent executions")

    def dead_letter_depth(self) -> cloudwatch.Metric:
        return self.dead_letters.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum"
        ).with_(label="dead letters waiting")


@dataclass(frozen=True)
class SharedMetrics:
    """The resources every service shares: the database, its proxy, the DynamoDB tables."""

    database: rds.IDatabaseInstance
    proxy: rds.IDatabaseProxy
    tables: Mapping[str, dynamodb.ITable]  # by what they hold: audit, cache

    def database_cpu(self) -> cloudwatch.Metric:
        return self.database.metric_cpu_utilization(period=PERIOD, statistic="Average")

    def database_connections(self) -> cloudwatch.Metric:
        return self.database.metric_database_connections(period=PERIOD, statistic="Maximum")

    def _proxy(self, name: str, label: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/RDS",
            metric_name=name,
            dimensions_map={"ProxyName": self.proxy.db_proxy_name},
            statistic="Maximum",
            period=PERIOD,
            label=label,
        )

    def proxy_client_connections(self) -> cloudwatch.Metric:
        return self._proxy("ClientConnections", "proxy: client connections")

    def proxy_database_connections(self) -> cloudwatch.Metric:
        return self._proxy("DatabaseConnections", "proxy: database connections")

    def proxy_pinned_connections(self) -> cloudwatch.Metric:
        """Connections the proxy can no longer share (a session SET, a temp table...)."""
        return self._proxy("DatabaseConnectionsCurrentlySessionPinned", "proxy: pinned")

    def table_throttles(self, table: dynamodb.ITable, label: str) -> cloudwatch.MathExpression:
        """Reads and writes DynamoDB refused for capacity (on demand: a burst far above
        the table's previous peak). `label`: a lowercase word naming the table."""
        # Ids unique per table: one graph shows every table's.
        reads, writes = f"reads_{label}", f"writes_{label}"
        return cloudwatch.MathExpression(
            expression=f"FILL({reads}, 0) + FILL({writes}, 0)",
            using_metrics={
                reads: table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                writes: table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum"),
            },
            period=PERIOD,
            label=label,
        )
