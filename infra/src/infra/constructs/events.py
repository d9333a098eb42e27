"""Event rules into a service function: the events it consumes, and the outbox sweep.

Two layers retry an asynchronous invocation, and both are set here:
- the rule's target (retry_attempts, max_event_age): EventBridge retrying the *delivery*
  to Lambda (throttled, function unavailable);
- the invoked alias's event-invoke config (lambda_.Alias retry_attempts, max_event_age):
  Lambda retrying a *failed invocation* (the handler raised or timed out).
The target's setting does not reach the second, so each kind of invocation gets an alias
of its own (service_function.ServiceFunction: `live` for events, `sweep` for the sweep).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import producer_of
from infra.constructs.messaging import event_source

# EventBridge's own retries of a delivery the Lambda service refused (throttling).
DELIVERY_RETRIES = 8
DELIVERY_MAX_AGE = Duration.hours(24)


def rules_by_producer(detail_types: Sequence[str]) -> dict[str, list[str]]:
    """The consumed detail-types grouped by the service that publishes them."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for detail_type in detail_types:
        grouped[producer_of(detail_type)].append(detail_type)
    return dict(sorted(grouped.items()))


class ConsumedEvents(Construct):
    """Routes the bus's events of the consumed detail-types to the function, whose
    `app.state.consumers` handle them once per event id.

    One rule per producing service, matching its exact source: a detail-type is accepted
    only from the service that owns it (infra.config.EVENT_PRODUCERS), and each function
    may put events only under its own source (ServiceFunction's PutEvents condition).
    """

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
        self.rules: list[events.Rule] = []
        for producer, types in rules_by_producer(detail_types).items():
            rule = events.Rule(
                self,
                f"From{producer.title()}",
                event_bus=bus,
                description=f"Domain events this service consumes from svc-{producer}",
                event_pattern=events.EventPattern(
                    source=[event_source(producer)], detail_type=types
                ),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    dead_letter_queue=dead_letters,
                    retry_attempts=DELIVERY_RETRIES,
                    max_event_age=DELIVERY_MAX_AGE,
                )
            )
            self.rules.append(rule)


class OutboxSweepSchedule(Construct):
    """EventBridge's "Scheduled Event" every so often: the function sweeps the outbox of
    whatever the after-commit delivery failed to send.

    `function` is an alias whose event-invoke config retries nothing: a sweep that still
    cannot deliver raises (core.aws_lambda.OutboxDeliveryFailed), which the function's
    Errors alarm reports and the dead-letter queue records once; the next sweep comes soon
    enough, so retrying a failed one would only multiply the same error.
    """

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
                # Nor does EventBridge retry a delivery: a missed sweep is not worth it.
                retry_attempts=0,
                max_event_age=every,
            )
        )
