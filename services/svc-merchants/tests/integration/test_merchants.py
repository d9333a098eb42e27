"""The merchant routes over HTTP: apply, read, list, change, verify, suspend, reinstate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from devstack.testing.api import MerchantsApi, bearer
from devstack.testing.tokens import TestTokens

MERCHANTS = "/api/v1/merchants"
APPLICATION = {
    "name": "Corner Bakery",
    "country": "DE",
    "currency": "EUR",
    "timezone": "Europe/Berlin",
}


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert {"type", "title", "status", "detail"} <= set(body)


# -- apply -------------------------------------------------------------------------------


async def test_apply_creates_a_pending_merchant_owned_by_the_caller(
    client: httpx.AsyncClient, applicant: str, applicant_id: UUID
) -> None:
    response = await client.post(
        MERCHANTS, json={**APPLICATION, "category": " bakery "}, headers=bearer(applicant)
    )
    assert response.status_code == 201, response.text
    merchant = response.json()
    assert merchant["status"] == "pending"
    assert merchant["owner_user_id"] == str(applicant_id)
    assert merchant["category"] == "bakery"
    assert {k: merchant[k] for k in APPLICATION} == APPLICATION
    assert {"id", "created_at", "updated_at", "verified_at", "suspended_at"} <= set(merchant)
    assert merchant["created_at"].endswith(("+00:00", "Z"))
    assert merchant["verified_at"] is None


async def test_apply_normalises_country_and_currency(api: MerchantsApi, applicant: str) -> None:
    merchant = await api.apply(applicant, country="fr", currency=" eur ")
    assert (merchant["country"], merchant["currency"]) == ("FR", "EUR")


async def test_apply_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(MERCHANTS, json=APPLICATION), 401, "unauthenticated")


async def test_apply_refuses_a_malformed_token(client: httpx.AsyncClient) -> None:
    response = await client.post(MERCHANTS, json=APPLICATION, headers=bearer("not-a-jwt"))
    assert_problem(response, 401, "unauthenticated")


async def test_apply_refuses_a_client_token(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    partner = tokens.token(subject="partner-0123", client_id="partner-0123", roles=())
    response = await client.post(MERCHANTS, json=APPLICATION, headers=bearer(partner))
    assert_problem(response, 403, "forbidden")


async def test_apply_needs_the_merchants_write_scope(
    client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    reader = tokens.token(scope="coupons:read")
    response = await client.post(MERCHANTS, json=APPLICATION, headers=bearer(reader))
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("country", "XX", "invalid_country"),
        ("country", "DEU", "invalid_country"),
        ("currency", "EU1", "invalid_currency"),
        ("currency", "EURO", "invalid_currency"),
        ("timezone", "Mars/Olympus_Mons", "invalid_timezone"),
        ("timezone", "../etc/passwd", "invalid_timezone"),
        ("name", "", "invalid_input"),
        ("name", "x" * 101, "invalid_input"),
        ("category", "", "invalid_input"),
    ],
)
async def test_apply_refuses_invalid_fields(
    client: httpx.AsyncClient, applicant: str, field: str, value: str, code: str
) -> None:
    response = await client.post(
        MERCHANTS, json={**APPLICATION, field: value}, headers=bearer(applicant)
    )
    assert_problem(response, 422, code)


async def test_apply_refuses_missing_and_unknown_fields(
    client: httpx.AsyncClient, applicant: str
) -> None:
    missing = {k: v for k, v in APPLICATION.items() if k != "timezone"}
    assert_problem(
        await client.post(MERCHANTS, json=missing, headers=bearer(applicant)), 422, "invalid_input"
    )
    unknown = {**APPLICATION, "status": "verified"}
    assert_problem(
        await client.post(MERCHANTS, json=unknown, headers=bearer(applicant)), 422, "invalid_input"
    )


async def test_apply_with_an_idempotency_key_is_answered_once(
    client: httpx.AsyncClient, applicant: str, published: list[Any]
) -> None:
    headers = {**bearer(applicant), "Idempotency-Key": "apply-once"}
    first = await client.post(MERCHANTS, json=APPLICATION, headers=headers)
    again = await client.post(MERCHANTS, json=APPLICATION, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    mine = await client.get(MERCHANTS, params={"mine": "true"}, headers=bearer(applicant))
    assert [m["id"] for m in mine.json()["items"]] == [first.json()["id"]]
    assert [e.type for e in published] == ["merchant.applied"]

    changed = await client.post(MERCHANTS, json={**APPLICATION, "name": "Another"}, headers=headers)
    assert_problem(changed, 422, "idempotency_key_reused")


async def test_an_idempotency_key_is_per_caller(
    client: httpx.AsyncClient, applicant: str, stranger: str
) -> None:
    first = await client.post(
        MERCHANTS, json=APPLICATION, headers={**bearer(applicant), "Idempotency-Key": "k1"}
    )
    other = await client.post(
        MERCHANTS, json=APPLICATION, headers={**bearer(stranger), "Idempotency-Key": "k1"}
    )
    assert first.status_code == other.status_code == 201
    assert first.json()["id"] != other.json()["id"]


# -- get -----------------------------------------------------------------------------------


async def test_anyone_sees_a_verified_merchant(
    client: httpx.AsyncClient, verified: dict[str, Any], stranger: str
) -> None:
    for headers in ({}, bearer(stranger)):
        response = await client.get(f"{MERCHANTS}/{verified['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json()["status"] == "verified"
        assert response.json()["verified_at"] is not None


async def test_a_pending_merchant_is_seen_by_its_applicant_and_admins_only(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    applicant: str,
    admin: str,
    stranger: str,
    owner_token_for: Callable[[str], str],
    tokens: TestTokens,
) -> None:
    path = f"{MERCHANTS}/{pending['id']}"
    for allowed in (applicant, admin):
        response = await client.get(path, headers=bearer(allowed))
        assert response.status_code == 200
        assert response.json() == pending
    assert_problem(await client.get(path), 404, "merchant_not_found")
    assert_problem(await client.get(path, headers=bearer(stranger)), 404, "merchant_not_found")
    another_owner = owner_token_for(str(uuid4()))
    response = await client.get(path, headers=bearer(another_owner))
    assert_problem(response, 404, "merchant_not_found")
    # An admin role without the admin scope (a customer-portal token) is no admin.
    half_admin = tokens.token(roles=("admin", "customer"))
    assert_problem(await client.get(path, headers=bearer(half_admin)), 404, "merchant_not_found")


async def test_an_unknown_merchant_is_404_and_a_malformed_id_422(
    client: httpx.AsyncClient, admin: str
) -> None:
    response = await client.get(f"{MERCHANTS}/{uuid4()}", headers=bearer(admin))
    assert_problem(response, 404, "merchant_not_found")
    assert_problem(await client.get(f"{MERCHANTS}/not-a-uuid"), 422, "invalid_input")


# -- list ----------------------------------------------------------------------------------


async def test_the_list_shows_verified_merchants_only(
    client: httpx.AsyncClient, pending: dict[str, Any], verified: dict[str, Any], admin: str
) -> None:
    for headers in ({}, bearer(admin)):
        response = await client.get(MERCHANTS, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert [m["id"] for m in body["items"]] == [verified["id"]]
        assert body["next_cursor"] is None


async def test_the_list_pages_with_a_cursor(
    client: httpx.AsyncClient, api: MerchantsApi, applicant: str, admin: str
) -> None:
    ids = []
    for number in range(5):
        merchant = await api.apply(applicant, name=f"Shop {number}")
        ids.append((await api.verify(admin, merchant["id"]))["id"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await client.get(MERCHANTS, params=params)).json()
        assert len(body["items"]) <= 2
        seen += [m["id"] for m in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3


async def test_the_list_limits_are_checked(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(MERCHANTS, params={"limit": 101}), 422, "invalid_input")
    assert_problem(await client.get(MERCHANTS, params={"limit": 0}), 422, "invalid_input")
    response = await client.get(MERCHANTS, params={"cursor": "garbage"})
    assert_problem(response, 422, "invalid_cursor")
    assert (await client.get(MERCHANTS, params={"limit": 100})).status_code == 200


async def test_admins_filter_the_list_by_status(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    verified: dict[str, Any],
    admin: str,
    stranger: str,
) -> None:
    response = await client.get(MERCHANTS, params={"status": "pending"}, headers=bearer(admin))
    assert [m["id"] for m in response.json()["items"]] == [pending["id"]]
    response = await client.get(MERCHANTS, params={"status": "verified"}, headers=bearer(stranger))
    assert [m["id"] for m in response.json()["items"]] == [verified["id"]]
    response = await client.get(MERCHANTS, params={"status": "pending"}, headers=bearer(stranger))
    assert_problem(response, 403, "forbidden")
    response = await client.get(MERCHANTS, params={"status": "pending"})
    assert_problem(response, 401, "unauthenticated")
    response = await client.get(MERCHANTS, params={"status": "closed"}, headers=bearer(admin))
    assert_problem(response, 422, "invalid_input")


async def test_users_list_their_own_applications(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    verified: dict[str, Any],
    applicant: str,
    stranger: str,
) -> None:
    response = await client.get(MERCHANTS, params={"mine": "true"}, headers=bearer(applicant))
    assert [m["id"] for m in response.json()["items"]] == [pending["id"], verified["id"]]
    response = await client.get(
        MERCHANTS, params={"mine": "true", "status": "pending"}, headers=bearer(applicant)
    )
    assert [m["id"] for m in response.json()["items"]] == [pending["id"]]
    response = await client.get(MERCHANTS, params={"mine": "true"}, headers=bearer(stranger))
    assert response.json() == {"items": [], "next_cursor": None}
    assert_problem(await client.get(MERCHANTS, params={"mine": "true"}), 401, "unauthenticated")


# -- patch ---------------------------------------------------------------------------------


async def test_the_applicant_edits_a_pending_application(
    client: httpx.AsyncClient, pending: dict[str, Any], applicant: str, published: list[Any]
) -> None:
    response = await client.patch(
        f"{MERCHANTS}/{pending['id']}",
        json={"name": "Pending Pastries", "timezone": "Europe/Paris", "category": "food"},
        headers=bearer(applicant),
    )
    assert response.status_code == 200, response.text
    merchant = response.json()
    assert (merchant["name"], merchant["timezone"], merchant["category"]) == (
        "Pending Pastries",
        "Europe/Paris",
        "food",
    )
    assert merchant["country"] == pending["country"]
    updated_at = datetime.fromisoformat(merchant["updated_at"])
    assert updated_at > datetime.fromisoformat(pending["updated_at"])
    [event] = published
    assert event.type == "merchant.updated"
    assert event.data == {
        "merchant_id": pending["id"],
        "changed": {"name": "Pending Pastries", "timezone": "Europe/Paris", "category": "food"},
    }


async def test_a_patch_that_changes_nothing_writes_no_event(
    client: httpx.AsyncClient, pending: dict[str, Any], applicant: str, published: list[Any]
) -> None:
    response = await client.patch(
        f"{MERCHANTS}/{pending['id']}", json={"name": pending["name"]}, headers=bearer(applicant)
    )
    assert response.status_code == 200
    assert response.json() == pending
    assert published == []


async def test_category_is_cleared_with_null(
    client: httpx.AsyncClient, api: MerchantsApi, applicant: str
) -> None:
    merchant = await api.apply(applicant, category="cafe")
    response = await client.patch(
        f"{MERCHANTS}/{merchant['id']}", json={"category": None}, headers=bearer(applicant)
    )
    assert response.json()["category"] is None


async def test_owner_and_admin_edit_a_verified_merchant(
    client: httpx.AsyncClient, verified: dict[str, Any], owner: str, admin: str
) -> None:
    path = f"{MERCHANTS}/{verified['id']}"
    response = await client.patch(path, json={"currency": "chf"}, headers=bearer(owner))
    assert response.status_code == 200
    assert response.json()["currency"] == "CHF"
    response = await client.patch(path, json={"country": "CH"}, headers=bearer(admin))
    assert response.status_code == 200
    assert response.json()["country"] == "CH"


async def test_others_may_not_edit_a_merchant(
    client: httpx.AsyncClient,
    verified: dict[str, Any],
    pending: dict[str, Any],
    applicant: str,
    stranger: str,
    owner_token_for: Callable[[str], str],
) -> None:
    verified_path = f"{MERCHANTS}/{verified['id']}"
    change = {"name": "Hijacked"}
    response = await client.patch(verified_path, json=change, headers=bearer(stranger))
    assert_problem(response, 403, "forbidden")
    another_owner = owner_token_for(str(uuid4()))
    response = await client.patch(verified_path, json=change, headers=bearer(another_owner))
    assert_problem(response, 403, "forbidden")
    # Verified: the applicant acts as owner once their token carries the membership.
    response = await client.patch(verified_path, json=change, headers=bearer(applicant))
    assert_problem(response, 403, "forbidden")
    assert_problem(await client.patch(verified_path, json=change), 401, "unauthenticated")
    # Someone else's pending application does not exist for a stranger.
    response = await client.patch(
        f"{MERCHANTS}/{pending['id']}", json=change, headers=bearer(stranger)
    )
    assert_problem(response, 404, "merchant_not_found")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": None}, "invalid_input"),
        ({"country": None}, "invalid_input"),
        ({"owner_user_id": str(uuid4())}, "invalid_input"),
        ({"status": "verified"}, "invalid_input"),
        ({"country": "ZZ"}, "invalid_country"),
        ({"currency": "12A"}, "invalid_currency"),
        ({"timezone": "Europe/Atlantis"}, "invalid_timezone"),
    ],
)
async def test_a_patch_is_validated(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    applicant: str,
    change: dict[str, Any],
    code: str,
) -> None:
    response = await client.patch(
        f"{MERCHANTS}/{pending['id']}", json=change, headers=bearer(applicant)
    )
    assert_problem(response, 422, code)


async def test_patching_an_unknown_merchant_is_404(client: httpx.AsyncClient, admin: str) -> None:
    response = await client.patch(
        f"{MERCHANTS}/{uuid4()}", json={"name": "X"}, headers=bearer(admin)
    )
    assert_problem(response, 404, "merchant_not_found")


# -- verify, suspend, reinstate ------------------------------------------------------------


async def test_an_admin_verifies_a_pending_merchant_once(
    client: httpx.AsyncClient, pending: dict[str, Any], admin: str
) -> None:
    path = f"{MERCHANTS}/{pending['id']}/verify"
    response = await client.post(path, headers=bearer(admin))
    assert response.status_code == 200
    merchant = response.json()
    assert merchant["status"] == "verified"
    assert merchant["verified_at"] is not None
    assert merchant["owner_user_id"] == pending["owner_user_id"]
    assert_problem(await client.post(path, headers=bearer(admin)), 409, "invalid_transition")


async def test_only_admins_verify(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    applicant: str,
    tokens: TestTokens,
) -> None:
    path = f"{MERCHANTS}/{pending['id']}/verify"
    assert_problem(await client.post(path, headers=bearer(applicant)), 403, "forbidden")
    half_admin = tokens.token(roles=("admin", "customer"))
    assert_problem(await client.post(path, headers=bearer(half_admin)), 403, "forbidden")
    assert_problem(await client.post(path), 401, "unauthenticated")
    response = await client.get(f"{MERCHANTS}/{pending['id']}", headers=bearer(applicant))
    assert response.json()["status"] == "pending"


async def test_verifying_an_unknown_merchant_is_404(client: httpx.AsyncClient, admin: str) -> None:
    response = await client.post(f"{MERCHANTS}/{uuid4()}/verify", headers=bearer(admin))
    assert_problem(response, 404, "merchant_not_found")


async def test_an_admin_suspends_a_verified_merchant(
    client: httpx.AsyncClient, verified: dict[str, Any], admin: str, owner: str
) -> None:
    path = f"{MERCHANTS}/{verified['id']}"
    response = await client.post(
        f"{path}/suspend", json={"reason": " Fraud reports "}, headers=bearer(admin)
    )
    assert response.status_code == 200
    merchant = response.json()
    assert merchant["status"] == "suspended"
    assert merchant["suspension_reason"] == "Fraud reports"
    assert merchant["suspended_at"] is not None
    # Hidden from the public, still visible to its owner and admins.
    assert_problem(await client.get(path), 404, "merchant_not_found")
    assert (await client.get(path, headers=bearer(owner))).json()["status"] == "suspended"
    assert (await client.get(MERCHANTS)).json()["items"] == []
    response = await client.post(f"{path}/suspend", json={"reason": "again"}, headers=bearer(admin))
    assert_problem(response, 409, "invalid_transition")


async def test_suspension_rules(
    client: httpx.AsyncClient, pending: dict[str, Any], verified: dict[str, Any], admin: str
) -> None:
    response = await client.post(
        f"{MERCHANTS}/{pending['id']}/suspend", json={"reason": "spam"}, headers=bearer(admin)
    )
    assert_problem(response, 409, "invalid_transition")
    path = f"{MERCHANTS}/{verified['id']}/suspend"
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}):
        assert_problem(
            await client.post(path, json=body, headers=bearer(admin)), 422, "invalid_input"
        )
    response = await client.post(
        f"{MERCHANTS}/{uuid4()}/suspend", json={"reason": "spam"}, headers=bearer(admin)
    )
    assert_problem(response, 404, "merchant_not_found")


async def test_only_admins_suspend(
    client: httpx.AsyncClient, verified: dict[str, Any], owner: str
) -> None:
    path = f"{MERCHANTS}/{verified['id']}/suspend"
    response = await client.post(path, json={"reason": "mine"}, headers=bearer(owner))
    assert_problem(response, 403, "forbidden")
    assert_problem(await client.post(path, json={"reason": "x"}), 401, "unauthenticated")


async def test_an_admin_reinstates_a_suspended_merchant(
    client: httpx.AsyncClient, verified: dict[str, Any], admin: str, owner: str
) -> None:
    path = f"{MERCHANTS}/{verified['id']}"
    response = await client.post(f"{path}/reinstate", headers=bearer(admin))
    assert_problem(response, 409, "invalid_transition")
    await client.post(f"{path}/suspend", json={"reason": "checks"}, headers=bearer(admin))
    assert_problem(await client.post(f"{path}/reinstate", headers=bearer(owner)), 403, "forbidden")
    response = await client.post(f"{path}/reinstate", headers=bearer(admin))
    assert response.status_code == 200
    merchant = response.json()
    assert merchant["status"] == "verified"
    assert merchant["suspension_reason"] is None
    assert merchant["suspended_at"] is None
    assert (await client.get(path)).status_code == 200
