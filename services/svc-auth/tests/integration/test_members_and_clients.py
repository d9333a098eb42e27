"""Owners (made by merchant.verified) manage staff and partner clients."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID, uuid4

import httpx
from fastapi import FastAPI

from core.events import DomainEvent
from devstack.testing.api import AuthApi, bearer
from devstack.testing.tokens import TestTokens


def verified(merchant_id: UUID, owner_user_id: str, event_id: UUID | None = None) -> DomainEvent:
    return DomainEvent(
        id=event_id or uuid4(),
        type="merchant.verified",
        entity_type="merchant",
        entity_id=str(merchant_id),
        actor="some-admin",
        data={"merchant_id": str(merchant_id), "owner_user_id": owner_user_id},
        source="merchants",
    )


async def owner_of_new_merchant(
    accounts: AuthApi, auth_app: FastAPI, email: str
) -> tuple[UUID, dict[str, str]]:
    user = await accounts.register(email)
    merchant_id = uuid4()
    await auth_app.state.runtime.bus.deliver(verified(merchant_id, user["id"]))
    return merchant_id, bearer(await accounts.login(email, client_id="merchant-portal"))


async def test_merchant_verified_makes_the_applicant_owner_once(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await accounts.register("olga@example.com")
    merchant_id = uuid4()
    event = verified(merchant_id, user["id"])
    consumer = auth_app.state.consumers["merchant.verified"]
    assert await consumer(event) is True
    assert await consumer(event) is False  # a redelivery changes nothing

    token = await accounts.login("olga@example.com", client_id="merchant-portal")
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert me["memberships"] == [{"merchant_id": str(merchant_id), "role": "owner"}]


async def test_owner_adds_lists_and_removes_staff(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient
) -> None:
    merchant_id, owner = await owner_of_new_merchant(accounts, auth_app, "pia@example.com")
    staff = await accounts.register("sam@example.com")
    members_url = f"/api/v1/auth/merchants/{merchant_id}/members"

    added = await client.post(
        members_url, json={"email": "SAM@example.com", "role": "staff"}, headers=owner
    )
    assert added.status_code == 201
    assert added.json() == {"user_id": staff["id"], "email": "sam@example.com", "role": "staff"}

    again = await client.post(members_url, json={"email": "sam@example.com"}, headers=owner)
    assert again.status_code == 409
    assert again.json()["code"] == "already_member"

    listed = (await client.get(members_url, headers=owner)).json()
    assert [(m["email"], m["role"]) for m in listed["items"]] == [
        ("pia@example.com", "owner"),
        ("sam@example.com", "staff"),
    ]
    assert listed["next_cursor"] is None
    first = (await client.get(members_url, params={"limit": 1}, headers=owner)).json()
    assert [m["email"] for m in first["items"]] == ["pia@example.com"]
    second = (
        await client.get(
            members_url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=owner
        )
    ).json()
    assert [m["email"] for m in second["items"]] == ["sam@example.com"]
    assert second["next_cursor"] is None

    staff_token = await accounts.login("sam@example.com", client_id="merchant-portal")
    assert {"merchant_id": str(merchant_id), "role": "staff"} in (
        await client.get("/api/v1/auth/me", headers=bearer(staff_token))
    ).json()["memberships"]
    # Staff cannot manage members.
    assert (await client.get(members_url, headers=bearer(staff_token))).status_code == 403

    removed = await client.delete(f"{members_url}/{staff['id']}", headers=owner)
    assert removed.status_code == 204
    gone = await client.delete(f"{members_url}/{staff['id']}", headers=owner)
    assert gone.status_code == 404
    assert gone.json()["code"] == "member_not_found"


async def test_member_errors(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    merchant_id, owner = await owner_of_new_merchant(accounts, auth_app, "quin@example.com")
    members_url = f"/api/v1/auth/merchants/{merchant_id}/members"
    unknown = await client.post(members_url, json={"email": "ghost@example.com"}, headers=owner)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "user_not_found"

    as_owner = await client.post(
        members_url, json={"email": "quin@example.com", "role": "owner"}, headers=owner
    )
    assert as_owner.status_code == 422

    me = (await client.get("/api/v1/auth/me", headers=owner)).json()
    owner_removal = await client.delete(f"{members_url}/{me['id']}", headers=owner)
    assert owner_removal.status_code == 409
    assert owner_removal.json()["code"] == "owner_not_removable"

    # Another merchant's owner, and a token merely claiming ownership, get 403.
    _, other_owner = await owner_of_new_merchant(accounts, auth_app, "rex@example.com")
    assert (await client.get(members_url, headers=other_owner)).status_code == 403
    forged_claim = tokens.token(memberships=((merchant_id, "owner"),))
    assert (await client.get(members_url, headers=bearer(forged_claim))).status_code == 403
    # Admins may manage any merchant.
    assert (await client.get(members_url, headers=bearer(tokens.admin()))).status_code == 200


async def test_owner_creates_a_partner_client_that_gets_tokens(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient
) -> None:
    merchant_id, owner = await owner_of_new_merchant(accounts, auth_app, "tia@example.com")
    created = await client.post(
        "/api/v1/auth/clients",
        json={"name": "Till system", "merchant_id": str(merchant_id), "scopes": ["coupons:redeem"]},
        headers=owner,
    )
    assert created.status_code == 201
    partner = created.json()
    assert partner["scopes"] == ["coupons:redeem"]
    assert partner["client_id"].startswith("partner-")

    basic = base64.b64encode(f"{partner['client_id']}:{partner['client_secret']}".encode())
    token = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert token.status_code == 200
    body = token.json()
    assert body["scope"] == "coupons:redeem"
    assert "refresh_token" not in body

    form_auth = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": partner["client_id"],
            "client_secret": partner["client_secret"],
        },
    )
    assert form_auth.status_code == 200
    wrong = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": partner["client_id"],
            "client_secret": "guess",
        },
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    # A partner client has no user grants.
    no_password = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "tia@example.com",
            "password": "correct horse battery",
            "client_id": partner["client_id"],
            "client_secret": partner["client_secret"],
        },
    )
    assert no_password.status_code == 400
    assert no_password.json()["error"] == "unauthorized_client"


async def test_partner_token_carries_the_partner_membership(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient
) -> None:
    merchant_id, owner = await owner_of_new_merchant(accounts, auth_app, "uma@example.com")
    partner = (
        await client.post(
            "/api/v1/auth/clients",
            json={
                "name": "POS",
                "merchant_id": str(merchant_id),
                "scopes": ["coupons:read", "coupons:redeem"],
            },
            headers=owner,
        )
    ).json()
    token = (
        await client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": partner["client_id"],
                "client_secret": partner["client_secret"],
                "scope": "coupons:redeem",
            },
        )
    ).json()["access_token"]
    principal = auth_app.state.runtime.verifier.verify(token)
    assert principal.subject == partner["client_id"]
    assert principal.merchant_role(merchant_id) == "partner"
    assert principal.scopes == {"coupons:redeem"}
    assert principal.user_id is None
    # A client token has no user profile.
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 403


async def test_client_creation_rules(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    merchant_id, owner = await owner_of_new_merchant(accounts, auth_app, "val@example.com")
    admin_scope = await client.post(
        "/api/v1/auth/clients",
        json={"name": "Sneaky", "merchant_id": str(merchant_id), "scopes": ["admin"]},
        headers=owner,
    )
    assert admin_scope.status_code == 422
    assert admin_scope.json()["code"] == "invalid_scope"
    other_merchant = await client.post(
        "/api/v1/auth/clients",
        json={"name": "Else", "merchant_id": str(uuid4()), "scopes": ["coupons:read"]},
        headers=owner,
    )
    assert other_merchant.status_code == 403
    by_admin = await client.post(
        "/api/v1/auth/clients",
        json={"name": "Ops", "merchant_id": str(uuid4()), "scopes": ["coupons:read"]},
        headers=bearer(tokens.admin()),
    )
    assert by_admin.status_code == 201
    assert by_admin.headers["cache-control"] == "no-store"


async def test_members_and_partner_clients_over_graphql(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The REST operations' GraphQL twins: same names, same page, same refusals."""
    merchant_id, owner = await owner_of_new_merchant(accounts, auth_app, "gia@example.com")
    await accounts.register("gus@example.com")

    async def gql(query: str, headers: dict[str, str], **variables: object) -> dict[str, Any]:
        response = await client.post(
            "/graphql/auth", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    added = await gql(
        """mutation ($m: UUID!) {
          addMember(merchantId: $m, input: {email: "gus@example.com"}) { email role }
        }""",
        owner,
        m=str(merchant_id),
    )
    assert added["data"]["addMember"] == {"email": "gus@example.com", "role": "STAFF"}
    page = await gql(
        "query ($m: UUID!) { members(merchantId: $m, limit: 1) { items { email } nextCursor } }",
        owner,
        m=str(merchant_id),
    )
    assert page["data"]["members"]["items"] == [{"email": "gia@example.com"}]
    assert page["data"]["members"]["nextCursor"]
    created = await gql(
        """mutation ($m: UUID!) {
          createPartnerClient(
            input: {name: "Till", merchantId: $m, scopes: ["coupons:redeem"]}
          ) { clientId clientSecret scopes }
        }""",
        owner,
        m=str(merchant_id),
    )
    assert created["data"]["createPartnerClient"]["scopes"] == ["coupons:redeem"]
    assert created["data"]["createPartnerClient"]["clientSecret"]
    staff = bearer(await accounts.login("gus@example.com", client_id="merchant-portal"))
    refused = await gql(
        "query ($m: UUID!) { members(merchantId: $m) { items { email } } }",
        staff,
        m=str(merchant_id),
    )
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"
