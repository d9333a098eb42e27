"""A merchant's outlets over HTTP: the owner manages them, anyone lists a verified one's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from devstack.testing.api import MerchantsApi, bearer
from devstack.testing.tokens import TestTokens

OUTLET = {
    "name": "Station kiosk",
    "address": "Bahnhofplatz 1",
    "latitude": 52.52,
    "longitude": 13.4,
}


def outlets_of(merchant: dict[str, Any]) -> str:
    return f"/api/v1/merchants/{merchant['id']}/outlets"


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_the_owner_adds_an_outlet(
    client: httpx.AsyncClient, verified: dict[str, Any], owner: str
) -> None:
    response = await client.post(outlets_of(verified), json=OUTLET, headers=bearer(owner))
    assert response.status_code == 201, response.text
    outlet = response.json()
    assert outlet["merchant_id"] == verified["id"]
    assert {k: outlet[k] for k in OUTLET} == OUTLET
    assert UUID(outlet["id"])
    assert outlet["created_at"] == outlet["updated_at"]


async def test_an_outlet_needs_no_position(
    api: MerchantsApi, verified: dict[str, Any], owner: str
) -> None:
    outlet = await api.create_outlet(owner, verified["id"])
    assert (outlet["latitude"], outlet["longitude"]) == (None, None)


async def test_only_the_owner_adds_outlets(
    client: httpx.AsyncClient,
    verified: dict[str, Any],
    applicant: str,
    admin: str,
    stranger: str,
    owner_token_for: Callable[[str], str],
    tokens: TestTokens,
) -> None:
    path = outlets_of(verified)
    for caller in (stranger, admin, applicant, owner_token_for(str(uuid4()))):
        assert_problem(
            await client.post(path, json=OUTLET, headers=bearer(caller)), 403, "forbidden"
        )
    staff = tokens.token(memberships=((UUID(verified["id"]), "staff"),))
    assert_problem(await client.post(path, json=OUTLET, headers=bearer(staff)), 403, "forbidden")
    reader = tokens.token(scope="coupons:read", memberships=((UUID(verified["id"]), "owner"),))
    assert_problem(await client.post(path, json=OUTLET, headers=bearer(reader)), 403, "forbidden")
    assert_problem(await client.post(path, json=OUTLET), 401, "unauthenticated")


async def test_outlets_wait_for_verification(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    applicant: str,
    stranger: str,
    owner_token_for: Callable[[str], str],
) -> None:
    path = outlets_of(pending)
    # The applicant sees the application but is no owner until svc-auth makes them one.
    assert_problem(
        await client.post(path, json=OUTLET, headers=bearer(applicant)), 403, "forbidden"
    )
    owner = owner_token_for(pending["id"])
    response = await client.post(path, json=OUTLET, headers=bearer(owner))
    assert_problem(response, 409, "merchant_not_verified")
    response = await client.post(path, json=OUTLET, headers=bearer(stranger))
    assert_problem(response, 404, "merchant_not_found")
    response = await client.post(
        f"/api/v1/merchants/{uuid4()}/outlets", json=OUTLET, headers=bearer(owner)
    )
    assert_problem(response, 404, "merchant_not_found")


async def test_a_suspended_merchants_outlets_are_frozen(
    client: httpx.AsyncClient, api: MerchantsApi, verified: dict[str, Any], owner: str, admin: str
) -> None:
    outlet = await api.create_outlet(owner, verified["id"])
    await client.post(
        f"/api/v1/merchants/{verified['id']}/suspend", json={"reason": "x"}, headers=bearer(admin)
    )
    path = outlets_of(verified)
    for response in (
        await client.post(path, json=OUTLET, headers=bearer(owner)),
        await client.patch(f"{path}/{outlet['id']}", json={"name": "N"}, headers=bearer(owner)),
        await client.delete(f"{path}/{outlet['id']}", headers=bearer(owner)),
    ):
        assert_problem(response, 409, "merchant_not_verified")
    # Its owner still sees them; the public does not.
    listed = await client.get(path, headers=bearer(owner))
    assert [o["id"] for o in listed.json()["items"]] == [outlet["id"]]
    assert_problem(await client.get(path), 404, "merchant_not_found")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"latitude": 90.5}, "invalid_coordinates"),
        ({"longitude": -181}, "invalid_coordinates"),
        ({"longitude": None}, "invalid_coordinates"),
        ({"latitude": None, "longitude": 10}, "invalid_coordinates"),
        ({"latitude": "north"}, "invalid_input"),
        ({"name": ""}, "invalid_input"),
        ({"address": "x" * 301}, "invalid_input"),
        ({"merchant_id": str(uuid4())}, "invalid_input"),
    ],
)
async def test_an_outlet_is_validated(
    client: httpx.AsyncClient,
    verified: dict[str, Any],
    owner: str,
    change: dict[str, Any],
    code: str,
) -> None:
    response = await client.post(
        outlets_of(verified), json={**OUTLET, **change}, headers=bearer(owner)
    )
    assert_problem(response, 422, code)


async def test_the_outlet_limit_holds(
    client: httpx.AsyncClient, api: MerchantsApi, verified: dict[str, Any], owner: str
) -> None:
    for _ in range(3):  # the test settings allow three
        await api.create_outlet(owner, verified["id"])
    response = await client.post(outlets_of(verified), json=OUTLET, headers=bearer(owner))
    assert_problem(response, 409, "outlet_limit_reached")


async def test_anyone_lists_a_verified_merchants_outlets_page_by_page(
    client: httpx.AsyncClient, api: MerchantsApi, verified: dict[str, Any], owner: str
) -> None:
    created = [
        (await api.create_outlet(owner, verified["id"], name=f"O{n}"))["id"] for n in range(3)
    ]
    first = (await client.get(outlets_of(verified), params={"limit": 2})).json()
    assert [o["id"] for o in first["items"]] == created[:2]
    second = (
        await client.get(outlets_of(verified), params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [o["id"] for o in second["items"]] == created[2:]
    assert second["next_cursor"] is None
    response = await client.get(outlets_of(verified), params={"limit": 101})
    assert_problem(response, 422, "invalid_input")


async def test_a_pending_merchants_outlets_are_hidden_from_others(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    applicant: str,
    admin: str,
    stranger: str,
) -> None:
    path = outlets_of(pending)
    assert_problem(await client.get(path), 404, "merchant_not_found")
    assert_problem(await client.get(path, headers=bearer(stranger)), 404, "merchant_not_found")
    for allowed in (applicant, admin):
        response = await client.get(path, headers=bearer(allowed))
        assert response.json() == {"items": [], "next_cursor": None}
    assert_problem(
        await client.get(f"/api/v1/merchants/{uuid4()}/outlets"), 404, "merchant_not_found"
    )


async def test_the_owner_changes_an_outlet(
    client: httpx.AsyncClient,
    api: MerchantsApi,
    verified: dict[str, Any],
    owner: str,
    published: list[Any],
) -> None:
    outlet = await api.create_outlet(owner, verified["id"], **OUTLET)
    path = f"{outlets_of(verified)}/{outlet['id']}"
    response = await client.patch(path, json={"name": "Platform kiosk"}, headers=bearer(owner))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Platform kiosk"
    assert changed["address"] == OUTLET["address"]
    assert changed["latitude"] == OUTLET["latitude"]
    response = await client.patch(
        path, json={"latitude": None, "longitude": None}, headers=bearer(owner)
    )
    assert (response.json()["latitude"], response.json()["longitude"]) == (None, None)
    assert [e.type for e in published][-2:] == ["outlet.updated", "outlet.updated"]
    assert published[-2].data == {
        "merchant_id": verified["id"],
        "outlet_id": outlet["id"],
        "changed": {"name": "Platform kiosk"},
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": None}, "invalid_input"),
        ({"address": None}, "invalid_input"),
        ({"latitude": None}, "invalid_coordinates"),
        ({"longitude": 200}, "invalid_coordinates"),
    ],
)
async def test_an_outlet_change_is_validated(
    client: httpx.AsyncClient,
    api: MerchantsApi,
    verified: dict[str, Any],
    owner: str,
    change: dict[str, Any],
    code: str,
) -> None:
    outlet = await api.create_outlet(owner, verified["id"], **OUTLET)
    response = await client.patch(
        f"{outlets_of(verified)}/{outlet['id']}", json=change, headers=bearer(owner)
    )
    assert_problem(response, 422, code)


async def test_outlets_are_changed_only_by_their_merchants_owner(
    client: httpx.AsyncClient,
    api: MerchantsApi,
    verified: dict[str, Any],
    owner: str,
    admin: str,
    stranger: str,
    applicant: str,
    owner_token_for: Callable[[str], str],
) -> None:
    outlet = await api.create_outlet(owner, verified["id"])
    path = f"{outlets_of(verified)}/{outlet['id']}"
    for caller in (stranger, admin, owner_token_for(str(uuid4()))):
        response = await client.patch(path, json={"name": "Mine"}, headers=bearer(caller))
        assert_problem(response, 403, "forbidden")
        assert_problem(await client.delete(path, headers=bearer(caller)), 403, "forbidden")
    assert_problem(await client.patch(path, json={"name": "Mine"}), 401, "unauthenticated")
    assert_problem(await client.delete(path), 401, "unauthenticated")

    # Another verified merchant's owner cannot reach this outlet through their own merchant.
    other = await api.apply(applicant, name="Other")
    await api.verify(admin, other["id"])
    other_owner = owner_token_for(other["id"])
    response = await client.patch(
        f"{outlets_of(other)}/{outlet['id']}", json={"name": "Mine"}, headers=bearer(other_owner)
    )
    assert_problem(response, 404, "outlet_not_found")
    response = await client.delete(
        f"{outlets_of(other)}/{outlet['id']}", headers=bearer(other_owner)
    )
    assert_problem(response, 404, "outlet_not_found")
    listed = await client.get(outlets_of(verified))
    assert [o["name"] for o in listed.json()["items"]] == [outlet["name"]]


async def test_the_owner_deletes_an_outlet(
    client: httpx.AsyncClient,
    api: MerchantsApi,
    verified: dict[str, Any],
    owner: str,
    published: list[Any],
) -> None:
    outlet = await api.create_outlet(owner, verified["id"])
    path = f"{outlets_of(verified)}/{outlet['id']}"
    response = await client.delete(path, headers=bearer(owner))
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(outlets_of(verified))).json()["items"] == []
    assert published[-1].type == "outlet.deleted"
    assert published[-1].data == {"merchant_id": verified["id"], "outlet_id": outlet["id"]}
    assert_problem(await client.delete(path, headers=bearer(owner)), 404, "outlet_not_found")
    response = await client.patch(path, json={"name": "Back"}, headers=bearer(owner))
    assert_problem(response, 404, "outlet_not_found")
