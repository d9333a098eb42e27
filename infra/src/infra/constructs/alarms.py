"""Alarms on a service function's errors and throttles, and on dead letters."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)


class FunctionAlarms(Construct):
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
        self.alarms: list[cloudwatch.Alarm] = []
        for alarm_id, (metric, description) in metrics.items():
            alarm = metric.create_alarm(
                self,
                alarm_id,
                alarm_description=description,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(notify))
            self.alarms.append(alarm)
