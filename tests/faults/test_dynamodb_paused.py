"""DynamoDB paused (SIGSTOP: what a throttled or unreachable endpoint looks like to a
client): every request still answers within 3 s. Password sign-in and sign-up, whose
counters bound guessing and what email_taken tells, are a quick 503 (no password is
checked uncounted), while a signed-in session refreshes; the merchant cache misses to
svc-merchants, a coupon's history is a quick 503 audit_unavailable, and events wait in the
outbox; once DynamoDB is back, every event is delivered and the history shows it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest

from devstack.stack.embedded import EmbeddedDynamo
from devstack.testing.api import DEFAULT_PASSWORD, AuthApi, bearer

from .conftest import Postgres, Stack, eventually, expect, open_shop

pytestmark = pytest.mark.slow  # starts a whole stack of its own

BOUND_SECONDS = 3.0

# An impatient stack, so that a pause of 20 s stands for an outage of many sweeps, as ten
# minutes do deployed (a sweep a minute, events due after 30 s, 10 attempts, waits of at
# most 5 minutes): everything here runs 30 times as fast.
OUTAGE_SECONDS = 20
CLAIMS = 2000
CLAIMING_AT_ONCE = 16
CLAIM_FOR = 100  # customers, each claiming 20 coupons of the campaign


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    return {
        "DEVSTACK_SWEEP_SECONDS": "2",
        "OUTBOX_SWEEP_AFTER_SECONDS": "1",
        "OUTBOX_MAX_ATTEMPTS": "5",
        "OUTBOX_RETRY_MAX_SECONDS": "10",
    }


async def timed(call: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call()
    return response, time.monotonic() - started


async def test_every_request_answers_in_time_while_dynamodb_is_paused(
    http: httpx.AsyncClient, stack: Stack, postgres: Postgres, dynamo: EmbeddedDynamo
) -> None:
    shop = await open_shop(http, stack.tokens)
    staff = bearer(
        stack.tokens.token(
            memberships=((uuid.UUID(shop.merchant_id), "staff"),), client_id="merchant-portal"
        )
    )
    email = f"paused-{uuid.uuid4().hex[:8]}@faults.example"
    await AuthApi(http).register(email)
    session = await AuthApi(http).login(email)
    customer_id = uuid.uuid4()
    customer = bearer(stack.tokens.token(subject=customer_id))
    before = await expect(
        await http.post(f"/api/v1/campaigns/{shop.campaign_id}/claim", headers=customer), 201
    )
    assert await eventually(lambda: postgres_all_delivered(postgres), within=10)

    assert dynamo.process is not None
    os.kill(dynamo.process.pid, signal.SIGSTOP)
    try:
        answers = {
            "sign-in": await timed(
                lambda: http.post(
                    "/api/v1/auth/token",
                    data={
                        "grant_type": "password",
                        "username": email,
                        "password": DEFAULT_PASSWORD,
                        "client_id": "customer-portal",
                    },
                )
            ),
            "wrong password": await timed(
                lambda: http.post(
                    "/api/v1/auth/token",
                    data={
                        "grant_type": "password",
                        "username": email,
                        "password": "not the password",
                        "client_id": "customer-portal",
                    },
                )
            ),
            "refresh": await timed(
                lambda: http.post(
                    "/api/v1/auth/token",
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": session["refresh_token"],
                        "client_id": "customer-portal",
                    },
                )
            ),
            "claim": await timed(
                lambda: http.post(f"/api/v1/campaigns/{shop.campaign_id}/claim", headers=customer)
            ),
            "redeem": await timed(
                lambda: http.post(
                    f"/api/v1/coupons/{before['code']}/redeem",
                    json={"outlet_id": shop.outlet_id, "order_amount": 1000},
                    headers=staff,
                )
            ),
            "history": await timed(
                lambda: http.get(f"/api/v1/coupons/{before['code']}/history", headers=customer)
            ),
            "register": await timed(
                lambda: http.post(
                    "/api/v1/auth/register",
                    json={
                        "email": f"new-{uuid.uuid4().hex[:8]}@faults.example",
                        "password": DEFAULT_PASSWORD,
                        "display_name": "New",
                    },
                )
            ),
        }
        undelivered_while_paused = await postgres.undelivered()
    finally:
        os.kill(dynamo.process.pid, signal.SIGCONT)

    slow = {name: round(took, 2) for name, (_, took) in answers.items() if took > BOUND_SECONDS}
    assert slow == {}
    statuses = {name: response.status_code for name, (response, _) in answers.items()}
    assert statuses == {
        "sign-in": 503,
        "wrong password": 503,
        "refresh": 200,
        "claim": 201,
        "redeem": 200,
        "history": 503,
        "register": 503,
    }
    for refused in ("sign-in", "wrong password"):
        assert answers[refused][0].json()["error"] == "temporarily_unavailable"
        assert "retry-after" in answers[refused][0].headers
    assert answers["register"][0].json()["code"] == "sign_up_unavailable"
    history = answers["history"][0]
    assert history.json()["code"] == "audit_unavailable"
    assert "retry-after" in history.headers
    assert undelivered_while_paused > 0  # the events waited in the outbox

    # Back: every event is delivered, and the history has the redemption.
    assert await eventually(lambda: postgres_all_delivered(postgres), within=20)
    types = await eventually(lambda: history_types(http, before["code"], customer), within=10)
    assert types == ["coupon.claimed", "coupon.redeemed"]


async def postgres_all_delivered(postgres: Postgres) -> bool:
    return await postgres.undelivered() == 0


async def history_types(http: httpx.AsyncClient, code: str, headers: dict[str, str]) -> list[str]:
    response = await http.get(f"/api/v1/coupons/{code}/history", headers=headers)
    if response.status_code != 200:
        return []
    types = [entry["type"] for entry in response.json()["items"]]
    return types if "coupon.redeemed" in types else []


async def test_a_long_dynamodb_outage_loses_no_event_and_the_backlog_drains_quickly(
    http: httpx.AsyncClient, stack: Stack, postgres: Postgres, dynamo: EmbeddedDynamo
) -> None:
    """DynamoDB paused for 20 s while 2,000 claims come in: every claim answered, and once
    it is back (and the claims are done, should a slow machine take longer than the pause)
    every event reaches the audit trail within 20 s, none given up on as poison."""
    shop = await open_shop(http, stack.tokens)
    customers = [bearer(stack.tokens.token(subject=uuid.uuid4())) for _ in range(CLAIM_FOR)]
    assert await eventually(lambda: postgres_all_delivered(postgres), within=10)
    assert dynamo.process is not None
    pid = dynamo.process.pid
    claim_url = f"/api/v1/campaigns/{shop.campaign_id}/claim"
    statuses: list[int] = []

    async def claim(worker: int) -> None:
        for n in range(worker, CLAIMS, CLAIMING_AT_ONCE):
            response = await http.post(claim_url, headers=customers[n % CLAIM_FOR])
            statuses.append(response.status_code)

    os.kill(pid, signal.SIGSTOP)
    try:
        claims = asyncio.gather(*(claim(worker) for worker in range(CLAIMING_AT_ONCE)))
        await asyncio.sleep(OUTAGE_SECONDS)  # the claims go on meanwhile
        undelivered_at_resume = await postgres.undelivered()
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed_at = time.monotonic()
    await claims

    assert Counter(statuses) == {201: CLAIMS}
    assert undelivered_at_resume > 0  # the events waited in the outbox
    deadline = max(resumed_at, time.monotonic()) + OUTAGE_SECONDS
    delivered = await eventually(
        lambda: postgres_all_delivered(postgres), within=deadline - time.monotonic(), every=0.5
    )
    took = time.monotonic() - resumed_at
    left, dead = await postgres.undelivered(), await postgres.dead_lettered()
    assert delivered, f"{left} events undelivered {took:.0f} s after, {dead} dead-lettered"
    assert dead == 0
