"""contracts/: current with the code, valid OpenAPI, and fit to generate clients from."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from core.auth.scopes import TOKEN_PATH
from devstack.contracts.files import ServiceContract, build_contracts, stale_files

METHODS = ("get", "put", "post", "delete", "patch")
MAX_DIFF_LINES = 120


@pytest.fixture(scope="module")
def contracts() -> list[ServiceContract]:
    return build_contracts()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


def test_contract_files_are_current() -> None:
    diffs = list(stale_files())
    shown = "".join(diffs).splitlines()[:MAX_DIFF_LINES]
    assert not diffs, "Stale contract files; run `make contracts` and commit them:\n" + "\n".join(
        shown
    )


def test_documents_are_valid_openapi(contracts: list[ServiceContract]) -> None:
    for contract in contracts:
        validate(contract.openapi)


def test_operation_ids_are_readable_and_unique_across_services(
    contracts: list[ServiceContract],
) -> None:
    seen: dict[str, str] = {}
    for contract in contracts:
        for path, method, operation in operations(contract.openapi):
            operation_id = operation["operationId"]
            assert re.fullmatch(r"[a-z][a-zA-Z0-9]+", operation_id), (path, operation_id)
            assert operation_id not in seen, f"{operation_id}: {seen.get(operation_id)} and {path}"
            seen[operation_id] = path
            assert operation.get("tags"), f"{method} {path} has no tag"


def test_secured_operations_say_how_to_authenticate(contracts: list[ServiceContract]) -> None:
    auth_paths = next(c for c in contracts if c.service.name == "auth").openapi["paths"]
    assert "post" in auth_paths[TOKEN_PATH]
    for contract in contracts:
        scheme = contract.openapi["components"]["securitySchemes"]["OAuth2"]
        assert scheme["flows"]["password"]["tokenUrl"] == TOKEN_PATH
        for path, method, operation in operations(contract.openapi):
            if "security" in operation:
                assert "401" in operation["responses"], f"{method} {path}"


def test_every_post_of_the_services_takes_an_idempotency_key(
    contracts: list[ServiceContract],
) -> None:
    # RFC 6749/7009 endpoints store no answers; sign-up's body holds a password, of which
    # nothing is fingerprinted or kept.
    credentials = {TOKEN_PATH, "/api/v1/auth/revoke", "/api/v1/auth/register"}
    for contract in contracts:
        for path, method, operation in operations(contract.openapi):
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method == "post":
                assert ("Idempotency-Key" in headers) == (path not in credentials), path


def test_error_answers_are_problem_documents_with_codes(
    contracts: list[ServiceContract],
) -> None:
    oauth = {TOKEN_PATH, "/api/v1/auth/revoke"}
    for contract in contracts:
        for path, method, operation in operations(contract.openapi):
            for status, response in operation["responses"].items():
                if status.startswith("2") or (path in oauth and status in ("400", "401", "429")):
                    continue
                problem = response["content"]["application/problem+json"]
                codes = problem["schema"]["allOf"][1]["properties"]["code"]["enum"]
                assert codes, f"{method} {path} {status}"
                assert sorted(problem["examples"]) == codes, f"{method} {path} {status}"


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:doc", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    rebased = json.loads(json.dumps(schema).replace('"#/components', '"urn:doc#/components'))
    return Draft202012Validator(rebased, registry=registry)


def test_request_and_answer_bodies_have_examples_that_fit(
    contracts: list[ServiceContract],
) -> None:
    for contract in contracts:
        document = contract.openapi
        schemas = document["components"]["schemas"]
        for path, method, operation in operations(document):
            bodies = [operation.get("requestBody", {})]
            bodies += [r for s, r in operation["responses"].items() if s.startswith("2")]
            for body in bodies:
                schema = body.get("content", {}).get("application/json", {}).get("schema", {})
                name = schema.get("$ref", "").rsplit("/", 1)[-1]
                if not name or name.startswith(("Page", "Body_")) or name.endswith("Out_"):
                    continue  # pages and forms: made of models that carry their own
                examples = schemas[name].get("examples")
                assert examples, f"{method} {path}: {name} has no example"
                for example in examples:
                    _validator(document, schemas[name]).validate(example)


def test_every_schema_has_an_example_that_fits(contracts: list[ServiceContract]) -> None:
    """Objects, pages, enums and errors alike: a portal team sees a value of each."""
    missing: list[str] = []
    for contract in contracts:
        document = contract.openapi
        for name, schema in document["components"]["schemas"].items():
            examples = schema.get("examples")
            if not examples:
                missing.append(f"{contract.service.name}: {name}")
                continue
            for example in examples:
                _validator(document, schema).validate(example)
    assert not missing, "Schemas without an example:\n" + "\n".join(missing)
