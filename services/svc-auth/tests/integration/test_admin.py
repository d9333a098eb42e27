"""Admins list users and grant or remove the admin role."""

from __future__ import annotations

import httpx

from devstack.testing.api import AuthApi, bearer
from devstack.testing.tokens import TestTokens


async def make_admin(accounts: AuthApi, tokens: TestTokens, email: str) -> str:
    """A real admin account: registered, promoted by another admin, signed in."""
    user = await accounts.register(email)
    granted = await accounts.http.post(
        f"/api/v1/auth/users/{user['id']}/roles",
        json={"role": "admin"},
        headers=bearer(tokens.admin()),
    )
    assert granted.status_code == 200, granted.text
    token = await accounts.login(email, client_id="admin-portal")
    assert "admin" in token["scope"].split()
    return str(token["access_token"])


async def test_users_list_is_for_admins(
    accounts: AuthApi, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    await accounts.register("quinn@example.com")
    assert (await client.get("/api/v1/auth/users")).status_code == 401
    customer = await accounts.login("quinn@example.com")
    forbidden = await client.get("/api/v1/auth/users", headers=bearer(customer))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    listed = await client.get("/api/v1/auth/users", headers=bearer(tokens.admin()))
    assert listed.status_code == 200
    assert [u["email"] for u in listed.json()["items"]] == ["quinn@example.com"]


async def test_an_admin_role_through_a_customer_portal_token_has_no_power(
    accounts: AuthApi, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    await make_admin(accounts, tokens, "root@example.com")
    portal_token = await accounts.login("root@example.com", client_id="customer-portal")
    response = await client.get("/api/v1/auth/users", headers=bearer(portal_token))
    assert response.status_code == 403


async def test_users_filter_and_pagination(
    accounts: AuthApi, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    for n in range(5):
        await accounts.register(f"user{n}@example.com")
    admin = bearer(tokens.admin())
    by_email = await client.get("/api/v1/auth/users?email=USER3@example.com", headers=admin)
    assert [u["email"] for u in by_email.json()["items"]] == ["user3@example.com"]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/auth/users", params=params, headers=admin)).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"user{n}@example.com" for n in range(5)]

    assert (await client.get("/api/v1/auth/users?limit=101", headers=admin)).status_code == 422
    from core.pagination import encode_cursor

    for cursor in ("%%%", encode_cursor("not a time", "not a uuid")):
        bad = await client.get("/api/v1/auth/users", params={"cursor": cursor}, headers=admin)
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid_cursor"


async def test_grant_and_remove_admin(
    accounts: AuthApi, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    first_admin = await make_admin(accounts, tokens, "ada@example.com")
    user = await accounts.register("ben@example.com")
    granted = await client.post(
        f"/api/v1/auth/users/{user['id']}/roles",
        json={"role": "admin"},
        headers=bearer(first_admin),
    )
    assert granted.status_code == 200
    assert granted.json()["roles"] == ["admin", "customer"]

    removed = await client.delete(
        f"/api/v1/auth/users/{user['id']}/roles/admin", headers=bearer(first_admin)
    )
    assert removed.status_code == 204
    me = await accounts.login("ben@example.com", client_id="admin-portal")
    assert "admin" not in me["scope"].split()


async def test_the_last_admin_keeps_the_role(
    accounts: AuthApi, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    admin = await make_admin(accounts, tokens, "solo@example.com")
    me = (await client.get("/api/v1/auth/me", headers=bearer(admin))).json()
    response = await client.delete(
        f"/api/v1/auth/users/{me['id']}/roles/admin", headers=bearer(admin)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"


async def test_role_errors(
    accounts: AuthApi, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    user = await accounts.register("cat@example.com")
    admin = bearer(tokens.admin())
    unknown_role = await client.post(
        f"/api/v1/auth/users/{user['id']}/roles", json={"role": "wizard"}, headers=admin
    )
    assert unknown_role.status_code == 422
    assert unknown_role.json()["code"] == "invalid_input"  # not one of the schema's enum
    customer_granted = await client.post(
        f"/api/v1/auth/users/{user['id']}/roles", json={"role": "customer"}, headers=admin
    )
    assert customer_granted.status_code == 422
    assert customer_granted.json()["code"] == "invalid_role"
    customer_role = await client.delete(
        f"/api/v1/auth/users/{user['id']}/roles/customer", headers=admin
    )
    assert customer_role.status_code == 422
    missing = await client.post(
        "/api/v1/auth/users/00000000-0000-0000-0000-000000000000/roles",
        json={"role": "admin"},
        headers=admin,
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "user_not_found"
    not_uuid = await client.post(
        "/api/v1/auth/users/not-a-uuid/roles", json={"role": "admin"}, headers=admin
    )
    assert not_uuid.status_code == 422
    customer = await accounts.login("cat@example.com")
    forbidden = await client.post(
        f"/api/v1/auth/users/{user['id']}/roles", json={"role": "admin"}, headers=bearer(customer)
    )
    assert forbidden.status_code == 403
