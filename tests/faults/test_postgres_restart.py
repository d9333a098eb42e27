"""PostgreSQL restarted under load (an RDS reboot or a failover): while it is down every
answer is a quick 503 database_unavailable with Retry-After, never a 500 or a hang; once
it is back, not one 5xx; the issued and redeemed counts are exact, and every event
committed is delivered."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from devstack.testing.api import bearer

from .conftest import Postgres, Stack, eventually, expect, open_shop

pytestmark = pytest.mark.slow  # starts a whole stack of its own

if TYPE_CHECKING:
    from .conftest import Shop

WORKERS = 8
DOWN_AFTER_SECONDS = 1.5
DOWN_FOR_SECONDS = 2.5
AFTER_BACK_SECONDS = 2.5  # load goes on this long once the database is back
MAX_LOAD_SECONDS = 60.0  # however slowly the machine restarts it
ANSWER_BOUND_SECONDS = 5.0  # the connect timeout (3 s) and some room
IN_FLIGHT_AT_THE_STOP = WORKERS  # writes whose COMMIT raced the stop: one per worker at most


@dataclass
class Answer:
    kind: str
    sent: float
    took: float
    status: int
    code: str | None
    retry_after: str | None
    body: str


async def test_a_restart_under_load_costs_503s_while_down_and_nothing_after(
    http: httpx.AsyncClient, stack: Stack, postgres: Postgres
) -> None:
    shop = await open_shop(http, stack.tokens)
    staff_token = stack.tokens.token(
        memberships=((uuid.UUID(shop.merchant_id), "staff"),), client_id="merchant-portal"
    )
    to_redeem: asyncio.Queue[str] = asyncio.Queue()
    customer = bearer(stack.tokens.token())
    for _ in range(40):
        coupon = await expect(
            await http.post(f"/api/v1/campaigns/{shop.campaign_id}/claim", headers=customer), 201
        )
        to_redeem.put_nowait(coupon["code"])
    answers: list[Answer] = []
    retried: set[str] = set()
    started = time.monotonic()

    async def call(kind: str, method: str, path: str, token: str, body: object = None) -> None:
        sent = time.monotonic()
        try:
            response = await http.request(method, path, json=body, headers=bearer(token))
        except httpx.TransportError as exc:  # the connection itself failed: recorded as 0
            answers.append(
                Answer(kind, sent - started, time.monotonic() - sent, 0, None, None, repr(exc))
            )
            return
        code = response.json().get("code") if response.status_code >= 400 else None
        answers.append(
            Answer(
                kind,
                sent - started,
                time.monotonic() - sent,
                response.status_code,
                code,
                response.headers.get("retry-after"),
                response.text[:300],
            )
        )
        if kind == "redeem" and response.status_code == 503:
            code = path.split("/")[4]
            retried.add(code)
            to_redeem.put_nowait(code)  # not redeemed, as far as the answer says: again later

    back: list[float] = []  # when the database answered again, once it has

    def loading() -> bool:
        elapsed = time.monotonic() - started
        if elapsed > MAX_LOAD_SECONDS:
            return False
        return not back or elapsed < back[0] + AFTER_BACK_SECONDS

    async def worker(number: int) -> None:
        token = stack.tokens.token()
        while loading():
            await call("claim", "POST", f"/api/v1/campaigns/{shop.campaign_id}/claim", token)
            if not to_redeem.empty():
                code = to_redeem.get_nowait()
                await call(
                    "redeem",
                    "POST",
                    f"/api/v1/coupons/{code}/redeem",
                    staff_token,
                    {"outlet_id": shop.outlet_id, "order_amount": 1000},
                )
            await call("lookup", "GET", f"/api/v1/campaigns/{shop.campaign_id}", token)

    async def restart() -> tuple[float, float]:
        await asyncio.sleep(DOWN_AFTER_SECONDS)
        down_at = time.monotonic() - started
        await asyncio.to_thread(postgres.stop)
        await asyncio.sleep(DOWN_FOR_SECONDS)
        await asyncio.to_thread(postgres.start)
        back.append(time.monotonic() - started)
        return down_at, back[0]

    (down_at, back_at), *_ = await asyncio.gather(restart(), *(worker(n) for n in range(WORKERS)))

    statuses = Counter(a.status for a in answers)
    assert not statuses.keys() & {0, 500}, (
        [a for a in answers if a.status in (0, 500)],
        stack.unexpected_errors(),
    )
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, f"the load never met the stopped database: {statuses}"
    # svc-coupons asks svc-merchants about a merchant whose cache entry ran out, and
    # svc-merchants' database is the same server: that answer is merchants_unavailable.
    assert {a.code for a in unavailable} <= {"database_unavailable", "merchants_unavailable"}
    assert "database_unavailable" in {a.code for a in unavailable}
    assert all(a.retry_after for a in unavailable)
    assert max(a.took for a in answers) < ANSWER_BOUND_SECONDS
    after = [a for a in answers if a.sent > back_at]
    assert after, "no request was sent after the database came back"
    assert [a for a in after if a.status >= 500] == []
    # A 409 only where it is the truth: a redemption retried after a 503 whose commit had
    # in fact gone through when the server went away (its answer was lost, not its work).
    conflicts = [a for a in answers if a.status == 409]
    assert all(a.kind == "redeem" and a.code == "already_redeemed" for a in conflicts)
    assert {a.status for a in answers} <= {200, 201, 409, 503}

    # The counters agree with the rows exactly, and no answered success is missing. A write
    # answered 503 changed nothing, except when the server went away between its COMMIT
    # and the answer: at most a handful of those, at the moment of the stop.
    claimed = sum(1 for a in answers if a.kind == "claim" and a.status == 201) + 40
    redeemed = sum(1 for a in answers if a.kind == "redeem" and a.status == 200)
    issued_count, coupons = await count(postgres, shop)
    assert issued_count == coupons
    assert 0 <= coupons - claimed <= IN_FLIGHT_AT_THE_STOP
    redeemed_count, redemptions = await redeemed_counts(postgres, shop)
    assert redeemed_count == redemptions
    assert redemptions - redeemed == len(conflicts) <= IN_FLIGHT_AT_THE_STOP
    # Every event committed is delivered once the sweeps catch up.
    assert await eventually(lambda: nothing_undelivered(postgres), within=15)
    del down_at


async def count(postgres: Postgres, shop: Shop) -> tuple[int, int]:
    issued = await postgres.fetchval(
        "SELECT sum(taken) FROM coupons.campaign_units WHERE campaign_id = $1",
        uuid.UUID(shop.campaign_id),
    )
    rows = await postgres.fetchval(
        "SELECT count(*) FROM coupons.coupons WHERE campaign_id = $1", uuid.UUID(shop.campaign_id)
    )
    return issued, rows


async def redeemed_counts(postgres: Postgres, shop: Shop) -> tuple[int, int]:
    counted = await postgres.fetchval(
        "SELECT redeemed_count FROM coupons.campaigns WHERE id = $1", uuid.UUID(shop.campaign_id)
    )
    rows = await postgres.fetchval(
        "SELECT count(*) FROM coupons.redemptions WHERE campaign_id = $1 AND reversed_at IS NULL",
        uuid.UUID(shop.campaign_id),
    )
    return counted, rows


async def nothing_undelivered(postgres: Postgres) -> bool:
    return await postgres.undelivered() == 0
