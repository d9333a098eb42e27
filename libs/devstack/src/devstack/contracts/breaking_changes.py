"""Which differences between two versions of a contract break a client built on the first.

OpenAPI: a removed path or operation, a changed operationId (generated method names), a
response field removed, made optional or given another type, a request field or
parameter newly required, a request field removed (bodies refuse unknown fields) or given
a type it did not accept. Additions are not breaking. GraphQL: graphql-core's own
find_breaking_changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
JSON = "application/json"


@dataclass(frozen=True)
class Document:
    raw: dict[str, Any]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.raw.get("components", {}).get("schemas", {}).get(name, {})
        return schema


def _types(document: Document, schema: dict[str, Any]) -> frozenset[str]:
    """The kinds of value a schema allows: JSON types, or named schemas for references."""
    if "$ref" in schema:
        return frozenset({schema["$ref"].rsplit("/", 1)[-1]})
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return frozenset().union(*(_types(document, v) for v in variants))
    kind = schema.get("type")
    if isinstance(kind, list):
        return frozenset(kind)
    if isinstance(kind, str):
        return frozenset({kind})
    if "allOf" in schema:
        return frozenset().union(*(_types(document, v) for v in schema["allOf"]))
    return frozenset({"any"})


def _members(document: Document, schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a value of this schema can be (through references and unions)."""
    schema = document.resolve(schema)
    variants = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if variants:
        return [m for v in variants for m in _members(document, v)]
    return [schema] if "properties" in schema or "items" in schema else []


@dataclass
class SchemaComparison:
    old: Document
    new: Document
    found: list[str]

    def compare(self, old: dict[str, Any], new: dict[str, Any], where: str, *, sent: bool) -> None:
        """`sent`: the client sends values of this schema (a request) rather than reads them."""
        self._compare(old, new, where, sent=sent, seen=set())

    def _compare(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        where: str,
        *,
        sent: bool,
        seen: set[tuple[str, str]],
    ) -> None:
        key = (json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True))
        if key in seen:
            return
        seen.add(key)
        old_types, new_types = _types(self.old, old), _types(self.new, new)
        # A request may accept more than it did; an answer may carry less variety.
        narrowed = not old_types <= new_types if sent else not new_types <= old_types
        if narrowed and "any" not in old_types | new_types:
            self.found.append(f"{where}: type {sorted(old_types)} -> {sorted(new_types)}")
            return
        old_objects, new_objects = _members(self.old, old), _members(self.new, new)
        if len(old_objects) != 1 or len(new_objects) != 1:
            return
        old_object, new_object = old_objects[0], new_objects[0]
        if "items" in old_object and "items" in new_object:
            self._compare(
                old_object["items"], new_object["items"], f"{where}[]", sent=sent, seen=seen
            )
        self._compare_properties(old_object, new_object, where, sent=sent, seen=seen)

    def _compare_properties(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        where: str,
        *,
        sent: bool,
        seen: set[tuple[str, str]],
    ) -> None:
        old_properties = old.get("properties", {})
        new_properties = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_property in old_properties.items():
            path = f"{where}.{name}"
            if name not in new_properties:
                self.found.append(f"{path}: removed")
                continue
            if not sent and name in old_required and name not in new_required:
                self.found.append(f"{path}: no longer always present")
            self._compare(old_property, new_properties[name], path, sent=sent, seen=seen)
        if sent:
            for name in sorted(new_required - old_required):
                self.found.append(f"{where}.{name}: newly required")


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _json_schema(holder: dict[str, Any]) -> dict[str, Any] | None:
    schema: dict[str, Any] | None = holder.get("content", {}).get(JSON, {}).get("schema")
    return schema


def _compare_operation(
    comparison: SchemaComparison, where: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    found = comparison.found
    if old.get("operationId") != new.get("operationId"):
        found.append(f"{where}: operationId {old.get('operationId')} -> {new.get('operationId')}")
    old_parameters = {(p["in"], p["name"]): p for p in old.get("parameters", [])}
    for parameter in new.get("parameters", []):
        known = old_parameters.get((parameter["in"], parameter["name"]))
        if parameter.get("required") and not (known and known.get("required")):
            found.append(f"{where}: {parameter['in']} parameter {parameter['name']} newly required")
        if known is not None:
            comparison.compare(
                known.get("schema", {}),
                parameter.get("schema", {}),
                f"{where} {parameter['in']} parameter {parameter['name']}",
                sent=True,
            )
    old_body, new_body = old.get("requestBody", {}), new.get("requestBody", {})
    if new_body.get("required") and not old_body.get("required"):
        found.append(f"{where}: request body newly required")
    for media, content in old_body.get("content", {}).items():
        replacement = new_body.get("content", {}).get(media)
        if replacement is None:
            found.append(f"{where}: request body no longer accepts {media}")
        else:
            comparison.compare(
                content.get("schema", {}), replacement.get("schema", {}), f"{where} body", sent=True
            )
    for status, response in old.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        replacement = new.get("responses", {}).get(status)
        old_schema = _json_schema(response)
        if replacement is None:
            found.append(f"{where}: no longer answers {status}")
        elif old_schema is not None:
            new_schema = _json_schema(replacement)
            if new_schema is None:
                found.append(f"{where}: {status} no longer answers {JSON}")
            else:
                comparison.compare(old_schema, new_schema, f"{where} {status}", sent=False)


def openapi_breaking_changes(before: str, after: str) -> list[str]:
    old, new = json.loads(before), json.loads(after)
    comparison = SchemaComparison(Document(old), Document(new), [])
    new_operations = {(path, method): op for path, method, op in _operations(new)}
    for path, method, operation in _operations(old):
        where = f"{method.upper()} {path}"
        if path not in new.get("paths", {}):
            comparison.found.append(f"{path}: path removed")
            continue
        replacement = new_operations.get((path, method))
        if replacement is None:
            comparison.found.append(f"{where}: operation removed")
            continue
        _compare_operation(comparison, where, operation, replacement)
    return list(dict.fromkeys(comparison.found))


def graphql_breaking_changes(before: str, after: str) -> list[str]:
    from graphql import build_schema, find_breaking_changes

    changes = find_breaking_changes(build_schema(before), build_schema(after))
    return [f"{change.type.name}: {change.description}" for change in changes]
