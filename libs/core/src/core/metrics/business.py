"""What a service counts for the business: the committed events it names (a claim, a
redemption), and the refusals it names (a sold-out campaign). Counted after commit, so a
rolled-back change is never counted."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from core.events.model import DomainEvent
from core.metrics.recorder import MetricsRecorder


def _nothing(event: DomainEvent) -> str | None:
    return None


@dataclass(frozen=True)
class BusinessCounters:
    # A committed event -> the name it is counted under, or None for an event not counted.
    events: Callable[[DomainEvent], str | None] = _nothing
    # An answered error's stable code -> the name it is counted under.
    refusals: Mapping[str, str] = field(default_factory=dict)

    def count_committed(self, recorder: MetricsRecorder, events: Iterable[DomainEvent]) -> None:
        for event in events:
            name = self.events(event)
            if name is not None:
                recorder.business_event(name)

    def count_refusal(self, recorder: MetricsRecorder, code: str) -> None:
        name = self.refusals.get(code)
        if name is not None:
            recorder.business_event(name)
