"""svc-auth's Lambda handler (main.py), invoked with real AWS event shapes against PostgreSQL.

The handler runs as deployed: Mangum for API Gateway HTTP API requests, the consumers for
EventBridge events, the outbox sweep on schedule, migrations from the deploy trigger.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.aws_lambda import UnknownEventError
from core.events.model import DomainEvent
from devstack.lambda_harness import (
    LambdaContext,
    LambdaHarness,
    eventbridge_event,
    http_event,
    http_response_json,
    lambda_harness,
    scheduled_event,
)
from devstack.tokens import TestTokens

MAIN_PY = Path(__file__).resolve().parents[2] / "main.py"
PASSWORD = "correct horse battery"
BOOTSTRAP_PASSWORD = "a long bootstrap password"

pytestmark = pytest.mark.integration


@pytest.fixture
def bootstrap_email() -> str:
    return f"admin-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
def lambda_(
    migrated_engine: AsyncEngine,
    database_url: str,
    tokens: TestTokens,
    aws: Any,
    tmp_path: Path,
    bootstrap_email: str,
) -> Iterator[LambdaHarness]:
    """main.py under the environment a deployment gives it (secrets already resolved)."""
    environment = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "1",
        "JWT_ISSUER": tokens.issuer,
        "JWT_AUDIENCE": tokens.audience,
        "JWT_JWKS": json.dumps(tokens.keys.jwks()),
        "LOCAL_STATE_DIR": str(tmp_path),
        "AUDIT_TABLE": "test-audit",
        "CACHE_TABLE": "test-cache",
        "AUTH_SIGNING_KEY": tokens.keys.current.to_pem(),
        "AUTH_PASSWORD_TIME_COST": "1",
        "AUTH_PASSWORD_MEMORY_KIB": "1024",
        "AUTH_PASSWORD_PARALLELISM": "1",
        "BOOTSTRAP_ADMIN_EMAIL": bootstrap_email,
        "BOOTSTRAP_ADMIN_PASSWORD": BOOTSTRAP_PASSWORD,
    }
    with lambda_harness(MAIN_PY, environment) as harness:
        yield harness


def register(lambda_: LambdaHarness) -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    response = lambda_.invoke(
        http_event(
            "POST",
            "/api/v1/auth/register",
            json_body={"email": email, "password": PASSWORD, "display_name": "Lambda"},
        )
    )
    assert response["statusCode"] == 201, response
    user: dict[str, Any] = http_response_json(response)
    return user


def login(lambda_: LambdaHarness, email: str, password: str = PASSWORD) -> str:
    response = lambda_.invoke(
        http_event(
            "POST",
            "/api/v1/auth/token",
            form={
                "grant_type": "password",
                "username": email,
                "password": password,
                "client_id": "customer-portal",
            },
        )
    )
    assert response["statusCode"] == 200, response
    token: str = http_response_json(response)["access_token"]
    return token


def me(lambda_: LambdaHarness, token: str) -> dict[str, Any]:
    response = lambda_.invoke(
        http_event("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    )
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = http_response_json(response)
    return body


def test_rest_request_answers_with_status_headers_and_body(lambda_: LambdaHarness) -> None:
    context = LambdaContext()
    email = f"rest-{uuid.uuid4().hex[:8]}@example.com"
    response = lambda_.invoke(
        http_event(
            "POST",
            "/api/v1/auth/register",
            json_body={"email": email.upper(), "password": PASSWORD, "display_name": "Rest"},
        ),
        context,
    )
    assert response["statusCode"] == 201
    assert response["headers"]["content-type"] == "application/json"
    # The request id of the logs is Lambda's, so a log line leads to its invocation.
    assert response["headers"]["x-request-id"] == context.aws_request_id
    user = http_response_json(response)
    assert user["email"] == email
    assert user["roles"] == ["customer"]

    token = login(lambda_, email)
    assert me(lambda_, token)["id"] == user["id"]


def test_graphql_request(lambda_: LambdaHarness) -> None:
    user = register(lambda_)
    token = login(lambda_, user["email"])
    response = lambda_.invoke(
        http_event(
            "POST",
            "/graphql/auth",
            headers={"Authorization": f"Bearer {token}"},
            json_body={"query": "{ me { id email roles } }"},
        )
    )
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("application/json")
    body = http_response_json(response)
    assert "errors" not in body, body
    assert body["data"]["me"] == {"id": user["id"], "email": user["email"], "roles": ["customer"]}


def test_unknown_path_is_a_problem_404(lambda_: LambdaHarness) -> None:
    response = lambda_.invoke(http_event("GET", "/api/v1/auth/no-such-thing"))
    assert response["statusCode"] == 404
    assert response["headers"]["content-type"] == "application/problem+json"
    body = http_response_json(response)
    assert body["status"] == 404
    assert body["code"]


def test_bad_token_is_a_problem_401(lambda_: LambdaHarness) -> None:
    response = lambda_.invoke(
        http_event("GET", "/api/v1/auth/me", headers={"Authorization": "Bearer not.a.token"})
    )
    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"
    assert "bearer" in response["headers"]["www-authenticate"].lower()
    assert http_response_json(response)["status"] == 401


def test_consumed_event_is_processed_once(lambda_: LambdaHarness) -> None:
    user = register(lambda_)
    merchant_id = str(uuid.uuid4())
    verified = DomainEvent(
        type="merchant.verified",
        entity_type="merchant",
        entity_id=merchant_id,
        actor="admin",
        data={"merchant_id": merchant_id, "owner_user_id": user["id"]},
        source="merchants",
    )
    event = eventbridge_event(
        "merchant.verified", "coupon-platform.merchants", verified.to_message()
    )

    first = lambda_.invoke(event)
    again = lambda_.invoke(event)  # EventBridge delivers at least once

    assert first == {"event_id": str(verified.id), "type": "merchant.verified", "processed": True}
    assert again["processed"] is False
    memberships = me(lambda_, login(lambda_, user["email"]))["memberships"]
    assert [(m["merchant_id"], m["role"]) for m in memberships] == [(merchant_id, "owner")]


def test_event_nobody_consumes_is_refused(lambda_: LambdaHarness) -> None:
    event = eventbridge_event("coupon.redeemed", "coupon-platform.coupons", {"event_id": "x"})
    with pytest.raises(UnknownEventError, match=r"coupon\.redeemed"):
        lambda_.invoke(event)


def test_scheduled_event_sweeps_the_outbox(lambda_: LambdaHarness) -> None:
    assert lambda_.invoke(scheduled_event()) == {"swept": 0}


def test_migrate_action_migrates_and_ensures_the_bootstrap_admin(
    lambda_: LambdaHarness, bootstrap_email: str
) -> None:
    assert lambda_.invoke({"action": "migrate"}) == {"migrated": "auth"}
    admin = me(lambda_, login(lambda_, bootstrap_email, BOOTSTRAP_PASSWORD))
    assert "admin" in admin["roles"]


def test_deploy_trigger_migrates_on_create_and_keeps_the_schema_on_delete(
    lambda_: LambdaHarness, bootstrap_email: str
) -> None:
    create = {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
        "ResourceType": "Custom::ServiceMigrations",
        "LogicalResourceId": "MigrationsMigrations",
        "ResourceProperties": {"ServiceToken": "arn:provider", "action": "migrate", "version": "7"},
    }
    assert lambda_.invoke(create) == {"PhysicalResourceId": "auth-migrate"}
    login(lambda_, bootstrap_email, BOOTSTRAP_PASSWORD)

    delete = {**create, "RequestType": "Delete", "PhysicalResourceId": "auth-migrate"}
    assert lambda_.invoke(delete) == {"PhysicalResourceId": "auth-migrate"}


def test_unknown_payload_is_refused(lambda_: LambdaHarness) -> None:
    with pytest.raises(UnknownEventError):
        lambda_.invoke({"action": "dance"})
