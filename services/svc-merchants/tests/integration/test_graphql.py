"""GraphQL at /graphql/merchants: the same service calls, errors with extensions.code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import httpx

from core.events import DomainEvent
from devstack.testing.api import MerchantsApi, bearer

GRAPHQL = "/graphql/merchants"
MERCHANT_FIELDS = "id name status ownerUserId country currency timezone category createdAt"
OUTLET_FIELDS = "id merchantId name address latitude longitude"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    response = await client.post(
        GRAPHQL,
        json={"query": query, "variables": variables or {}},
        headers=bearer(token) if token else {},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str:
    assert body.get("data") is None or not any(body["data"].values()), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


APPLY = f"""
mutation Apply($input: ApplyForMerchantInput!) {{
  applyForMerchant(input: $input) {{ {MERCHANT_FIELDS} }}
}}
"""
APPLICATION = {"name": "Graph Grocer", "country": "nl", "currency": "EUR", "timezone": "UTC"}


async def test_apply_and_read_back(
    client: httpx.AsyncClient, applicant: str, applicant_id: UUID
) -> None:
    body = await gql(client, APPLY, {"input": APPLICATION}, applicant)
    merchant = body["data"]["applyForMerchant"]
    assert merchant["status"] == "PENDING"
    assert merchant["country"] == "NL"
    assert merchant["ownerUserId"] == str(applicant_id)
    query = f"query($id: UUID!) {{ merchant(id: $id) {{ {MERCHANT_FIELDS} }} }}"
    read = await gql(client, query, {"id": merchant["id"]}, applicant)
    assert read["data"]["merchant"] == merchant
    hidden = await gql(client, query, {"id": merchant["id"]})
    assert error_code(hidden) == "merchant_not_found"


async def test_apply_errors_carry_their_codes(client: httpx.AsyncClient, applicant: str) -> None:
    assert error_code(await gql(client, APPLY, {"input": APPLICATION})) == "unauthenticated"
    bad_country = {"input": {**APPLICATION, "country": "QQ"}}
    assert error_code(await gql(client, APPLY, bad_country, applicant)) == "invalid_country"
    bad_zone = {"input": {**APPLICATION, "timezone": "Nowhere/Town"}}
    assert error_code(await gql(client, APPLY, bad_zone, applicant)) == "invalid_timezone"
    blank = {"input": {**APPLICATION, "name": " "}}
    assert error_code(await gql(client, APPLY, blank, applicant)) == "invalid_input"
    mine = await gql(client, "{ merchants(mine: true) { items { id } } }", token=applicant)
    assert mine["data"]["merchants"]["items"] == []  # the failed mutations left nothing


async def test_list_verified_and_filter_as_admin(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    verified: dict[str, Any],
    admin: str,
    stranger: str,
) -> None:
    query = """
    query($status: MerchantStatus) {
      merchants(status: $status, limit: 1) { items { id } nextCursor }
    }
    """
    public = await gql(client, query)
    assert public["data"]["merchants"] == {"items": [{"id": verified["id"]}], "nextCursor": None}
    pending_list = await gql(client, query, {"status": "PENDING"}, admin)
    assert pending_list["data"]["merchants"]["items"] == [{"id": pending["id"]}]
    assert error_code(await gql(client, query, {"status": "PENDING"}, stranger)) == "forbidden"


async def test_admin_verifies_suspends_and_reinstates(
    client: httpx.AsyncClient,
    pending: dict[str, Any],
    admin: str,
    applicant: str,
    published: list[DomainEvent],
) -> None:
    verify = "mutation($id: UUID!) { verifyMerchant(id: $id) { status verifiedAt } }"
    assert error_code(await gql(client, verify, {"id": pending["id"]}, applicant)) == "forbidden"
    verified = await gql(client, verify, {"id": pending["id"]}, admin)
    assert verified["data"]["verifyMerchant"]["status"] == "VERIFIED"
    again = await gql(client, verify, {"id": pending["id"]}, admin)
    assert error_code(again) == "invalid_transition"
    assert [e.type for e in published] == ["merchant.verified"]
    assert published[0].data == {
        "merchant_id": pending["id"],
        "owner_user_id": pending["owner_user_id"],
    }

    suspend = """
    mutation($id: UUID!, $reason: String!) {
      suspendMerchant(id: $id, input: {reason: $reason}) { status suspensionReason }
    }
    """
    suspended = await gql(client, suspend, {"id": pending["id"], "reason": "chargebacks"}, admin)
    assert suspended["data"]["suspendMerchant"] == {
        "status": "SUSPENDED",
        "suspensionReason": "chargebacks",
    }
    blank = await gql(client, suspend, {"id": pending["id"], "reason": ""}, admin)
    assert error_code(blank) == "invalid_input"
    reinstate = "mutation($id: UUID!) { reinstateMerchant(id: $id) { status } }"
    back = await gql(client, reinstate, {"id": pending["id"]}, admin)
    assert back["data"]["reinstateMerchant"]["status"] == "VERIFIED"
    missing = await gql(client, verify, {"id": str(uuid4())}, admin)
    assert error_code(missing) == "merchant_not_found"


async def test_update_merchant_changes_only_given_fields(
    client: httpx.AsyncClient, pending: dict[str, Any], applicant: str, stranger: str
) -> None:
    update = f"""
    mutation($id: UUID!, $input: UpdateMerchantInput!) {{
      updateMerchant(id: $id, input: $input) {{ {MERCHANT_FIELDS} }}
    }}
    """
    body = await gql(client, update, {"id": pending["id"], "input": {"currency": "usd"}}, applicant)
    merchant = body["data"]["updateMerchant"]
    assert (merchant["currency"], merchant["name"]) == ("USD", pending["name"])
    nulled = await gql(client, update, {"id": pending["id"], "input": {"name": None}}, applicant)
    assert error_code(nulled) == "invalid_input"
    other = await gql(client, update, {"id": pending["id"], "input": {"name": "X"}}, stranger)
    assert error_code(other) == "merchant_not_found"


async def test_outlets_through_graphql(
    client: httpx.AsyncClient,
    api: MerchantsApi,
    verified: dict[str, Any],
    owner: str,
    stranger: str,
    owner_token_for: Callable[[str], str],
) -> None:
    create = f"""
    mutation($merchantId: UUID!, $input: CreateOutletInput!) {{
      createOutlet(merchantId: $merchantId, input: $input) {{ {OUTLET_FIELDS} }}
    }}
    """
    variables = {
        "merchantId": verified["id"],
        "input": {"name": "Dock", "address": "Pier 3", "latitude": -33.9, "longitude": 18.4},
    }
    created = (await gql(client, create, variables, owner))["data"]["createOutlet"]
    assert created["merchantId"] == verified["id"]
    assert (created["latitude"], created["longitude"]) == (-33.9, 18.4)
    assert error_code(await gql(client, create, variables, stranger)) == "forbidden"
    off_map = {**variables, "input": {**variables["input"], "latitude": 123.0}}
    assert error_code(await gql(client, create, off_map, owner)) == "invalid_coordinates"

    update = f"""
    mutation($merchantId: UUID!, $outletId: UUID!, $input: UpdateOutletInput!) {{
      updateOutlet(merchantId: $merchantId, outletId: $outletId, input: $input) {{
        {OUTLET_FIELDS}
      }}
    }}
    """
    ids = {"merchantId": verified["id"], "outletId": created["id"]}
    cleared = await gql(
        client, update, {**ids, "input": {"latitude": None, "longitude": None}}, owner
    )
    assert cleared["data"]["updateOutlet"]["latitude"] is None
    assert cleared["data"]["updateOutlet"]["name"] == "Dock"
    half = await gql(client, update, {**ids, "input": {"latitude": 1.0}}, owner)
    assert error_code(half) == "invalid_coordinates"

    listing = """
    query($merchantId: UUID!) {
      outlets(merchantId: $merchantId) { items { id name } nextCursor }
    }
    """
    listed = await gql(client, listing, {"merchantId": verified["id"]})
    assert listed["data"]["outlets"] == {
        "items": [{"id": created["id"], "name": "Dock"}],
        "nextCursor": None,
    }

    delete = """
    mutation($merchantId: UUID!, $outletId: UUID!) {
      deleteOutlet(merchantId: $merchantId, outletId: $outletId)
    }
    """
    assert error_code(await gql(client, delete, ids, owner_token_for(str(uuid4())))) == "forbidden"
    assert (await gql(client, delete, ids, owner))["data"]["deleteOutlet"] is True
    assert error_code(await gql(client, delete, ids, owner)) == "outlet_not_found"
    emptied = await gql(client, listing, {"merchantId": verified["id"]})
    assert emptied["data"]["outlets"]["items"] == []


async def test_graphql_refuses_anonymous_mutations_and_hidden_outlets(
    client: httpx.AsyncClient, pending: dict[str, Any]
) -> None:
    listing = "query($merchantId: UUID!) { outlets(merchantId: $merchantId) { items { id } } }"
    assert error_code(await gql(client, listing, {"merchantId": pending["id"]})) == (
        "merchant_not_found"
    )
    verify = "mutation($id: UUID!) { verifyMerchant(id: $id) { status } }"
    assert error_code(await gql(client, verify, {"id": pending["id"]})) == "unauthenticated"
