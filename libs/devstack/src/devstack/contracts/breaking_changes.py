"""Which differences between two versions of a contract break a client built on the first,
and which may (dangerous: worth a look, not a failure).

No diff tool from the registries we reach fits: oasdiff ships for Go only, the npm build of
openapi-changes downloads its binary when installed, and Optic's CLI is archived and checks
neither enums, constraints nor security. So the comparison is this module's, one rule per
break class (libs/devstack/tests/test_breaking_changes.py feeds each its edit):

- operations: a removed path or operation, a changed operationId (generated method names);
- parameters: removed, newly required, serialized another way, or accepting less (below);
- request bodies: newly required, a content type no longer accepted, a schema accepting less;
- responses: a documented status removed (a 2xx changed, an error response deleted), a
  content type or a response header no longer answered, a schema answering more;
- security: a requirement a caller met before no longer enough (a scope or a scheme added),
  a scheme, an OAuth2 flow or a scope removed.

A schema the client sends (request) breaks it by accepting less: a type, a union member, a
field or null no longer accepted, a field newly required, unknown fields now refused, an enum
value removed, a constraint tightened (maxLength lowered, minimum raised, pattern added...).
A schema the client reads (response) breaks it by answering more: a type or union member it
does not know, null, a field missing that was always there, an enum value added (a client
switching on the values has no branch for it) or removed, a constraint loosened. Error answers
(4xx, 5xx) carry open sets of problem codes: a code added or removed there is dangerous, as
are a newly documented error status and a changed default of a value the client may omit.

GraphQL: graphql-core's find_breaking_changes and find_dangerous_changes (an enum value or a
union member added, an argument's default changed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Constraints a request tightens when the new value is lower (or appears), and those it
# tightens when the new value is higher (or appears); a response loosens them the other way.
UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
# Constraints any change of which refuses values the old one allowed.
EXACT_CONSTRAINTS = ("pattern", "format", "multipleOf")


@dataclass
class Changes:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)

    def add(self, where: str, what: str, *, breaking: bool = True) -> None:
        (self.breaking if breaking else self.dangerous).append(f"{where}: {what}")

    def unique(self) -> Changes:
        return Changes(list(dict.fromkeys(self.breaking)), list(dict.fromkeys(self.dangerous)))


def _quoted(values: Any) -> str:
    return ", ".join(json.dumps(value) for value in sorted(values, key=json.dumps))


@dataclass(frozen=True)
class Shape:
    """A schema with its references resolved, allOf merged and null split off."""

    schema: dict[str, Any]
    nullable: bool
    variants: tuple[dict[str, Any], ...]  # anyOf/oneOf members other than null; () if none
    reference: str | None  # the component it was named by, if any


class Document:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def follow(self, node: dict[str, Any]) -> dict[str, Any]:
        """`node` with its $ref chain followed (schemas, parameters, responses, bodies...)."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
            seen.add(node["$ref"])
            target: Any = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = target
        return node if isinstance(node, dict) else {}

    def shape(self, schema: dict[str, Any]) -> Shape:
        reference = schema.get("$ref", "").rsplit("/", 1)[-1] or None
        schema = self._merged(self.follow(schema))
        nullable = bool(schema.get("nullable"))
        kind = schema.get("type")
        if isinstance(kind, list) and "null" in kind:
            nullable = True
            rest = [k for k in kind if k != "null"]
            schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
        members = schema.get("anyOf") or schema.get("oneOf")
        if not members:
            return Shape(schema, nullable, (), reference)
        variants = []
        for member in members:
            if self.follow(member).get("type") == "null":
                nullable = True
            else:
                variants.append(member)
        if len(variants) == 1:
            outer = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            inner = self.shape(variants[0])
            return Shape(
                {**outer, **inner.schema},
                nullable or inner.nullable,
                inner.variants,
                inner.reference or reference,
            )
        return Shape(schema, nullable, tuple(variants), reference)

    def _merged(self, schema: dict[str, Any]) -> dict[str, Any]:
        """allOf folded into one schema: its members' fields, requirements and constraints."""
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for member in schema["allOf"]:
            part = self._merged(self.follow(member))
            for key, value in part.items():
                if key == "properties":
                    properties = dict(merged.get("properties", {}))
                    for name, prop in value.items():
                        before = self.follow(properties.get(name, {}))
                        properties[name] = {**before, **self.follow(prop)}
                    merged["properties"] = properties
                elif key == "required":
                    merged["required"] = sorted({*merged.get("required", ()), *value})
                else:
                    merged.setdefault(key, value)
        return merged


def _types(schema: dict[str, Any]) -> frozenset[str]:
    """The JSON types a schema allows; empty when it says nothing of types."""
    kind = schema.get("type")
    if isinstance(kind, str):
        kinds = {kind}
    elif isinstance(kind, list):
        kinds = set(kind)
    elif "properties" in schema:
        kinds = {"object"}
    elif "items" in schema:
        kinds = {"array"}
    else:
        kinds = set()
    if "number" in kinds:
        kinds.add("integer")  # every integer is a number
    return frozenset(kinds - {"null"})


def _enum(schema: dict[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return [value for value in schema["enum"] if value is not None]
    if "const" in schema:
        return [schema["const"]]
    return None


def _signature(document: Document, member: dict[str, Any]) -> str:
    """What a union member is called in a message: its component's name or its types."""
    shape = document.shape(member)
    return shape.reference or "/".join(sorted(_types(shape.schema))) or "any value"


@dataclass
class SchemaComparison:
    old: Document
    new: Document
    changes: Changes
    _entered: set[tuple[str, str, bool, bool]] = field(default_factory=set)

    def compare(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        where: str,
        *,
        sent: bool,
        error: bool = False,
    ) -> None:
        """`sent`: the client sends values of this schema (a request) rather than reads them;
        `error`: it reads them in an error answer, whose problem codes are an open set."""
        old_shape, new_shape = self.old.shape(old), self.new.shape(new)
        key = (old_shape.reference or "", new_shape.reference or "", sent, error)
        if key[0] and key[1]:
            if key in self._entered:
                return  # a component that holds itself: compared further up already
            self._entered.add(key)
        try:
            self._compare_shapes(old_shape, new_shape, where, sent=sent, error=error)
        finally:
            self._entered.discard(key)

    def _compare_shapes(
        self, old_shape: Shape, new_shape: Shape, where: str, *, sent: bool, error: bool
    ) -> None:
        found = self.changes
        if sent and old_shape.nullable and not new_shape.nullable:
            found.add(where, "null no longer accepted")
        if not sent and new_shape.nullable and not old_shape.nullable:
            found.add(where, "may now be null")
        if old_shape.variants or new_shape.variants:
            self._compare_unions(old_shape, new_shape, where, sent=sent, error=error)
            return
        old_schema, new_schema = old_shape.schema, new_shape.schema
        if self._types_break(old_schema, new_schema, where, sent=sent):
            return
        self._compare_enums(old_schema, new_schema, where, sent=sent, error=error)
        if sent and "default" in old_schema and old_schema["default"] != new_schema.get("default"):
            # What the server assumes when the client leaves the value out.
            before = json.dumps(old_schema["default"])
            after = json.dumps(new_schema["default"]) if "default" in new_schema else "none"
            found.add(where, f"default {before} -> {after}", breaking=False)
        self._compare_constraints(old_schema, new_schema, where, sent=sent)
        if "items" in old_schema and "items" in new_schema:
            self.compare(
                old_schema["items"], new_schema["items"], f"{where}[]", sent=sent, error=error
            )
        if "properties" in old_schema or "properties" in new_schema:
            self._compare_properties(old_schema, new_schema, where, sent=sent, error=error)

    def _compare_unions(
        self, old: Shape, new: Shape, where: str, *, sent: bool, error: bool
    ) -> None:
        old_members = {_signature(self.old, m): m for m in old.variants or (old.schema,)}
        new_members = {_signature(self.new, m): m for m in new.variants or (new.schema,)}
        pairs = [(name, name) for name in sorted(old_members.keys() & new_members.keys())]
        gone = sorted(old_members.keys() - new_members.keys())
        came = sorted(new_members.keys() - old_members.keys())
        # A member under a new name (a renamed component) is the member it stands for when
        # it breaks nothing of it.
        for old_name in list(gone):
            for new_name in came:
                if not self._breaks(old_members[old_name], new_members[new_name], sent, error):
                    pairs.append((old_name, new_name))
                    gone.remove(old_name)
                    came.remove(new_name)
                    break
        for name in gone if sent else ():
            self.changes.add(where, f"{name} no longer accepted")
        for name in came if not sent else ():
            self.changes.add(where, f"may now be {name}")
        for old_name, new_name in pairs:
            self.compare(
                old_members[old_name], new_members[new_name], where, sent=sent, error=error
            )

    def _breaks(self, old: dict[str, Any], new: dict[str, Any], sent: bool, error: bool) -> bool:
        trial = SchemaComparison(self.old, self.new, Changes(), set(self._entered))
        trial.compare(old, new, "", sent=sent, error=error)
        return bool(trial.changes.breaking)

    def _types_break(
        self, old: dict[str, Any], new: dict[str, Any], where: str, *, sent: bool
    ) -> bool:
        old_types, new_types = _types(old), _types(new)
        if sent:
            lost = bool(new_types) and not old_types <= new_types
        else:
            lost = bool(old_types) and not new_types <= old_types
        if sent and not old_types and new_types:
            lost = True  # anything was accepted; now only some types
        if lost:
            before = "/".join(sorted(old_types)) or "any"
            after = "/".join(sorted(new_types)) or "any"
            self.changes.add(where, f"type {before} -> {after}")
        return lost

    def _compare_enums(
        self, old: dict[str, Any], new: dict[str, Any], where: str, *, sent: bool, error: bool
    ) -> None:
        old_values, new_values = _enum(old), _enum(new)
        if sent:
            if new_values is None:
                return
            if old_values is None:
                self.changes.add(where, f"now only {_quoted(new_values)} accepted")
                return
            removed = [v for v in old_values if v not in new_values]
            if removed:
                self.changes.add(where, f"enum value {_quoted(removed)} no longer accepted")
            return
        if old_values is None:
            return
        if new_values is None:
            self.changes.add(where, "any value may now be answered, not only the enum's")
            return
        added = [v for v in new_values if v not in old_values]
        removed = [v for v in old_values if v not in new_values]
        if added:
            self.changes.add(
                where,
                f"enum value {_quoted(added)} added (a client switching on the values has no "
                "branch for it)",
                breaking=not error,
            )
        if removed:
            self.changes.add(
                where, f"enum value {_quoted(removed)} no longer answered", breaking=not error
            )

    def _compare_constraints(
        self, old: dict[str, Any], new: dict[str, Any], where: str, *, sent: bool
    ) -> None:
        # A request breaks when a bound tightens; a response when it loosens: the same test
        # with the two versions swapped.
        tight, loose = (new, old) if sent else (old, new)
        for keyword in UPPER_BOUNDS:
            if keyword in tight and (keyword not in loose or tight[keyword] < loose[keyword]):
                self._constraint_changed(keyword, old, new, where)
        for keyword in LOWER_BOUNDS:
            if keyword in tight and (keyword not in loose or tight[keyword] > loose[keyword]):
                self._constraint_changed(keyword, old, new, where)
        for keyword in EXACT_CONSTRAINTS:
            if keyword in tight and tight[keyword] != loose.get(keyword):
                self._constraint_changed(keyword, old, new, where)
        if tight.get("uniqueItems") and not loose.get("uniqueItems"):
            self._constraint_changed("uniqueItems", old, new, where)

    def _constraint_changed(
        self, keyword: str, old: dict[str, Any], new: dict[str, Any], where: str
    ) -> None:
        before = json.dumps(old[keyword]) if keyword in old else "none"
        after = json.dumps(new[keyword]) if keyword in new else "none"
        self.changes.add(where, f"{keyword} {before} -> {after}")

    def _compare_properties(
        self, old: dict[str, Any], new: dict[str, Any], where: str, *, sent: bool, error: bool
    ) -> None:
        old_properties = old.get("properties", {})
        new_properties = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_property in old_properties.items():
            path = f"{where}.{name}"
            if name not in new_properties:
                # A request naming a field its schema no longer has is refused only where
                # the schema is closed (every body of ours is); elsewhere it is ignored.
                closed = new.get("additionalProperties") is False
                self.changes.add(path, "field removed", breaking=closed or not sent)
                continue
            if not sent and name in old_required and name not in new_required:
                self.changes.add(path, "no longer always present")
            self.compare(old_property, new_properties[name], path, sent=sent, error=error)
        if sent:
            for name in sorted(new_required - old_required):
                self.changes.add(f"{where}.{name}", "newly required")
            if new.get("additionalProperties") is False and old.get("additionalProperties") in (
                None,
                True,
            ):
                self.changes.add(where, "fields it does not name are now refused")


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _parameters(
    document: Document, path_item: dict[str, Any], operation: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """An operation's parameters, its path's included (the operation's own win)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = document.follow(raw)
        found[(parameter.get("in", ""), parameter.get("name", ""))] = parameter
    return found


def _serialization(parameter: dict[str, Any]) -> str:
    """How a parameter's value is written into the request (OpenAPI's defaults spelt out)."""
    style = parameter.get(
        "style", "form" if parameter.get("in") in ("query", "cookie") else "simple"
    )
    explode = parameter.get("explode", style == "form")
    return f"style={style} explode={str(explode).lower()}"


def _security(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, set[str]]]:
    """The alternatives a caller may satisfy: each a scheme -> required scopes mapping."""
    requirements = operation.get("security", document.get("security", []))
    return [{scheme: set(scopes) for scheme, scopes in r.items()} for r in requirements]


def _describe(requirement: dict[str, set[str]]) -> str:
    if not requirement:
        return "no credentials"
    parts = [
        f"{scheme} with scope {', '.join(sorted(scopes))}" if scopes else scheme
        for scheme, scopes in sorted(requirement.items())
    ]
    return " and ".join(parts)


class OperationComparison:
    def __init__(self, old: Document, new: Document, changes: Changes) -> None:
        self.old, self.new, self.changes = old, new, changes
        self.schemas = SchemaComparison(old, new, changes)

    def compare(
        self,
        where: str,
        old: tuple[dict[str, Any], dict[str, Any]],
        new: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        """`old`, `new`: (path item, operation) of each version."""
        (old_item, old_operation), (new_item, new_operation) = old, new
        if old_operation.get("operationId") != new_operation.get("operationId"):
            self.changes.add(
                where,
                f"operationId {old_operation.get('operationId')} -> "
                f"{new_operation.get('operationId')}",
            )
        self._compare_parameters(
            where,
            _parameters(self.old, old_item, old_operation),
            _parameters(self.new, new_item, new_operation),
        )
        self._compare_request_body(where, old_operation, new_operation)
        self._compare_responses(where, old_operation, new_operation)
        self._compare_security(where, old_operation, new_operation)

    def _compare_parameters(
        self,
        where: str,
        old: dict[tuple[str, str], dict[str, Any]],
        new: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        for (place, name), parameter in new.items():
            here = f"{where} {place} parameter {name}"
            known = old.get((place, name))
            if known is None:
                if parameter.get("required"):
                    self.changes.add(here, "added, required")
                continue
            if parameter.get("required") and not known.get("required"):
                self.changes.add(here, "newly required")
            old_style, new_style = _serialization(known), _serialization(parameter)
            if old_style != new_style:
                self.changes.add(here, f"serialized {old_style} -> {new_style}")
            self.schemas.compare(
                known.get("schema", {}), parameter.get("schema", {}), here, sent=True
            )
        for place, name in sorted(old.keys() - new.keys()):
            if place in ("query", "header", "cookie"):
                # Sent on, it is ignored now: the client asks for what it no longer gets.
                self.changes.add(f"{where} {place} parameter {name}", "removed")

    def _compare_request_body(
        self, where: str, old_operation: dict[str, Any], new_operation: dict[str, Any]
    ) -> None:
        old = self.old.follow(old_operation.get("requestBody", {}))
        new = self.new.follow(new_operation.get("requestBody", {}))
        here = f"{where} request body"
        if new.get("required") and not old.get("required"):
            self.changes.add(here, "newly required")
        for media, content in old.get("content", {}).items():
            replacement = new.get("content", {}).get(media)
            if replacement is None:
                if new.get("content"):
                    self.changes.add(here, f"{media} no longer accepted")
                else:
                    self.changes.add(here, "no longer read", breaking=False)
                continue
            self.schemas.compare(
                content.get("schema", {}), replacement.get("schema", {}), here, sent=True
            )
        if not old.get("content") and new.get("content") and not new.get("required"):
            self.changes.add(here, "optional body added", breaking=False)

    def _compare_responses(
        self, where: str, old_operation: dict[str, Any], new_operation: dict[str, Any]
    ) -> None:
        old_responses = old_operation.get("responses", {})
        new_responses = new_operation.get("responses", {})
        new_successes = sorted(s for s in new_responses if s.startswith("2"))
        for status, raw in old_responses.items():
            here = f"{where} {status} response"
            replacement = new_responses.get(status)
            if replacement is None:
                if status.startswith("2"):
                    now = ", ".join(new_successes) or "no success status"
                    self.changes.add(where, f"success status {status} -> {now}")
                else:
                    self.changes.add(here, "documented response removed")
                continue
            self._compare_response(
                here, self.old.follow(raw), self.new.follow(replacement), error=status[0] in "45"
            )
        for status in sorted(new_responses.keys() - old_responses.keys()):
            if not status.startswith("2"):
                self.changes.add(f"{where} {status} response", "newly documented", breaking=False)

    def _compare_response(
        self, here: str, old: dict[str, Any], new: dict[str, Any], *, error: bool
    ) -> None:
        old_content, new_content = old.get("content", {}), new.get("content", {})
        for media, content in old_content.items():
            replacement = new_content.get(media)
            if replacement is None:
                self.changes.add(here, f"{media} no longer answered")
                continue
            self.schemas.compare(
                content.get("schema", {}),
                replacement.get("schema", {}),
                f"{here} {media}",
                sent=False,
                error=error,
            )
        for media in sorted(new_content.keys() - old_content.keys()):
            self.changes.add(here, f"{media} may now be answered", breaking=False)
        new_headers = {name.lower(): h for name, h in new.get("headers", {}).items()}
        for name, header in old.get("headers", {}).items():
            replacement = new_headers.get(name.lower())
            if replacement is None:
                self.changes.add(f"{here} header {name}", "no longer answered")
                continue
            self.schemas.compare(
                self.old.follow(header).get("schema", {}),
                self.new.follow(replacement).get("schema", {}),
                f"{here} header {name}",
                sent=False,
            )

    def _compare_security(
        self, where: str, old_operation: dict[str, Any], new_operation: dict[str, Any]
    ) -> None:
        old_alternatives = _security(self.old.raw, old_operation)
        new_alternatives = _security(self.new.raw, new_operation)
        if not old_alternatives:
            old_alternatives = [{}]  # no security: anyone may call
        if not new_alternatives:
            return
        for held in old_alternatives:
            enough = any(
                all(s in held and scopes <= held[s] for s, scopes in needed.items())
                for needed in new_alternatives
            )
            if not enough:
                now = " or ".join(_describe(a) for a in new_alternatives)
                self.changes.add(
                    f"{where} security", f"{_describe(held)} no longer enough; now needs {now}"
                )


def _compare_security_schemes(old: Document, new: Document, changes: Changes) -> None:
    old_schemes = old.raw.get("components", {}).get("securitySchemes", {})
    new_schemes = new.raw.get("components", {}).get("securitySchemes", {})
    for name, raw in old_schemes.items():
        here = f"security scheme {name}"
        if name not in new_schemes:
            changes.add(here, "removed")
            continue
        scheme, replacement = old.follow(raw), new.follow(new_schemes[name])
        for key in ("type", "scheme", "in", "name", "openIdConnectUrl"):
            if scheme.get(key) != replacement.get(key):
                changes.add(here, f"{key} {scheme.get(key)} -> {replacement.get(key)}")
        new_flows = replacement.get("flows", {})
        for flow_name, flow in scheme.get("flows", {}).items():
            new_flow = new_flows.get(flow_name)
            if new_flow is None:
                changes.add(here, f"{flow_name} flow removed")
                continue
            for url in ("tokenUrl", "authorizationUrl", "refreshUrl"):
                if flow.get(url) != new_flow.get(url):
                    changes.add(here, f"{flow_name} {url} {flow.get(url)} -> {new_flow.get(url)}")
            removed = sorted(flow.get("scopes", {}).keys() - new_flow.get("scopes", {}).keys())
            if removed:
                changes.add(here, f"{flow_name} scope {', '.join(removed)} removed")


def openapi_changes(before: str, after: str) -> Changes:
    old_raw, new_raw = json.loads(before), json.loads(after)
    old, new = Document(old_raw), Document(new_raw)
    changes = Changes()
    operations = OperationComparison(old, new, changes)
    new_paths = new_raw.get("paths", {})
    for path, method, operation in _operations(old_raw):
        where = f"{method.upper()} {path}"
        if path not in new_paths:
            changes.add(path, "path removed")
            continue
        replacement = new_paths[path].get(method)
        if replacement is None:
            changes.add(where, "operation removed")
            continue
        operations.compare(
            where, (old_raw["paths"][path], operation), (new_paths[path], replacement)
        )
    _compare_security_schemes(old, new, changes)
    return changes.unique()


def graphql_changes(before: str, after: str) -> Changes:
    from graphql import build_schema, find_breaking_changes, find_dangerous_changes

    old, new = build_schema(before), build_schema(after)
    return Changes(
        [f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)],
        [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)],
    )
