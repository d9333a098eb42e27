"""Keyset pagination: `?limit=&cursor=` in, `{items, next_cursor}` out.

A cursor is the position of a page's last item (its time and id; in a campaign's list of
unassigned codes, its code), in base64 JSON, and not signed, because there is nothing to
protect: a list's query applies the caller's rights whatever the cursor says, so a cursor
the caller made up only chooses where, in a list they may read from its start anyway, the
page begins; and it carries nothing the page it came with did not show. Anything that is not
a position is 422 `invalid_cursor` (core.database.keyset), never an error of the database.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 500  # the longest a list gives out is far shorter

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


def checked_page(limit: int, cursor: str | None) -> PageRequest:
    """Page arguments from a caller the framework does not check (GraphQL), refused outside
    the bounds `?limit=` and `?cursor=` have in REST, as REST refuses them: 422
    invalid_input, never a page of another size than asked."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: must be from 1 to {MAX_LIMIT}, not {limit}")
    if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput(f"cursor: at most {MAX_CURSOR_LENGTH} characters")
    return PageRequest(limit=limit, cursor=cursor)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


EXAMPLE_CURSOR = encode_cursor("2025-12-01T09:00:00+00:00", "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c86")


def _page_example(schema: dict[str, Any], page_model: type[BaseModel]) -> None:
    """A page's example: its item's own example, with the cursor of a page that follows."""
    # The item is an argument of the parametrised class the named page derives from.
    arguments = (getattr(base, "__pydantic_generic_metadata__", {}) for base in page_model.__mro__)
    item = next((meta["args"][0] for meta in arguments if meta.get("args")), None)
    extra = getattr(item, "model_config", {}).get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if examples:
        schema["examples"] = [{"items": examples[:1], "next_cursor": EXAMPLE_CURSOR}]


class PageOut(BaseModel, Generic[T]):
    """The one envelope of every list, REST and GraphQL alike: `{items, next_cursor}`.

    A service names each page after its item, as a subclass, so the schema has a name a
    person would write (pydantic would call `PageOut[User]` `PageOut_User_`):

        class UserPage(PageOut[User]):
            "A page of users."
    """

    model_config = ConfigDict(json_schema_extra=_page_example)

    items: list[T]
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last")
