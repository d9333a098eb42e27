"""GraphQL over the same services: results, error codes, limits, rollback."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from devstack.testing.api import AuthApi, bearer
from devstack.testing.tokens import TestTokens
from svc_auth.app import create_app
from svc_auth.config import AuthSettings

URL = "/graphql/auth"


async def gql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        URL, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


REGISTER = """
mutation ($email: String!, $password: String!) {
  registerUser(input: {email: $email, password: $password, displayName: "Gee"}) {
    id email roles displayName
  }
}"""


async def test_register_and_me(client: httpx.AsyncClient, accounts: AuthApi) -> None:
    registered = await gql(client, REGISTER, email="gee@example.com", password="long enough!")
    assert registered["data"]["registerUser"]["roles"] == ["CUSTOMER"]
    token = await accounts.login("gee@example.com", password="long enough!")
    me = await gql(client, "{ me { email memberships { merchantId role } } }", bearer(token))
    assert me["data"]["me"] == {"email": "gee@example.com", "memberships": []}


async def test_errors_carry_the_rest_codes(client: httpx.AsyncClient, accounts: AuthApi) -> None:
    await accounts.register("dup@example.com")
    taken = await gql(client, REGISTER, email="dup@example.com", password="long enough!")
    assert taken["errors"][0]["extensions"]["code"] == "email_taken"
    short = await gql(client, REGISTER, email="new@example.com", password="short")
    assert short["errors"][0]["extensions"]["code"] == "invalid_input"
    anonymous = await gql(client, "{ me { email } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "unauthenticated"
    customer = await accounts.login("dup@example.com")
    forbidden = await gql(client, "{ users { items { email } } }", bearer(customer))
    assert forbidden["errors"][0]["extensions"]["code"] == "forbidden"
    unknown_field = await gql(client, "{ nope }")
    assert unknown_field["errors"][0]["extensions"]["code"] == "invalid_query"


async def test_admin_queries_and_role_mutations(
    client: httpx.AsyncClient, accounts: AuthApi, tokens: TestTokens
) -> None:
    user = await accounts.register("ray@example.com")
    admin = bearer(tokens.admin())
    users = await gql(
        client, '{ users(email: "ray@example.com") { items { id } nextCursor } }', admin
    )
    assert users["data"]["users"] == {"items": [{"id": user["id"]}], "nextCursor": None}
    granted = await gql(
        client,
        "mutation ($id: UUID!) { grantRole(userId: $id, input: {role: ADMIN}) { roles } }",
        admin,
        id=user["id"],
    )
    assert granted["data"]["grantRole"]["roles"] == ["ADMIN", "CUSTOMER"]


async def test_a_failed_mutation_leaves_nothing_behind(
    client: httpx.AsyncClient, accounts: AuthApi
) -> None:
    # Two mutations in one document: the second fails, so the first must not stick.
    document = """
    mutation {
      a: registerUser(
        input: {email: "one@example.com", password: "long enough!", displayName: "1"}
      ) { id }
      b: registerUser(
        input: {email: "one@example.com", password: "long enough!", displayName: "2"}
      ) { id }
    }"""
    result = await gql(client, document)
    assert result["errors"][0]["extensions"]["code"] == "email_taken"
    retry = await gql(client, REGISTER, email="one@example.com", password="long enough!")
    assert "errors" not in retry


async def test_depth_token_and_alias_limits(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{n}: __typename" for n in range(30))
    too_many_aliases = await gql(client, f"{{ {aliases} }}")
    assert too_many_aliases["errors"][0]["extensions"]["code"] == "invalid_query"
    assert too_many_aliases.get("data") is None

    many_tokens = "{ " + " ".join(["__typename"] * 2100) + " }"
    too_long = await gql(client, many_tokens)
    assert too_long["errors"][0]["extensions"]["code"] == "invalid_query"

    assert "errors" not in await gql(client, "{ __typename }")


async def test_unexpected_errors_are_masked(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    # A valid token for a user that does not exist answers a clean error, not a traceback.
    result = await gql(client, "{ me { email } }", bearer(tokens.token()))
    assert result["errors"][0]["extensions"]["code"] == "unauthenticated"
    assert "Traceback" not in str(result)


async def test_depth_limit(
    connection: AsyncConnection, platform_settings: PlatformSettings, tokens: TestTokens, aws: Any
) -> None:
    shallow = platform_settings.model_copy(update={"graphql_max_depth": 1})
    app = create_app(
        AuthSettings(password_time_cost=1, password_memory_kib=1024, password_parallelism=1),
        shallow,
        database=ConnectionBoundDatabase(shallow, connection),
        keys=tokens.keys,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        too_deep = await gql(http, "{ me { memberships { merchantId } } }")
        assert too_deep["errors"][0]["extensions"]["code"] == "invalid_query"
        assert "depth" in too_deep["errors"][0]["message"]
        assert (await gql(http, "{ me { email } }"))["errors"][0]["extensions"]["code"] == (
            "unauthenticated"
        )
