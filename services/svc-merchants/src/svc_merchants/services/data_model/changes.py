"""Partial updates: a field left out of a PATCH is `KEEP`, which differs from null."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


class Keep(Enum):
    KEEP = "keep"

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep.KEEP


def pick(change: T | Keep, current: T) -> T:
    """The new value of one field: the change, or the current value when it is kept."""
    return current if isinstance(change, Keep) else change


def checked(change: str | Keep, check: Callable[[str], str]) -> str | Keep:
    """A given value through its check; a kept one as it is."""
    return change if isinstance(change, Keep) else check(change)


def differences(before: Any, after: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields whose value changed, with their new values."""
    return {
        name: getattr(after, name)
        for name in fields
        if getattr(before, name) != getattr(after, name)
    }
