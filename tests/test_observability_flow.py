"""What an operator sees of a request: its correlation id in every service it reaches and
in the events it causes, and the metrics (CloudWatch EMF) it records.

The correlation id a local request gets is its own request id; in Lambda it is API
Gateway's request id (libs/core/tests/test_request_context.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.logging import JsonFormatter
from core.metrics import emf
from devstack.testing.api import bearer
from devstack.testing.api import expect as ok
from devstack.testing.tokens import TestTokens

if TYPE_CHECKING:
    from conftest import Scene


class JsonLines(logging.Handler):
    """Log lines as the deployed functions write them, formatted when they are logged
    (the correlation id is read from the context of the request logging it)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_logs() -> Iterator[JsonLines]:
    handler = JsonLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_a_claims_correlation_id_reaches_its_event_and_svc_merchants_log(
    gateway: httpx.AsyncClient,
    tokens: TestTokens,
    scene: Scene,
    connection: AsyncConnection,
    aws: Any,
    platform_settings: PlatformSettings,
    json_logs: JsonLines,
) -> None:
    # A suspension and reinstatement evict svc-coupons' cached merchant (their events), so
    # the next claim asks svc-merchants again.
    merchant = f"/api/v1/merchants/{scene.merchant['id']}"
    admin = bearer(tokens.admin())
    ok(await gateway.post(f"{merchant}/suspend", headers=admin, json={"reason": "check"}))
    ok(await gateway.post(f"{merchant}/reinstate", headers=admin))
    customer = await scene.customer("corr@example.com")
    json_logs.lines.clear()

    response = await gateway.post(
        f"/api/v1/campaigns/{scene.campaign['id']}/claim", headers=customer
    )
    coupon = ok(response, 201)
    correlation_id = response.headers["x-correlation-id"]
    assert correlation_id == response.headers["x-request-id"]  # locally: the request's own

    # svc-merchants' own access line for the lookup the claim made: its own request id,
    # the claim's correlation id.
    (lookup,) = [
        line
        for line in json_logs.lines
        if line["logger"] == "access" and line["message"].startswith(f"GET {merchant} ")
    ]
    assert lookup["correlation_id"] == correlation_id
    assert lookup["request_id"] != correlation_id
    claim_lines = [line for line in json_logs.lines if line["request_id"] == correlation_id]
    assert claim_lines
    assert all(line["correlation_id"] == correlation_id for line in claim_lines)

    # The event the claim caused: its outbox row, its audit item.
    row = (
        await connection.execute(
            text(
                "SELECT id, correlation_id FROM coupons.outbox "
                "WHERE type = 'coupon.claimed' AND entity_id = :coupon"
            ),
            {"coupon": coupon["id"]},
        )
    ).one()
    assert row.correlation_id == correlation_id
    items = aws.query(
        TableName=platform_settings.audit_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"coupon#{coupon['id']}"}},
    )["Items"]
    (claimed,) = [item for item in items if item["type"]["S"] == "coupon.claimed"]
    assert claimed["event_id"]["S"] == str(row.id)
    assert claimed["correlation_id"]["S"] == correlation_id


def _emf(recorder: Any) -> list[dict[str, Any]]:
    written: list[str] = []
    emf.flush(recorder, write=written.append)
    return [json.loads(line) for chunk in written for line in chunk.splitlines()]


async def test_a_claim_and_a_redemption_emit_their_emf_metrics(
    gateway: httpx.AsyncClient, platform_apps: dict[str, Any], scene: Scene
) -> None:
    recorder = platform_apps["coupons"].state.runtime.metrics
    recorder.publishing = True  # as the Lambda handler sets it: a flush after each invocation
    _emf(recorder)  # what the scene's own requests recorded

    customer = await scene.customer("emf@example.com")
    coupon = await scene.claim(customer)
    ok(
        await gateway.post(
            f"/api/v1/coupons/{coupon['code']}/redeem",
            headers=scene.staff,
            json={"outlet_id": scene.outlet["id"], "order_amount": 5000},
        )
    )
    documents = _emf(recorder)

    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "CouponPlatform/test"
        assert document["Service"] == "coupons"
        for metric in directive["Metrics"]:
            assert metric["Name"] in document
        for dimensions in directive["Dimensions"]:
            assert all(name in document for name in dimensions)
    business = {d["Event"]: d["BusinessEvents"] for d in documents if "BusinessEvents" in d}
    assert business == {"Claim": 1, "Redemption": 1}
    latency = {(d["Route"], d["StatusClass"]): d["Latency"] for d in documents if "Latency" in d}
    claims = latency[("POST /api/v1/campaigns/{campaign_id}/claim", "2xx")]
    redemptions = latency[("POST /api/v1/coupons/{code}/redeem", "2xx")]
    assert len(claims) == len(redemptions) == 1
    assert claims[0] > 0
    (latency_directive,) = {
        json.dumps(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"])
        for d in documents
        if "Latency" in d
    }
    assert json.loads(latency_directive) == [
        ["Service"],
        ["Service", "StatusClass"],
        ["Service", "Route", "StatusClass"],
    ]
    # Routes are templates: no coupon code is ever a metric's dimension.
    assert coupon["code"] not in json.dumps(documents)
    assert _emf(recorder) == []  # flushed once


async def test_a_sold_out_refusal_is_counted(
    gateway: httpx.AsyncClient, platform_apps: dict[str, Any], scene: Scene
) -> None:
    recorder = platform_apps["coupons"].state.runtime.metrics
    quantity = scene.campaign["total_quantity"]
    for number in range(quantity):
        await scene.claim(await scene.customer(f"early-{number}@example.com"))
    assert "SoldOutRefusal" not in recorder.business
    late = await gateway.post(
        f"/api/v1/campaigns/{scene.campaign['id']}/claim",
        headers=await scene.customer("late@example.com"),
    )
    assert (late.status_code, late.json()["code"]) == (409, "sold_out")
    assert recorder.business["SoldOutRefusal"] == 1
    assert recorder.business["Claim"] == quantity
    # The same refusal through GraphQL counts the same.
    answer = ok(
        await gateway.post(
            "/graphql/coupons",
            headers=await scene.customer("later@example.com"),
            json={
                "query": "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { code } }",
                "variables": {"id": scene.campaign["id"]},
            },
        )
    )
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["sold_out"]
    assert recorder.business["SoldOutRefusal"] == 2
    page = (await gateway.get("/api/v1/coupons/metrics")).text
    assert 'business_events_total{service="coupons",event="SoldOutRefusal"} 2' in page


async def test_each_sweep_reports_the_outbox_lag(platform_apps: dict[str, Any]) -> None:
    runtime = platform_apps["merchants"].state.runtime
    runtime.metrics.publishing = True
    assert runtime.metrics.outbox_lag_seconds is None
    await runtime.sweep()
    assert runtime.metrics.outbox_lag_seconds == 0.0  # everything delivered
    (document,) = _emf(runtime.metrics)
    assert (document["OutboxLagSeconds"], document["OutboxDeadLettered"]) == (0.0, 0)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"]]
