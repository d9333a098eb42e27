"""Event rules into a service function: the events it consumes, and the outbox sweep."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.messaging import EVENT_SOURCE_PREFIX


class ConsumedEvents(Construct):
    """Routes the bus's events of the consumed detail-types to the function, whose
    `app.state.consumers` handle them once per event id."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bus: events.IEventBus,
        detail_types: Sequence[str],
        function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            description="Domain events this service consumes",
            event_pattern=events.EventPattern(
                source=events.Match.prefix(EVENT_SOURCE_PREFIX),
                detail_type=list(detail_types),
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letters,
                retry_attempts=8,
                max_event_age=Duration.hours(24),
            )
        )


class OutboxSweepSchedule(Construct):
    """EventBridge's "Scheduled Event" every so often: the function sweeps the outbox of
    whatever the after-commit delivery failed to send."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        every: Duration,
        function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "Rule",
            description="Sweeps the service's outbox of undelivered events",
            schedule=events.Schedule.rate(every),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letters,
                # The next sweep comes soon enough: a missed one is not worth retrying.
                retry_attempts=0,
                max_event_age=every,
            )
        )
