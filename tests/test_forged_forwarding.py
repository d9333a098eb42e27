"""The local stack (`python -m devstack run`, over real sockets) counts its per-address
limits on the socket's peer: a client that writes X-Forwarded-For, a new address each
time, still meets the sign-up and token limits, through REST and GraphQL."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import httpx
import pytest

from devstack.stack.spawned import spawned_stack
from devstack.testing.api import DEFAULT_PASSWORD

pytestmark = pytest.mark.slow  # starts a whole stack of its own

SIGN_UPS, TOKEN_REQUESTS = 3, 4
_forged = (f"203.0.113.{n}" for n in itertools.count(1))


def forged() -> dict[str, str]:
    """Headers claiming a client address never seen before."""
    address = next(_forged)
    return {"X-Forwarded-For": address, "X-Real-IP": address, "Forwarded": f"for={address}"}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    settings = {
        "AUTH_REGISTER_PER_ADDRESS": str(SIGN_UPS),
        "AUTH_TOKEN_PER_ADDRESS": str(TOKEN_REQUESTS),
        "AUTH_PASSWORD_TIME_COST": "1",
        "AUTH_PASSWORD_MEMORY_KIB": "1024",
        "AUTH_PASSWORD_PARALLELISM": "1",
    }
    with spawned_stack(settings=settings) as stack, httpx.Client(base_url=stack.base_url) as client:
        yield client


def sign_up_body() -> dict[str, str]:
    return {
        "email": f"forged-{uuid.uuid4().hex[:8]}@example.com",
        "password": DEFAULT_PASSWORD,
        "display_name": "Forged",
    }


def test_a_forged_forwarding_header_does_not_reset_the_sign_up_limit(http: httpx.Client) -> None:
    for _ in range(SIGN_UPS):
        assert http.post("/api/v1/auth/register", json=sign_up_body(), headers=forged()).is_success
    refused = http.post("/api/v1/auth/register", json=sign_up_body(), headers=forged())
    assert refused.status_code == 429, refused.text
    body = sign_up_body()
    graphql = http.post(
        "/graphql/auth",
        json={
            "query": "mutation ($input: RegisterUserInput!) { registerUser(input: $input) { id } }",
            "variables": {
                "input": {
                    "email": body["email"],
                    "password": body["password"],
                    "displayName": body["display_name"],
                }
            },
        },
        headers=forged(),
    )
    assert graphql.json()["errors"][0]["extensions"]["code"] == "too_many_requests"


def test_a_forged_forwarding_header_does_not_reset_the_token_limit(http: httpx.Client) -> None:
    def token() -> httpx.Response:
        return http.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": "nobody"},
            headers=forged(),
        )

    assert [token().status_code for _ in range(TOKEN_REQUESTS)] == [401] * TOKEN_REQUESTS
    refused = token()
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_attempts"
