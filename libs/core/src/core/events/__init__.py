"""Domain events: written to the outbox with the change, delivered after commit."""

from core.events.model import DomainEvent

__all__ = ["DomainEvent"]
