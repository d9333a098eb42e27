"""GraphQL scalars of svc-coupons. Imported by the GraphQL controllers only (strawberry is
loaded on the first GraphQL request, never by REST).

`Long`: a signed 64-bit integer, serialised as a JSON number. GraphQL's `Int` is 32 bits,
too small for amounts in minor units (a 30 million euro order is 3 * 10^9 cents) and for
counts that the database keeps as bigint; every amount and count here is a `Long`.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, IntValueNode, ValueNode

from svc_coupons.schemas.numbers import Long

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


def long_value(value: Any) -> int:
    """`value` if it is an integer in the signed 64-bit range (not a bool, a float or a
    numeric string); a GraphQLError, which callers see as `invalid_query`, otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not LONG_MIN <= value <= LONG_MAX:
        raise GraphQLError(f"Long is a signed 64-bit integer; {value!r} is not one")
    return value


def long_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> int:
    if not isinstance(node, IntValueNode):
        raise GraphQLError("Long is a signed 64-bit integer, written without quotes")
    return long_value(int(node.value))


__all__ = ["SCALARS", "Long"]

SCALARS: dict[Any, Any] = {
    Long: strawberry.scalar(
        name="Long",
        description="A signed 64-bit integer (amounts in minor units, counts)",
        serialize=long_value,
        parse_value=long_value,
        parse_literal=long_literal,
    )
}
