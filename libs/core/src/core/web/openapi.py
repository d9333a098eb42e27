"""A service's OpenAPI document, complete enough to generate clients from.

FastAPI's document, built once on first request, then completed: the OAuth2 scheme and
the bearer requirement of each route that reads the caller, every error answer as
`application/problem+json` with its possible `code`s (declared on the route with
`problems(...)`, plus those the platform adds: 401 for a bad token, 422 for invalid
input, the Idempotency-Key errors), and the `Idempotency-Key` header on every POST
that honours it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from itertools import product
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from core.auth.dependencies import (
    RequireAnyScope,
    RequireScope,
    current_principal,
    require_admin,
    require_principal,
)
from core.auth.principal import ADMIN_SCOPE
from core.auth.scopes import SCOPES, TOKEN_PATH
from core.database.errors import DatabaseUnavailable
from core.errors import Forbidden, InvalidInput, PlatformError, Unauthenticated
from core.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)
from core.pagination import InvalidCursor
from core.sealed_answers import StoredAnswerUnreadable
from core.web.pagination import page_request
from core.web.problems import PROBLEM_MEDIA_TYPE
from core.web.routes import TransactionalRoute

SECURITY_SCHEME = "OAuth2"
PROBLEM_SCHEMA = "Problem"
_REF = "#/components/schemas/"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

PROBLEM_SCHEMAS: dict[str, Any] = {
    PROBLEM_SCHEMA: {
        "title": "Problem",
        "description": "An error answer (RFC 9457); `code` is the stable machine code.",
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "description": "/problems/{code}"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "invalid_input: each field that failed, and why",
                "items": {"$ref": f"{_REF}ProblemFieldError"},
            },
        },
        "examples": [
            {
                "type": "/problems/invalid_input",
                "title": "The request is not valid",
                "status": 422,
                "detail": "body.email: value is not a valid email address",
                "code": "invalid_input",
                "errors": [
                    {
                        "loc": ["body", "email"],
                        "msg": "value is not a valid email address",
                        "type": "value_error",
                    }
                ],
            }
        ],
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": ["string", "null"]},
        },
        "examples": [
            {"loc": ["body", "email"], "msg": "value is not a valid email address", "type": None}
        ],
    },
}

IDEMPOTENCY_KEY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the same key and request get the first answer again "
        "(`Idempotent-Replayed: true`); the same key with another request is 422, "
        "while the first is still running 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "example": "7f9c2ba4-e88f-11ee-9c37-0242ac120002",
}
REPLAYED_HEADER: dict[str, Any] = {
    "description": "`true` when this is the stored answer of an earlier request with the key",
    "schema": {"type": "string", "enum": ["true"]},
}


@dataclass(frozen=True)
class ProblemDoc:
    status: int
    code: str
    title: str

    @classmethod
    def of(cls, error: type[PlatformError]) -> ProblemDoc:
        return cls(error.status, error.code, error.title)


def example(value: dict[str, Any]) -> dict[str, Any]:
    """A DTO's example for the OpenAPI document, as its model's `json_schema_extra`."""
    return {"examples": [value]}


def problems(*errors: type[PlatformError]) -> dict[int | str, dict[str, Any]]:
    """For a route's `responses=`: the errors it can answer, beyond those every route of
    its kind answers (which the document adds itself)."""
    return {
        status: _problem_response(docs)
        for status, docs in _by_status(ProblemDoc.of(e) for e in errors).items()
    }


def _by_status(docs: Iterable[ProblemDoc]) -> dict[int, list[ProblemDoc]]:
    grouped: dict[int, dict[str, ProblemDoc]] = {}
    for doc in docs:
        grouped.setdefault(doc.status, {})[doc.code] = doc
    return {
        status: sorted(codes.values(), key=lambda d: d.code)
        for status, codes in sorted(grouped.items())
    }


def _problem_response(docs: list[ProblemDoc]) -> dict[str, Any]:
    status = docs[0].status
    codes = [doc.code for doc in docs]
    lines = "\n".join(f"- `{doc.code}`: {doc.title}" for doc in docs)
    return {
        "description": f"{HTTPStatus(status).phrase}\n\n{lines}",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "allOf": [
                        {"$ref": f"{_REF}{PROBLEM_SCHEMA}"},
                        {"type": "object", "properties": {"code": {"enum": codes}}},
                    ]
                },
                "examples": {
                    doc.code: {
                        "summary": doc.title,
                        "value": {
                            "type": f"/problems/{doc.code}",
                            "title": doc.title,
                            "status": doc.status,
                            "detail": doc.title,
                            "code": doc.code,
                        },
                    }
                    for doc in docs
                },
            }
        },
    }


def _declared(response: dict[str, Any]) -> list[ProblemDoc]:
    examples = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {})
    return [
        ProblemDoc(example["value"]["status"], code, example["summary"])
        for code, example in examples.items()
    ]


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _dependency_calls(dependency)


@dataclass(frozen=True)
class RouteTraits:
    """What the document says of a route without being told: read off its dependencies."""

    reads_caller: bool
    requires_caller: bool
    requires_admin: bool
    scopes: tuple[str, ...]
    any_of_scopes: tuple[tuple[str, ...], ...]
    validates_input: bool
    paginated: bool
    transactional: bool
    honours_idempotency_key: bool

    @classmethod
    def of(cls, route: Any, original: APIRoute) -> RouteTraits:
        """`route`: the route as included in the app (its prefix, its routers'
        dependencies); `original`: the route object its router made."""
        calls = list(_dependency_calls(route.dependant))
        scopes = tuple(sorted({c.scope for c in calls if isinstance(c, RequireScope)}))
        any_of = tuple(sorted({c.scopes for c in calls if isinstance(c, RequireAnyScope)}))
        requires = (
            require_principal in calls or require_admin in calls or bool(scopes) or bool(any_of)
        )
        return cls(
            reads_caller=requires or current_principal in calls,
            requires_caller=requires,
            requires_admin=require_admin in calls,
            scopes=scopes,
            any_of_scopes=any_of,
            validates_input=bool(get_flat_params(route.dependant) or route.body_field),
            paginated=page_request in calls,
            transactional=isinstance(original, TransactionalRoute),
            honours_idempotency_key=isinstance(original, TransactionalRoute)
            and original.honours_idempotency_key
            and "POST" in route.methods,
        )


def _complete_operation(operation: dict[str, Any], traits: RouteTraits) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    added: list[ProblemDoc] = []
    if traits.reads_caller:
        # Admin power is the role and a token carrying the admin scope (Principal.is_admin).
        required = {*traits.scopes, *([ADMIN_SCOPE] if traits.requires_admin else [])}
        # One requirement per way of holding the scopes: any one of each RequireAnyScope.
        requirements = [
            {SECURITY_SCHEME: sorted(required.union(choice))}
            for choice in product(*traits.any_of_scopes)
        ]
        # An empty requirement: the caller may also come without a token.
        operation["security"] = requirements if traits.requires_caller else [*requirements, {}]
        added.append(ProblemDoc.of(Unauthenticated))
    if traits.requires_admin or traits.scopes or traits.any_of_scopes:
        added.append(ProblemDoc.of(Forbidden))
    validation = responses.get("422", {}).get("content", {}).get("application/json", {})
    if validation.get("schema", {}).get("$ref") == f"{_REF}HTTPValidationError":
        del responses["422"]  # FastAPI's own shape, which the API never answers
    if traits.validates_input:
        added.append(ProblemDoc.of(InvalidInput))
    if traits.paginated:
        added.append(ProblemDoc.of(InvalidCursor))
    if traits.transactional:
        added.append(ProblemDoc.of(DatabaseUnavailable))
    if traits.honours_idempotency_key:
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_HEADER)
        added += [
            ProblemDoc.of(e)
            for e in (
                IdempotencyKeyReused,
                IdempotencyKeyInvalid,
                IdempotencyKeyInFlight,
                StoredAnswerUnreadable,
            )
        ]
        for status, response in responses.items():
            if status.startswith("2"):
                response.setdefault("headers", {})["Idempotent-Replayed"] = REPLAYED_HEADER
    declared = [doc for response in responses.values() for doc in _declared(response)]
    for code_status, docs in _by_status([*declared, *added]).items():
        problem_response = _problem_response(docs)
        # The status may also be answered in another form, which stays beside the problems
        # (the OAuth2 endpoints' RFC 6749 errors: a 503 of their own, and the platform's).
        previous = responses.get(str(code_status), {})
        other_forms = {
            media: body
            for media, body in previous.get("content", {}).items()
            if media != PROBLEM_MEDIA_TYPE
        }
        if other_forms:
            problem_response["content"] |= other_forms
            problem_response["description"] = (
                f"{previous['description']}\n\n{problem_response['description']}"
            )
        responses[str(code_status)] = problem_response
    operation["responses"] = dict(sorted(responses.items()))


def _security_scheme() -> dict[str, Any]:
    scopes = dict(SCOPES)
    return {
        "type": "oauth2",
        "description": (
            "Portals sign users in with the password grant and their public client id "
            "(`customer-portal`, `merchant-portal`, `admin-portal`; no secret). Partner "
            "systems use client credentials. Send the access token as "
            "`Authorization: Bearer <token>`."
        ),
        "flows": {
            "password": {"tokenUrl": TOKEN_PATH, "refreshUrl": TOKEN_PATH, "scopes": scopes},
            "clientCredentials": {"tokenUrl": TOKEN_PATH, "scopes": scopes},
        },
    }


def _share_problem_examples(document: dict[str, Any]) -> None:
    """Each code's example once, under components, referred to by every answer that has
    it: the same few codes recur on most operations."""
    shared: dict[str, Any] = {}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                problem = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
                if problem is None:
                    continue
                for code, example in problem.get("examples", {}).items():
                    shared[code] = example
                    problem["examples"][code] = {"$ref": f"#/components/examples/{code}"}
    if shared:
        document["components"]["examples"] = dict(sorted(shared.items()))


def _allows_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return (
        kind == "null"
        or (isinstance(kind, list) and "null" in kind)
        or any(_allows_null(variant) for variant in schema.get("anyOf", ()))
    )


def _with_nulls(example: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """FastAPI drops every null from the document, examples included: put back the nulls
    of the required fields, which an example must have to be valid."""
    while "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    objects = [v for v in schema.get("anyOf", ()) if "$ref" in v or "properties" in v]
    if len(objects) == 1:
        return _with_nulls(example, objects[0], schemas)
    if isinstance(example, list) and "items" in schema:
        return [_with_nulls(item, schema["items"], schemas) for item in example]
    if not isinstance(example, dict) or "properties" not in schema:
        return example
    properties: dict[str, Any] = schema["properties"]
    filled = {k: _with_nulls(v, properties.get(k, {}), schemas) for k, v in example.items()}
    for name in schema.get("required", ()):
        if name not in filled and _allows_null(properties.get(name, {})):
            filled[name] = None
    return {name: filled[name] for name in [*properties, *example] if name in filled}


def _restore_example_nulls(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        if "examples" in schema:
            schema["examples"] = [_with_nulls(e, schema, schemas) for e in schema["examples"]]


def _example_enums(document: dict[str, Any]) -> None:
    """An enum's example is its first value: every schema shows one."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        if "enum" in schema and "examples" not in schema:
            schema["examples"] = schema["enum"][:1]


def _drop_fastapi_validation_schemas(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)


def complete_document(document: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """FastAPI's document for these routes, completed (see the module's docstring)."""
    paths: dict[str, Any] = document.get("paths", {})
    for route in iter_route_contexts(list(routes)):
        original = route.original_route
        if not isinstance(original, APIRoute) or not route.include_in_schema:
            continue
        traits = RouteTraits.of(route, original)
        for method in route.methods or ():
            operation = paths.get(route.path_format or "", {}).get(method.lower())
            if operation is not None:
                _complete_operation(operation, traits)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(PROBLEM_SCHEMAS)
    components["securitySchemes"] = {SECURITY_SCHEME: _security_scheme()}
    _drop_fastapi_validation_schemas(document)
    _share_problem_examples(document)
    _restore_example_nulls(document)
    _example_enums(document)
    components["schemas"] = dict(sorted(components["schemas"].items()))
    return document


def camel_case_operation_id(route: APIRoute) -> str:
    """The operationId of a route that names none: its endpoint's name in camelCase."""
    head, *rest = route.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document, built once, when it is first asked for: FastAPI's
    own (with every setting of the app), completed."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()  # caches what it built in app.openapi_schema
            app.openapi_schema = complete_document(document, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
