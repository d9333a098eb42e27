"""A consumer stays idempotent for as long as any part of the stack can deliver an event
again: its processed event ids outlive every archive, retry and dead-letter queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aws_cdk import Duration

from core.config import PlatformSettings
from infra.config import STAGES
from infra.constructs.events import DELIVERY_MAX_AGE
from infra.constructs.service_function import DEAD_LETTER_RETENTION, EVENT_MAX_AGE


def _span(duration: Duration) -> timedelta:
    return timedelta(seconds=duration.to_seconds())


def _processed_ids_kept() -> timedelta:
    # What a deployed function runs with: nothing in the stacks overrides the default.
    return timedelta(days=PlatformSettings().processed_event_retention_days)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_processed_event_ids_outlive_the_event_archive(stage: str) -> None:
    # A replay from the archive sends events as old as the archive keeps.
    assert _processed_ids_kept() >= timedelta(days=STAGES[stage].event_archive_days)


def test_processed_event_ids_outlive_a_dead_lettered_delivery() -> None:
    # The longest path back: EventBridge retries the delivery, Lambda retries the failed
    # invocation, then the event waits in the dead-letter queue until someone redrives it.
    longest_redelivery = (
        _span(DELIVERY_MAX_AGE) + _span(EVENT_MAX_AGE) + _span(DEAD_LETTER_RETENTION)
    )
    assert _processed_ids_kept() >= longest_redelivery
