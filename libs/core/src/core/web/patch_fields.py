"""PATCH fields that may be left out but never sent as null.

`name: str = omittable(max_length=100)`: the type stays `str`, so an explicit null is
refused by validation (422 invalid_input) and the schema says `string`, not
`string | null`; a field left out is not in `model_fields_set`, so
`model_dump(exclude_unset=True)` leaves it as it is. The schema has no `default`: the
absent value is no value a caller could send.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A field for a PATCH body: absent keeps the current value; null is not a value."""
    return Field(default=None, json_schema_extra=_without_default, **constraints)
