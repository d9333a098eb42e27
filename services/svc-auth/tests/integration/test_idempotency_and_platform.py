"""Idempotency-Key on POST, health and docs, the outbox reaching the audit trail, key rotation."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.idempotency import Claim, IdempotencyKeyInFlight, IdempotencyStore, StoredResponse
from devstack.testing.api import bearer
from devstack.testing.tokens import TestTokens
from svc_auth.app import create_app
from svc_auth.bootstrap import ensure_bootstrap_admin
from svc_auth.config import AuthSettings
from svc_auth.repositories.schema_model import platform_tables
from svc_auth.utils.signing import KeyRing, SigningKey


def registration(email: str) -> dict[str, str]:
    return {"email": email, "password": "long enough pw", "display_name": "Idem"}


def role_path(user_id: str) -> str:
    return f"/api/v1/auth/users/{user_id}/roles"


async def test_same_key_same_request_replays_the_first_response(
    client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    user = (await client.post("/api/v1/auth/register", json=registration("i@example.com"))).json()
    headers = {**bearer(tokens.admin()), "Idempotency-Key": "grant-1"}
    first = await client.post(role_path(user["id"]), json={"role": "admin"}, headers=headers)
    again = await client.post(role_path(user["id"]), json={"role": "admin"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # A replay may hold what the first answer held: never cached on the way.
    assert again.headers["cache-control"] == "no-store"
    other = await client.post(role_path(user["id"]), json={"role": "customer"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_a_failed_request_frees_its_key(
    client: httpx.AsyncClient, tokens: TestTokens
) -> None:
    user = (await client.post("/api/v1/auth/register", json=registration("f@example.com"))).json()
    headers = {**bearer(tokens.admin()), "Idempotency-Key": "grant-2"}
    failed = await client.post(role_path(user["id"]), json={"role": "emperor"}, headers=headers)
    assert failed.status_code == 422
    retried = await client.post(role_path(user["id"]), json={"role": "emperor"}, headers=headers)
    assert retried.status_code == 422
    assert "idempotent-replayed" not in retried.headers


async def idempotency_rows(connection: AsyncConnection) -> list[Any]:
    rows = await connection.execute(text("SELECT key, request_hash FROM auth.idempotency_keys"))
    return list(rows)


async def test_sign_up_keeps_nothing_in_the_idempotency_table(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    # A sign-up's body holds the password: its fingerprint would be a fast hash of it.
    headers = {"Idempotency-Key": "reg-1"}
    body = registration("idem@example.com")
    first = await client.post("/api/v1/auth/register", json=body, headers=headers)
    again = await client.post("/api/v1/auth/register", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["code"] == "email_taken"
    register = """mutation { registerUser(input: {email: "gql@example.com",
        password: "long enough pw", displayName: "G"}) { id } }"""
    graphql = await client.post("/graphql/auth", json={"query": register}, headers=headers)
    assert graphql.json()["data"]["registerUser"]["id"]
    assert await idempotency_rows(connection) == []


async def test_request_fingerprints_are_keyed_by_the_server_secret(
    client: httpx.AsyncClient, connection: AsyncConnection, tokens: TestTokens
) -> None:
    user = (await client.post("/api/v1/auth/register", json=registration("h@example.com"))).json()
    body = json.dumps({"role": "admin"}).encode()
    headers = {
        **bearer(tokens.admin()),
        "Idempotency-Key": "grant-3",
        "content-type": "application/json",
    }
    assert (await client.post(role_path(user["id"]), content=body, headers=headers)).is_success
    [(key, request_hash)] = await idempotency_rows(connection)
    # Not the unsalted digest a database reader could recompute for guessed bodies.
    unsalted = hashlib.sha256()
    for part in (b"POST", role_path(user["id"]).encode(), b"", body):
        unsalted.update(len(part).to_bytes(8, "big"))
        unsalted.update(part)
    assert (key, len(request_hash)) == ("grant-3", 64)
    assert request_hash != unsalted.hexdigest()
    assert request_hash != hashlib.sha256(body).hexdigest()


async def test_a_key_in_flight_is_409(auth_app: FastAPI) -> None:
    runtime = auth_app.state.runtime
    store = IdempotencyStore(
        runtime.database, platform_tables.idempotency_keys, takeover_after=timedelta(minutes=1)
    )
    assert isinstance(await store.claim(caller="u1", key="k", fingerprint="f"), Claim)
    with pytest.raises(IdempotencyKeyInFlight):
        await store.claim(caller="u1", key="k", fingerprint="f")
    # Keys belong to their caller.
    assert isinstance(await store.claim(caller="u2", key="k", fingerprint="f"), Claim)


async def test_a_claim_taken_over_is_neither_completed_nor_released_by_its_first_holder(
    auth_app: FastAPI,
) -> None:
    database = auth_app.state.runtime.database
    # Every claim is stale at once: the second request takes the first's over.
    store = IdempotencyStore(
        database, platform_tables.idempotency_keys, takeover_after=timedelta(0)
    )
    stalled = await store.claim(caller="u1", key="k", fingerprint="f")
    current = await store.claim(caller="u1", key="k", fingerprint="f")
    assert isinstance(stalled, Claim)
    assert isinstance(current, Claim)
    answer = StoredResponse(201, b"{}", "application/json")

    await store.release(stalled)
    with pytest.raises(IdempotencyKeyInFlight):
        async with database.transaction() as session:
            await store.complete(session, stalled, answer)
    # The current holder's claim survived both, and is still in flight for a patient retry.
    patient = IdempotencyStore(
        database, platform_tables.idempotency_keys, takeover_after=timedelta(minutes=1)
    )
    with pytest.raises(IdempotencyKeyInFlight):
        await patient.claim(caller="u1", key="k", fingerprint="f")
    async with database.transaction() as session:
        await store.complete(session, current, answer)
    assert await patient.claim(caller="u1", key="k", fingerprint="f") == answer


async def test_bad_idempotency_key_is_422(client: httpx.AsyncClient, tokens: TestTokens) -> None:
    response = await client.post(
        role_path(str(uuid4())),
        json={"role": "admin"},
        headers={**bearer(tokens.admin()), "Idempotency-Key": "x" * 300},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_invalid"


async def test_health_docs_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/auth/health")).json() == {"status": "ok", "service": "auth"}
    assert (await client.get("/api/v1/auth/docs")).status_code == 200
    spec = (await client.get("/api/v1/auth/openapi.json")).json()
    assert "/api/v1/auth/token" in spec["paths"]
    assert "/api/v1/auth/merchants/{merchant_id}/members" in spec["paths"]


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/auth/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong_method = await client.put("/api/v1/auth/register", json={})
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"
    malformed = await client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "invalid_input"


async def test_registration_event_reaches_the_audit_trail(
    client: httpx.AsyncClient, auth_app: FastAPI, connection: AsyncConnection
) -> None:
    user = (await client.post("/api/v1/auth/register", json=registration("aud@example.com"))).json()
    history = await auth_app.state.runtime.audit.history("user", user["id"])
    assert [entry["type"] for entry in history] == ["user.registered"]
    assert history[0]["actor"] == user["id"]
    undelivered = await connection.scalar(
        text("SELECT count(*) FROM auth.outbox WHERE delivered_at IS NULL")
    )
    assert undelivered == 0


async def test_undelivered_events_wait_for_the_sweep(
    client: httpx.AsyncClient, auth_app: FastAPI, connection: AsyncConnection, aws: Any
) -> None:
    runtime = auth_app.state.runtime
    aws.delete_table(TableName=runtime.settings.audit_table)  # DynamoDB "down"
    user = (
        await client.post("/api/v1/auth/register", json=registration("late@example.com"))
    ).json()
    row = (
        await connection.execute(
            text("SELECT attempts, delivered_at FROM auth.outbox WHERE entity_id = :id"),
            {"id": user["id"]},
        )
    ).one()
    assert row.attempts == 0  # an outage is not the event's fault: it counts no attempt
    assert row.delivered_at is None

    # An hour later, its backoff long over.
    await connection.execute(
        text(
            "UPDATE auth.outbox"
            " SET occurred_at = now() - interval '1 hour', next_attempt_at = now()"
        )
    )
    still_down = await runtime.relay.sweep()
    assert (still_down.delivered, still_down.failed) == (0, 1)

    from core.dynamo import ensure_tables

    ensure_tables(aws, runtime.settings)  # back up
    await connection.execute(text("UPDATE auth.outbox SET next_attempt_at = now()"))
    assert (await runtime.relay.sweep()).delivered == 1
    assert [e["type"] for e in await runtime.audit.history("user", user["id"])] == [
        "user.registered"
    ]
    assert (await runtime.relay.sweep()).delivered == 0


async def test_bootstrap_admin_is_idempotent(
    connection: AsyncConnection, platform_settings: PlatformSettings, tokens: TestTokens, aws: Any
) -> None:
    settings = AuthSettings(
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
        bootstrap_admin_email="Boot@Example.com",
        bootstrap_admin_password="a long boot secret",
    )
    app = create_app(
        settings,
        platform_settings,
        database=ConnectionBoundDatabase(platform_settings, connection),
        keys=tokens.keys,
    )
    assert await ensure_bootstrap_admin(app.state.auth)
    assert await ensure_bootstrap_admin(app.state.auth)  # a restart
    rows = (
        await connection.execute(
            text(
                "SELECT u.email, array_agg(r.role ORDER BY r.role) AS roles FROM auth.users u "
                "JOIN auth.user_roles r ON r.user_id = u.id GROUP BY u.email"
            )
        )
    ).all()
    assert [(r.email, r.roles) for r in rows] == [("boot@example.com", ["admin", "customer"])]


async def test_two_keys_are_served_during_a_rotation(
    connection: AsyncConnection, platform_settings: PlatformSettings, aws: Any
) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    ring = KeyRing(new, (old,))
    platform = platform_settings.model_copy(update={"jwt_jwks": json.dumps(ring.jwks())})
    app = create_app(
        AuthSettings(password_time_cost=1, password_memory_kib=1024, password_parallelism=1),
        platform,
        database=ConnectionBoundDatabase(platform, connection),
        keys=ring,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        jwks = (await http.get("/.well-known/jwks.json")).json()
        assert [k["kid"] for k in jwks["keys"]] == [new.kid, old.kid]
        assert all(k["alg"] == "RS256" and k["use"] == "sig" for k in jwks["keys"])
        signed_by_old = old.sign(TestTokens(ring).claims(subject=uuid4()))
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {signed_by_old}"})
        # Verified (the key is known); the user itself does not exist.
        assert me.status_code == 401
        assert "no longer exists" in me.json()["detail"]


async def test_values_the_database_cannot_take_are_422_not_500(client: httpx.AsyncClient) -> None:
    nul = await client.post(
        "/api/v1/auth/register",
        json={"email": "nul@example.com", "password": "long enough pw", "display_name": "a\x00b"},
    )
    assert nul.status_code == 422
    assert nul.json()["code"] == "invalid_input"
    assert (await client.get("/api/v1/auth/users?email=a%00b")).status_code in (401, 422)


async def test_a_replay_is_never_cached_even_for_an_anonymous_caller(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "anonymous-1"}
    body = {"query": "{ __typename }"}
    first = await client.post("/graphql/auth", json=body, headers=headers)
    again = await client.post("/graphql/auth", json=body, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
