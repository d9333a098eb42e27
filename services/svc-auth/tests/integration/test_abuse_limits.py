"""Per client address limits on sign-up and the token endpoint (429 + Retry-After), however
the operation is reached (REST, GraphQL, each alias of a GraphQL document), and what the
counters do when their store, DynamoDB, cannot be reached."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.aws_clients import DependencyResting
from devstack.testing.api import AuthApi
from svc_auth.config import AuthSettings

pytestmark = pytest.mark.usefixtures("one_counting_window")


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
        login_max_failures=3,
        register_per_address=3,
        token_per_address=4,
    )


def from_address(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def register(http: httpx.AsyncClient) -> Any:
    return http.post(
        "/api/v1/auth/register",
        json={
            "email": f"u-{uuid.uuid4().hex[:8]}@example.com",
            "password": "correct horse battery",
            "display_name": "U",
        },
    )


def aliased_sign_ups(count: int) -> str:
    """One GraphQL document of `count` aliased register mutations."""
    aliases = " ".join(
        f'a{n}: registerUser(input: {{email: "alias-{uuid.uuid4().hex[:8]}@example.com", '
        f'password: "correct horse battery", displayName: "A"}}) {{ id }}'
        for n in range(count)
    )
    return f"mutation {{ {aliases} }}"


async def graphql(http: httpx.AsyncClient, query: str) -> Any:
    response = await http.post("/graphql/auth", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()


async def accounts_made(connection: AsyncConnection, prefix: str) -> int:
    found = await connection.scalar(
        text("SELECT count(*) FROM auth.users WHERE email LIKE :p"), {"p": f"{prefix}%"}
    )
    return int(found)


@pytest.fixture
async def elsewhere(auth_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with from_address(auth_app, "203.0.113.9") as http:
        yield http


async def test_sign_ups_are_limited_per_address(
    client: httpx.AsyncClient, elsewhere: httpx.AsyncClient
) -> None:
    for _ in range(3):
        assert (await register(client)).status_code == 201
    refused = await register(client)
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    # Sliding: the window ends, then the burst slides out of the estimate far enough for
    # the retry (4 counted, weighted down to 2 once half of the next window has passed).
    assert int(refused.headers["retry-after"]) == 600 - 1 + 600 // 2
    # Another address is counted on its own.
    assert (await register(elsewhere)).status_code == 201


async def test_each_graphql_alias_takes_a_sign_up_from_the_same_limit(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    # Four documents of two sign-ups each, against a limit of three: the first document's
    # two, and nothing of the second (its second alias is refused, so all of it rolls back).
    answers = [await graphql(client, aliased_sign_ups(2)) for _ in range(4)]
    assert [answer.get("errors") is None for answer in answers] == [True, False, False, False]
    assert await accounts_made(connection, "alias-") == 2
    for refused in answers[1:]:
        assert refused["errors"][0]["extensions"]["code"] == "too_many_requests"
    assert (await register(client)).status_code == 429


async def test_a_graphql_sign_up_is_refused_once_rest_answers_429(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    for _ in range(3):
        assert (await register(client)).status_code == 201
    rest = await register(client)
    assert rest.status_code == 429
    answer = await graphql(client, aliased_sign_ups(1))
    (error,) = answer["errors"]
    assert error["extensions"]["code"] == rest.json()["code"] == "too_many_requests"
    assert error["extensions"]["status"] == 429
    # The refused REST request counted too, so the GraphQL one waits a little longer.
    assert int(rest.headers["retry-after"]) < error["extensions"]["retry_after"] <= 2 * 600
    assert await accounts_made(connection, "alias-") == 0


async def test_token_requests_are_limited_per_address(
    accounts: AuthApi, elsewhere: httpx.AsyncClient
) -> None:
    for _ in range(4):
        answer = await accounts.token(grant_type="client_credentials", client_id="nobody")
        assert answer.status_code == 401
    refused = await accounts.token(grant_type="client_credentials", client_id="nobody")
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_attempts"
    # The window ends, then 2/5 of the next: 5 counted, weighted down to 3, and the retry.
    assert int(refused.headers["retry-after"]) == 60 - 1 + 60 * 2 // 5
    other = await elsewhere.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "nobody"}
    )
    assert other.status_code == 401


async def test_counters_that_cannot_be_reached_refuse_what_they_bound_and_no_more(
    accounts: AuthApi, client: httpx.AsyncClient, auth_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accounts.register("kept@example.com")
    session = await accounts.login("kept@example.com")
    dynamodb = auth_app.state.runtime.dynamo()

    def resting(*args: Any, **kwargs: Any) -> Any:
        raise DependencyResting(service="dynamodb", seconds=5)

    for operation in ("get_item", "put_item", "update_item", "delete_item"):
        monkeypatch.setattr(dynamodb, operation, resting)
    started = time.monotonic()
    # A password is checked only when the attempt is counted: right or wrong, no answer
    # says which, and there is no unbounded guessing while the counters are out of reach.
    for password in ("wrong password here", "correct horse battery"):
        refused = await accounts.token(
            grant_type="password",
            username="kept@example.com",
            password=password,
            client_id="customer-portal",
        )
        assert refused.status_code == 503
        assert refused.json()["error"] == "temporarily_unavailable"
        assert int(refused.headers["retry-after"]) > 0
    # The sign-up limit bounds what email_taken tells: no sign-up goes uncounted either.
    sign_up = await register(client)
    assert sign_up.status_code == 503
    assert sign_up.json()["code"] == "sign_up_unavailable"
    assert int(sign_up.headers["retry-after"]) > 0
    # A signed-in session goes on: a refresh token cannot be guessed, and the limit on
    # token requests, a bound on volume, lets it through uncounted.
    refreshed = await accounts.token(
        grant_type="refresh_token",
        refresh_token=session["refresh_token"],
        client_id="customer-portal",
    )
    assert refreshed.status_code == 200
    assert time.monotonic() - started < 5
