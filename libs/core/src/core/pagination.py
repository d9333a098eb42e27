"""Keyset pagination: `?limit=&cursor=` in, `{items, next_cursor}` out."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from core.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    title = "The cursor is not one this list gave out"


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(values, list) or len(values) != parts:
        raise InvalidCursor()
    return [str(v) for v in values]


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def bounded_page(limit: int, cursor: str | None) -> PageRequest:
    """Page arguments from a caller that does not validate them (GraphQL), clamped to the
    bounds `?limit=` has in REST."""
    return PageRequest(limit=max(1, min(limit, MAX_LIMIT)), cursor=cursor)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
