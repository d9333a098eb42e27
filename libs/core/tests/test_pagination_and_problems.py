from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from core.errors import Conflict, TooManyRequests
from core.pagination import InvalidCursor, decode_cursor, encode_cursor
from core.web.problems import install_problem_handlers


def test_cursor_round_trip() -> None:
    cursor = encode_cursor("2026-11-26T00:00:00+00:00", "abc")
    assert decode_cursor(cursor, 2) == ["2026-11-26T00:00:00+00:00", "abc"]


@pytest.mark.parametrize("bad", ["", "%%%", encode_cursor("only-one"), "bm90IGpzb24"])
def test_foreign_cursors_are_invalid(bad: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(bad, 2)


class SoldOut(Conflict):
    code = "sold_out"
    title = "Sold out"


class Body(BaseModel):
    count: int


def problem_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/conflict")
    async def conflict() -> None:
        raise SoldOut("No coupons left", remaining=0)

    @app.post("/slow-down")
    async def slow_down() -> None:
        raise TooManyRequests(retry_after=7)

    @app.post("/validate")
    async def validate(body: Body) -> int:
        return body.count

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    return app


async def test_problem_documents() -> None:
    transport = httpx.ASGITransport(app=problem_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        conflict = await http.post("/conflict")
        assert conflict.status_code == 409
        assert conflict.headers["content-type"] == "application/problem+json"
        assert conflict.json() == {
            "type": "/problems/sold_out",
            "title": "Sold out",
            "status": 409,
            "detail": "No coupons left",
            "code": "sold_out",
            "remaining": 0,
        }
        throttled = await http.post("/slow-down")
        assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "7")

        invalid = await http.post("/validate", json={"count": "many"})
        assert invalid.status_code == 422
        assert invalid.json()["code"] == "invalid_input"
        assert invalid.json()["errors"][0]["loc"] == ["body", "count"]

        boom = await http.get("/boom")
        assert boom.status_code == 500
        assert boom.json()["code"] == "internal_error"
        assert "hunter2" not in boom.text
