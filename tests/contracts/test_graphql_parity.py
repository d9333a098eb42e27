"""Every REST operation has its GraphQL field, read from the committed contracts.

The rule (issue 21): a mutation has the REST operation's name (`redeemCoupon`); a read
follows GraphQL's noun convention: `getCoupon` is `coupon`, `listWallet` is `wallet`,
`getCampaignStats` is `campaignStats`. GET operations are reads (Query), the others
mutations (Mutation). The only operations without a field are the OAuth2 endpoints (token,
authorize, revoke), JWKS and discovery (`/.well-known/`), and health.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema

from core.routing import SERVICES
from devstack.contracts.files import CONTRACTS_DIR, graphql_file, openapi_file

METHODS = ("get", "put", "post", "delete", "patch")
OAUTH2_PATHS = frozenset({"/api/v1/auth/token", "/api/v1/auth/authorize", "/api/v1/auth/revoke"})
READ_PREFIX = re.compile(r"^(get|list)(?=[A-Z])")


@dataclass(frozen=True)
class Operation:
    service: str
    operation_id: str
    method: str
    path: str

    @property
    def is_read(self) -> bool:
        return self.method == "get"

    @property
    def graphql_field(self) -> str:
        """The field the rule names: the mutation's own name; the read's noun."""
        if not self.is_read:
            return self.operation_id
        noun = READ_PREFIX.sub("", self.operation_id)
        return noun[:1].lower() + noun[1:]

    @property
    def root(self) -> str:
        return "Query" if self.is_read else "Mutation"


def has_no_graphql_twin(path: str) -> bool:
    return path in OAUTH2_PATHS or path.startswith("/.well-known/") or path.endswith("/health")


def operations(service: str, document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(service, item[method]["operationId"], method, path)
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item and not has_no_graphql_twin(path)
    ]


def root_fields(schema: GraphQLSchema, root: str) -> set[str]:
    kind = schema.query_type if root == "Query" else schema.mutation_type
    return set(kind.fields) if kind is not None else set()


def gaps(service: str, document: dict[str, Any], sdl: str | None) -> list[str]:
    """Each REST operation whose GraphQL field is missing, or under the other root."""
    schema = build_schema(sdl) if sdl is not None else GraphQLSchema()
    found: list[str] = []
    for op in operations(service, document):
        if op.graphql_field in root_fields(schema, op.root):
            continue
        other = "Mutation" if op.root == "Query" else "Query"
        where = f" (found under {other})" if op.graphql_field in root_fields(schema, other) else ""
        found.append(
            f"{service}: {op.operation_id} ({op.method.upper()} {op.path}) has no "
            f"{op.root}.{op.graphql_field}{where}"
        )
    return found


def committed(service: str, root: Path = CONTRACTS_DIR) -> tuple[dict[str, Any], str | None]:
    routes = next(s for s in SERVICES if s.name == service)
    document = json.loads(openapi_file(routes, root).read_text())
    sdl_path = graphql_file(routes, root)
    return document, sdl_path.read_text() if sdl_path.exists() else None


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_every_rest_operation_has_its_graphql_field(service: str) -> None:
    missing = gaps(service, *committed(service))
    assert not missing, "REST operations without their GraphQL field:\n" + "\n".join(missing)


def test_the_rule_names_reads_by_their_noun_and_mutations_by_their_operation() -> None:
    def field(operation_id: str, method: str) -> str:
        return Operation("x", operation_id, method, "/").graphql_field

    assert field("getCoupon", "get") == "coupon"
    assert field("listWallet", "get") == "wallet"
    assert field("getCampaignStats", "get") == "campaignStats"
    assert field("getMe", "get") == "me"
    assert field("redeemCoupon", "post") == "redeemCoupon"
    assert field("getaway", "get") == "getaway"  # not a prefix followed by a noun


def test_a_renamed_or_misplaced_field_is_a_gap() -> None:
    document, sdl = committed("auth")
    assert sdl is not None
    assert "  registerUser(" in sdl
    renamed = sdl.replace("  registerUser(", "  register(")
    assert gaps("auth", document, renamed) == [
        "auth: registerUser (POST /api/v1/auth/register) has no Mutation.registerUser"
    ]
    moved = sdl.replace("type Query {", "type Query {\n  registerUser: Boolean!").replace(
        "  registerUser(input", "  signUp(input"
    )
    assert gaps("auth", document, moved) == [
        "auth: registerUser (POST /api/v1/auth/register) has no Mutation.registerUser"
        " (found under Query)"
    ]


def test_the_exceptions_are_only_oauth2_discovery_and_health() -> None:
    exempt = sorted(
        f"{service.name}: {op_id}"
        for service in SERVICES
        for path, item in committed(service.name)[0]["paths"].items()
        for method, op in item.items()
        if method in METHODS and has_no_graphql_twin(path)
        for op_id in [op["operationId"]]
    )
    oauth2 = [
        "auth: getJwks",
        "auth: getOpenIdConfiguration",
        "auth: issueToken",
        "auth: revokeToken",
    ]
    health = [f"{service.name}: get{service.name.title()}Health" for service in SERVICES]
    assert exempt == sorted(oauth2 + health)
