"""The token endpoint: each grant, each RFC 6749 error, refresh rotation and reuse."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from devstack.testing.api import AuthApi, bearer


async def test_password_grant_answers_a_bearer_token_with_no_store(
    accounts: AuthApi,
) -> None:
    await accounts.register("erin@example.com")
    response = await accounts.token(
        grant_type="password",
        username="ERIN@example.com",
        password="correct horse battery",
        client_id="customer-portal",
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"].split() == ["coupons:read", "coupons:write", "merchants:write"]
    assert body["refresh_token"]


async def test_admin_scope_only_for_admins_through_the_admin_portal(accounts: AuthApi) -> None:
    await accounts.register("frank@example.com")
    token = await accounts.login("frank@example.com", client_id="admin-portal")
    assert "admin" not in token["scope"].split()
    refused = await accounts.token(
        grant_type="password",
        username="frank@example.com",
        password="correct horse battery",
        client_id="admin-portal",
        scope="admin",
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


async def test_requested_scope_narrows_the_token(accounts: AuthApi) -> None:
    await accounts.register("gina@example.com")
    token = await accounts.login("gina@example.com", scope="coupons:read")
    assert token["scope"] == "coupons:read"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {
                "grant_type": "password",
                "username": "x@example.com",
                "password": "wrong password",
                "client_id": "customer-portal",
            },
            400,
            "invalid_grant",
        ),
        (
            {
                "grant_type": "password",
                "username": "hal@example.com",
                "password": "wrong password",
                "client_id": "customer-portal",
            },
            400,
            "invalid_grant",
        ),
        (
            {
                "grant_type": "password",
                "username": "hal@example.com",
                "password": "correct horse battery",
                "client_id": "no-such-portal",
            },
            401,
            "invalid_client",
        ),
        (
            {
                "grant_type": "password",
                "username": "hal@example.com",
                "password": "correct horse battery",
            },
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "authorization_code", "code": "x", "client_id": "customer-portal"},
            400,
            "unsupported_grant_type",
        ),
        ({"client_id": "customer-portal"}, 400, "invalid_request"),
        ({"grant_type": "password", "client_id": "customer-portal"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "client_id": "customer-portal"}, 400, "invalid_request"),
        (
            {
                "grant_type": "refresh_token",
                "refresh_token": "nope",
                "client_id": "customer-portal",
            },
            400,
            "invalid_grant",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "customer-portal"},
            400,
            "unauthorized_client",
        ),
    ],
)
async def test_oauth_errors_have_rfc6749_bodies(
    accounts: AuthApi, form: dict[str, str], status: int, error: str
) -> None:
    await accounts.register("hal@example.com")
    response = await accounts.token(**form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


async def test_refresh_rotates_and_reuse_revokes_the_family(accounts: AuthApi) -> None:
    await accounts.register("ivy@example.com")
    first = await accounts.login("ivy@example.com")
    second = await accounts.token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="customer-portal",
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]

    # The first token again: a replay. It fails, and so does everything of its family.
    replay = await accounts.token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="customer-portal",
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    after = await accounts.token(
        grant_type="refresh_token",
        refresh_token=rotated["refresh_token"],
        client_id="customer-portal",
    )
    assert after.status_code == 400
    # Other sign-ins (other families) are untouched.
    other = await accounts.login("ivy@example.com")
    assert (
        await accounts.token(
            grant_type="refresh_token",
            refresh_token=other["refresh_token"],
            client_id="customer-portal",
        )
    ).status_code == 200


async def _revocations(connection: AsyncConnection, user_id: str) -> list[dict[str, Any]]:
    """The user's family revocations as the outbox holds them, committed or not."""
    rows = await connection.execute(
        text(
            "SELECT actor, data FROM auth.outbox"
            " WHERE type = 'user.refresh_tokens_revoked' AND entity_id = :user ORDER BY occurred_at"
        ),
        {"user": user_id},
    )
    return [{"actor": row.actor, **row.data} for row in rows]


async def test_a_detected_reuse_writes_its_revocation_event(
    accounts: AuthApi, auth_app: FastAPI, connection: AsyncConnection
) -> None:
    user = await accounts.register("eve@example.com")
    first = await accounts.login("eve@example.com")
    refresh = {"grant_type": "refresh_token", "client_id": "customer-portal"}
    assert (
        await accounts.token(**refresh, refresh_token=first["refresh_token"])
    ).status_code == 200
    assert await _revocations(connection, user["id"]) == []

    replay = await accounts.token(**refresh, refresh_token=first["refresh_token"])
    assert replay.status_code == 400
    (revocation,) = await _revocations(connection, user["id"])
    assert revocation == {
        "actor": "customer-portal",
        "family_id": revocation["family_id"],
        "client_id": "customer-portal",
        "reason": "reuse_detected",
    }
    # Delivered to the audit trail after the commit, like every other event.
    history = await auth_app.state.runtime.audit.history("user", user["id"])
    assert "user.refresh_tokens_revoked" in [entry["type"] for entry in history]

    # The family is already revoked: a second replay revokes nothing and tells nothing.
    assert (
        await accounts.token(**refresh, refresh_token=first["refresh_token"])
    ).status_code == 400
    assert len(await _revocations(connection, user["id"])) == 1


async def test_an_explicit_revocation_writes_its_event(
    accounts: AuthApi, client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    user = await accounts.register("fay@example.com")
    token = await accounts.login("fay@example.com")
    form = {"token": token["refresh_token"], "client_id": "customer-portal"}
    assert (await client.post("/api/v1/auth/revoke", data=form)).status_code == 200
    assert (await client.post("/api/v1/auth/revoke", data=form)).status_code == 200
    assert [r["reason"] for r in await _revocations(connection, user["id"])] == [
        "revoked_by_client"
    ]


async def test_refresh_token_is_bound_to_its_client(accounts: AuthApi) -> None:
    await accounts.register("jay@example.com")
    token = await accounts.login("jay@example.com")
    response = await accounts.token(
        grant_type="refresh_token", refresh_token=token["refresh_token"], client_id="admin-portal"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_refresh_cannot_widen_scope(accounts: AuthApi) -> None:
    await accounts.register("kim@example.com")
    token = await accounts.login("kim@example.com", scope="coupons:read")
    response = await accounts.token(
        grant_type="refresh_token",
        refresh_token=token["refresh_token"],
        client_id="customer-portal",
        scope="coupons:read coupons:write",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_revocation_answers_200_and_kills_the_refresh_token(
    accounts: AuthApi, client: httpx.AsyncClient
) -> None:
    await accounts.register("lee@example.com")
    token = await accounts.login("lee@example.com")
    revoked = await client.post(
        "/api/v1/auth/revoke",
        data={
            "token": token["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": "customer-portal",
        },
    )
    assert revoked.status_code == 200
    unknown = await client.post(
        "/api/v1/auth/revoke", data={"token": "not-a-token", "client_id": "customer-portal"}
    )
    assert unknown.status_code == 200
    refreshed = await accounts.token(
        grant_type="refresh_token",
        refresh_token=token["refresh_token"],
        client_id="customer-portal",
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    # The access token stays valid until it expires (short-lived, verified offline).
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200


async def test_revocation_by_another_client_changes_nothing(
    accounts: AuthApi, client: httpx.AsyncClient
) -> None:
    await accounts.register("may@example.com")
    token = await accounts.login("may@example.com")
    await client.post(
        "/api/v1/auth/revoke", data={"token": token["refresh_token"], "client_id": "admin-portal"}
    )
    refreshed = await accounts.token(
        grant_type="refresh_token",
        refresh_token=token["refresh_token"],
        client_id="customer-portal",
    )
    assert refreshed.status_code == 200


async def test_repeated_failures_are_throttled_per_account_and_address(
    accounts: AuthApi,
) -> None:
    # The fixture allows 3 failures per window at an account from one address.
    await accounts.register("ned@example.com")
    await accounts.register("ola@example.com")
    for _ in range(3):
        wrong = await accounts.token(
            grant_type="password",
            username="ned@example.com",
            password="not it at all",
            client_id="customer-portal",
        )
        assert wrong.status_code == 400
    throttled = await accounts.token(
        grant_type="password",
        username="ned@example.com",
        password="correct horse battery",
        client_id="customer-portal",
    )
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "too_many_attempts"
    assert int(throttled.headers["retry-after"]) > 0
    # Another account is not affected.
    assert (await accounts.login("ola@example.com"))["access_token"]


async def test_a_success_clears_earlier_failures(accounts: AuthApi) -> None:
    await accounts.register("pam@example.com")
    for _ in range(2):
        await accounts.token(
            grant_type="password",
            username="pam@example.com",
            password="not it at all",
            client_id="customer-portal",
        )
    await accounts.login("pam@example.com")
    for _ in range(2):
        await accounts.token(
            grant_type="password",
            username="pam@example.com",
            password="not it at all",
            client_id="customer-portal",
        )
    assert (await accounts.login("pam@example.com"))["access_token"]


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def test_basic_and_form_client_authentication_together_is_invalid_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_secret": "x"},
        headers=basic("partner-x", "y"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_unknown_confidential_client_over_basic_gets_www_authenticate(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic("partner-unknown", "secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
