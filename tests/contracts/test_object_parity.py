"""One object, one shape: each GraphQL type against the REST schema of the same name, from
the committed contracts of every service.

Every GraphQL object, input and enum type must have a REST schema of its own name (one name
per object across REST and GraphQL), with the same fields (camelCase in GraphQL), the same
kind of value (the same scalar, named type or enum values, within as many lists), and the
same nullability:
- an answer's field is nullable in GraphQL exactly when REST allows null or may leave it out;
- an input's field is optional in GraphQL (nullable, or with a default) exactly when REST
  may leave it out, and nullable wherever REST takes null. (A field REST may leave out but
  never null is nullable in GraphQL, which has no other way to make it optional; the model
  behind both refuses the null.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)

from core.routing import SERVICES

from .test_graphql_parity import committed

SCALARS: dict[tuple[str | None, str | None], str] = {
    ("string", None): "String",
    ("string", "email"): "String",
    ("string", "uuid"): "UUID",
    ("string", "date-time"): "DateTime",
    ("string", "date"): "Date",
    ("integer", None): "Int",
    # GraphQL's Int is 32 bits; amounts in minor units and counts are the 64-bit Long.
    ("integer", "int64"): "Long",
    ("number", None): "Float",
    ("boolean", None): "Boolean",
}


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Shape:
    """A field's value as both contracts say it: a scalar, a named type, or an enum's values
    (upper-cased, as GraphQL names them), within how many lists; and whether null is one."""

    kind: str
    lists: int
    nullable: bool

    def __str__(self) -> str:
        return self.kind + "[]" * self.lists


def rest_shape(schema: dict[str, Any], schemas: dict[str, Any]) -> Shape:
    variants = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if variants:
        kept = [v for v in variants if v.get("type") != "null"]
        if len(kept) != 1:
            return Shape(f"union of {len(kept)}", 0, False)
        inner = rest_shape(kept[0], schemas)
        return Shape(inner.kind, inner.lists, inner.nullable or len(kept) < len(variants))
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = schemas.get(name, {})
        return Shape(enum_kind(target["enum"]) if "enum" in target else name, 0, False)
    kind = schema.get("type")
    nullable = isinstance(kind, list) and "null" in kind
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        inner = rest_shape(schema["items"], schemas)
        return Shape(inner.kind, inner.lists + 1, nullable)
    if "enum" in schema:
        return Shape(enum_kind(schema["enum"]), 0, nullable)
    if kind == "object" and "properties" not in schema:
        return Shape("JSON", 0, nullable)  # a free-form object: GraphQL's JSON scalar
    return Shape(
        SCALARS.get((kind, schema.get("format")), f"{kind} {schema.get('format')}"), 0, nullable
    )


def enum_kind(values: list[Any]) -> str:
    return "enum " + "|".join(sorted(str(v).upper() for v in values))


def graphql_shape(kind: Any) -> Shape:
    nullable = not isinstance(kind, GraphQLNonNull)
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        inner = graphql_shape(kind.of_type)
        return Shape(inner.kind, inner.lists + 1, nullable)
    assert isinstance(kind, GraphQLNamedType)
    if isinstance(kind, GraphQLEnumType):
        return Shape(enum_kind(list(kind.values)), 0, nullable)
    return Shape(kind.name, 0, nullable)


def field_differences(
    rest: dict[str, Any],
    graphql: GraphQLObjectType | GraphQLInputObjectType,
    schemas: dict[str, Any],
) -> list[str]:
    name = graphql.name
    properties: dict[str, Any] = rest.get("properties", {})
    required = set(rest.get("required", ()))
    rest_fields = {camel_case(field): field for field in properties}
    found = [f"{name}.{f}: in REST only" for f in sorted(set(rest_fields) - set(graphql.fields))]
    found += [
        f"{name}.{f}: in GraphQL only" for f in sorted(set(graphql.fields) - set(rest_fields))
    ]
    for field in sorted(set(rest_fields) & set(graphql.fields)):
        want = rest_shape(properties[rest_fields[field]], schemas)
        graphql_field = graphql.fields[field]
        got = graphql_shape(graphql_field.type)
        if (want.kind, want.lists) != (got.kind, got.lists):
            found.append(f"{name}.{field}: REST {want}, GraphQL {got}")
        omittable = rest_fields[field] not in required
        if isinstance(graphql, GraphQLInputObjectType):
            # The SDL's default as written: build_schema cannot evaluate an enum's.
            node = graphql_field.ast_node
            optional = got.nullable or (node is not None and node.default_value is not None)
            if omittable != optional:
                found.append(
                    f"{name}.{field}: optional in {'REST' if omittable else 'GraphQL'} only"
                )
            if want.nullable and not got.nullable:
                found.append(f"{name}.{field}: null is taken in REST only")
        elif got.nullable != (want.nullable or omittable):
            found.append(
                f"{name}.{field}: nullable in {'GraphQL' if got.nullable else 'REST'} only"
            )
    return found


def differences(document: dict[str, Any], sdl: str) -> list[str]:
    """Each way a GraphQL type differs from its REST schema, or has none."""
    schema: GraphQLSchema = build_schema(sdl)
    schemas: dict[str, Any] = document["components"]["schemas"]
    roots = {t.name for t in (schema.query_type, schema.mutation_type) if t is not None}
    found: list[str] = []
    for name, kind in sorted(schema.type_map.items()):
        if name.startswith("__") or name in roots or isinstance(kind, GraphQLScalarType):
            continue
        rest = schemas.get(name)
        if rest is None:
            found.append(f"{name}: no REST schema of this name")
        elif isinstance(kind, GraphQLEnumType):
            want, got = enum_kind(rest.get("enum", [])), enum_kind(list(kind.values))
            if want != got:
                found.append(f"{name}: REST {want}, GraphQL {got}")
        elif isinstance(kind, (GraphQLObjectType, GraphQLInputObjectType)):
            found += field_differences(rest, kind, schemas)
    return found


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_each_graphql_type_is_its_rest_schema(service: str) -> None:
    document, sdl = committed(service)
    assert sdl is not None, f"{service} has no GraphQL schema"
    found = differences(document, sdl)
    assert not found, "GraphQL types that differ from their REST schema:\n" + "\n".join(found)


def test_a_drifted_field_enum_or_nullability_is_found() -> None:
    document, sdl = committed("merchants")
    assert sdl is not None
    assert not differences(document, sdl)
    # One-line edits of the real contract, each a drift the derived types make impossible.
    assert differences(document, sdl.replace("  suspensionReason: String\n", "")) == [
        "Merchant.suspensionReason: in REST only"
    ]
    assert differences(document, sdl.replace("  SUSPENDED\n", "")) == [
        "Merchant.status: REST enum PENDING|SUSPENDED|VERIFIED, GraphQL enum PENDING|VERIFIED",
        "MerchantStatus: REST enum PENDING|SUSPENDED|VERIFIED, GraphQL enum PENDING|VERIFIED",
    ]
    assert differences(
        document, sdl.replace("  verifiedAt: DateTime\n", "  verifiedAt: DateTime!\n")
    ) == ["Merchant.verifiedAt: nullable in REST only"]
    assert differences(
        document,
        sdl.replace("type Outlet {", "type OutletType {")
        .replace("[Outlet!]", "[OutletType!]")
        .replace(": Outlet!", ": OutletType!"),
    ) == [
        "OutletPage.items: REST Outlet[], GraphQL OutletType[]",
        "OutletType: no REST schema of this name",
    ]


def test_long_and_json_match_only_their_rest_shapes() -> None:
    document, sdl = committed("coupons")
    assert sdl is not None
    assert not differences(document, sdl)
    # A 64-bit amount narrowed to GraphQL's 32-bit Int, and a free-form object given a
    # scalar that is not JSON, are each a drift.
    assert differences(
        document, sdl.replace("  orderAmount: Long\n", "  orderAmount: Int\n", 1)
    ) == ["Redemption.orderAmount: REST Long, GraphQL Int"]
    assert differences(document, sdl.replace("  data: JSON!\n", "  data: String!\n", 1)) == [
        "HistoryEvent.data: REST JSON, GraphQL String"
    ]
