"""A service's CloudWatch dashboard: what an operator on call looks at first.

Rows, top to bottom: its requests and their errors and latency with the state of its
alarms; its function; what it does for the business and its outbox; the shared database,
proxy and tables it depends on.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.metrics import ServiceMetrics, SharedMetrics

WIDTH = 8  # three widgets to a row of 24
HEIGHT = 6


def _graph(
    title: str,
    left: Sequence[cloudwatch.IMetric],
    right: Sequence[cloudwatch.IMetric] = (),
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, left=list(left), right=list(right), width=WIDTH, height=HEIGHT
    )


class ServiceDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dashboard_name: str,
        metrics: ServiceMetrics,
        shared: SharedMetrics,
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            _graph(
                "Requests and 5xx share",
                [metrics.requests()],
                [metrics.server_error_rate()],
            ),
            _graph("Latency (ms)", [metrics.latency("p50"), metrics.latency("p99")]),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(alarms), width=WIDTH, height=HEIGHT
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Function: invocations, errors, throttles",
                [metrics.invocations(), metrics.errors(), metrics.throttles()],
            ),
            _graph("Function: duration (ms)", [metrics.duration("p50"), metrics.duration("p99")]),
            _graph("Function: concurrency", [metrics.concurrency()]),
        )
        self.dashboard.add_widgets(
            _graph("Business events", [metrics.business_events()]),
            _graph(
                "Outbox and dead letters",
                [metrics.outbox_lag()],
                [metrics.outbox_dead_lettered(), metrics.dead_letter_depth()],
            ),
            _graph(
                "DynamoDB throttles",
                [shared.table_throttles(table, label) for label, table in shared.tables.items()],
            ),
        )
        self.dashboard.add_widgets(
            _graph("PostgreSQL: CPU (%)", [shared.database_cpu()]),
            _graph(
                "PostgreSQL and RDS Proxy: connections",
                [
                    shared.database_connections(),
                    shared.proxy_client_connections(),
                    shared.proxy_database_connections(),
                ],
                [shared.proxy_pinned_connections()],
            ),
        )
