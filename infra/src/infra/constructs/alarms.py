"""Alarms on a service function's errors and throttles, on dead letters, and on the API's
5xx answers."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)


def _alarm(
    scope: Construct, id: str, metric: cloudwatch.Metric, description: str, notify: sns.ITopic
) -> cloudwatch.Alarm:
    """One or more in a period; no data (no traffic) is not a problem."""
    alarm = metric.create_alarm(
        scope,
        id,
        alarm_description=description,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(actions.SnsAction(notify))
    return alarm


class FunctionAlarms(Construct):
    """On the function's name alone, so every version and alias counts: the API's and the
    events' `live` alias, the sweep's alias (a sweep that cannot deliver raises
    core.aws_lambda.OutboxDeliveryFailed, an error here), and direct invocations."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        notify: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        metrics = {
            "Errors": (
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"{name}: invocations failed (unhandled exceptions, timeouts)",
            ),
            "Throttles": (
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                f"{name}: invocations throttled (concurrency exhausted)",
            ),
            "DeadLetters": (
                dead_letters.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"{name}: events or sweeps gave up after every retry",
            ),
        }
        self.alarms = [
            _alarm(self, alarm_id, metric, description, notify)
            for alarm_id, (metric, description) in metrics.items()
        ]


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
