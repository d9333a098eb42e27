"""The floor of `coupons_bench.py`: a minimal FastAPI + asyncpg app, one statement a request.

Where `bare_app.py` runs the platform's own statements, this runs the least a request that
reads or changes one row can do: a primary-key read (GET /items/{id}), or one conditional
UPDATE (POST /items/{id}/take). Its table is its own (schema bench_minimal, made at
start), in the benchmark's database; its pool is the bare app's, sized and set up as the
platform's (bare_app.pool_options).

    BENCH_DATABASE_URL=postgresql://... uvicorn minimal_app:app --app-dir bench
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from bare_app import pool_options
from fastapi import FastAPI, HTTPException, Request

ROWS = 1000

SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS bench_minimal;
CREATE TABLE IF NOT EXISTS bench_minimal.items (
    id integer PRIMARY KEY,
    title text NOT NULL,
    taken bigint NOT NULL DEFAULT 0,
    quantity bigint
);
INSERT INTO bench_minimal.items (id, title)
SELECT n, 'item ' || n FROM generate_series(1, {ROWS}) AS n
ON CONFLICT (id) DO NOTHING;
"""  # noqa: S608 (a constant goes in)
READ = "SELECT id, title, taken, quantity FROM bench_minimal.items WHERE id = $1"
TAKE = """
UPDATE bench_minimal.items SET taken = taken + 1
WHERE id = $1 AND (quantity IS NULL OR taken < quantity)
RETURNING id, title, taken, quantity
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ["BENCH_DATABASE_URL"]
    setup = await asyncpg.connect(url)
    try:
        await setup.execute(SCHEMA)
    finally:
        await setup.close()
    # The same connection settings as the bare app's, which are the platform's.
    app.state.pool = await asyncpg.create_pool(url, **pool_options())
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health(request: Request) -> dict[str, str]:
    async with request.app.state.pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
    return {"status": "ok"}


@app.get("/items/{item_id}")
async def read(item_id: int, request: Request) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as connection:
        row = await connection.fetchrow(READ, item_id)
    if row is None:
        raise HTTPException(404)
    return dict(row)


@app.post("/items/{item_id}/take")
async def take(item_id: int, request: Request) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as connection:
        row = await connection.fetchrow(TAKE, item_id)
    if row is None:
        raise HTTPException(409)
    return dict(row)
