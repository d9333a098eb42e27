"""`Long`: the type of every amount (minor units) and count that a contract shows.

To pydantic (REST, OpenAPI) it is an integer of format `int64`; to GraphQL, where `Int` is
32 bits and too small for amounts in minor units or bigint counts, it is the `Long` scalar
(graphql_scalars). One annotation in the DTOs serves both, so the two cannot disagree.
This module does not import strawberry: REST loads the DTOs without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

if TYPE_CHECKING:
    Long = int  # to the type checker an amount is an int; to GraphQL it is a Long
else:

    class Long(int):
        """A signed 64-bit integer in GraphQL; validated and shown as an integer by pydantic."""

        @classmethod
        def __get_pydantic_core_schema__(
            cls, source: Any, handler: GetCoreSchemaHandler
        ) -> core_schema.CoreSchema:
            return core_schema.int_schema()

        @classmethod
        def __get_pydantic_json_schema__(
            cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
        ) -> JsonSchemaValue:
            # The format tells a client generator (and a reader) that an Int will not do.
            return {**handler(schema), "format": "int64"}
