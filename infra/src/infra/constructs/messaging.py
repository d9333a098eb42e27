"""The platform's EventBridge bus, and the topic alarms notify."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import StageConfig
from infra.nag import accept

EVENT_SOURCE_PREFIX = "coupon-platform."  # core.events.sinks.EventBridgePublisher


def event_source(service_name: str) -> str:
    """The `source` of the events a service publishes: EventBridgePublisher writes
    f"coupon-platform.{event.source}", and event.source is the service's runtime name."""
    return f"{EVENT_SOURCE_PREFIX}{service_name}"


class PlatformEventBus(Construct):
    """Domain events between services, archived so that a consumer can be replayed."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=stage.resource_name("events"))
        self.bus.archive(
            "Archive",
            description="Replays domain events into idempotent consumers",
            event_pattern=events.EventPattern(source=events.Match.prefix(EVENT_SOURCE_PREFIX)),
            retention=Duration.days(stage.event_archive_days),
        )


class AlertTopic(Construct):
    """Where every alarm of the platform sends its notifications; operators subscribe to it."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Topic", enforce_ssl=True)
        accept(
            self.topic,
            "SNS2",
            "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key, "
            "and the notifications carry only alarm names and states.",
        )
