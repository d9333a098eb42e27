"""Text a caller may send: every string field of every request body is checked here.

PostgreSQL cannot store a NUL character (text and varchar refuse it), and a lone UTF-16
surrogate (which JSON's `\\ud800` escapes produce) cannot even be encoded as UTF-8 to send
it. Both are refused by field, with a 422 whose error type is `invalid_text`, before
anything reaches a service.

`Text` is the type of a string field without limits of its own. A field with limits puts
`STORABLE` after them, `Annotated[str, Field(max_length=100), STORABLE]`, so that pydantic
still checks the limits as string limits ("at least 3 characters"); a unit test holds
every string field of the request DTOs to one form or the other.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# In a Python str a surrogate code point is always a lone one: json.loads joins a valid
# \ud83d\ude00 pair into one character.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value`, if it is not a string PostgreSQL cannot store; PydanticCustomError
    `invalid_text` if it is. Anything but a string is left to the field's own type."""
    if isinstance(value, str) and _UNSTORABLE.search(value) is not None:
        raise PydanticCustomError(
            "invalid_text", "Text must not contain NUL characters or lone surrogates"
        )
    return value


STORABLE = BeforeValidator(storable)
Text = Annotated[str, STORABLE]
