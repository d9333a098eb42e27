from __future__ import annotations

import httpx

from devstack.testing.api import AuthApi as Accounts


async def test_register_returns_the_new_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": " Ann@Example.com ", "password": "long enough pw", "display_name": "Ann"},
    )
    assert response.status_code == 201
    user = response.json()
    assert user["email"] == "ann@example.com"
    assert user["roles"] == ["customer"]
    assert set(user) == {"id", "email", "display_name", "roles", "memberships", "created_at"}
    assert user["created_at"].endswith("+00:00") or user["created_at"].endswith("Z")


async def test_register_taken_email_is_409(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.register("bob@example.com")
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "BOB@example.com", "password": "another long one", "display_name": "B"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "email_taken"


async def test_short_password_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "c@example.com", "password": "short", "display_name": "C"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert {"type", "title", "status", "detail"} <= set(body)


async def test_login_and_me(accounts: Accounts, client: httpx.AsyncClient) -> None:
    user = await accounts.register("dee@example.com")
    token = await accounts.login("dee@example.com")
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert me.json()["memberships"] == []
