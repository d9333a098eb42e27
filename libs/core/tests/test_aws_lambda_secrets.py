"""Secrets reach a deployed function's settings through its environment, read at cold start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import make_url

from core.aws_lambda.secret_environment import load_secret_environment


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_nothing_configured_reads_nothing() -> None:
    environ: dict[str, str] = {}
    assert load_secret_environment(environ, client=object()) == []
    assert environ == {}


def test_named_secrets_become_variables_unless_already_set(secretsmanager: Any) -> None:
    secretsmanager.create_secret(Name="coupon-platform/dev/auth-signing-key", SecretString="PEM")
    arn = secretsmanager.create_secret(Name="generated", SecretString="s3cret")["ARN"]
    environ = {
        "SECRET_ENVIRONMENT": json.dumps(
            {
                "AUTH_SIGNING_KEY": "coupon-platform/dev/auth-signing-key",
                "BOOTSTRAP_ADMIN_PASSWORD": arn,
                "ALREADY_SET": arn,
            }
        ),
        "ALREADY_SET": "kept",
    }
    loaded = load_secret_environment(environ, client=secretsmanager)
    assert loaded == ["AUTH_SIGNING_KEY", "BOOTSTRAP_ADMIN_PASSWORD"]
    assert environ["AUTH_SIGNING_KEY"] == "PEM"
    assert environ["BOOTSTRAP_ADMIN_PASSWORD"] == "s3cret"
    assert environ["ALREADY_SET"] == "kept"


def test_database_url_points_at_the_proxy_with_the_secret_credentials(secretsmanager: Any) -> None:
    credentials = {
        "username": "platform_admin",
        "password": "p@ss/word:with?odd#chars",
        "host": "db-instance.abc.us-east-1.rds.amazonaws.com",
        "port": 5433,
        "dbname": "coupons",
        "engine": "postgres",
    }
    arn = secretsmanager.create_secret(Name="db", SecretString=json.dumps(credentials))["ARN"]
    environ = {
        "DATABASE_SECRET_ARN": arn,
        "DATABASE_PROXY_ENDPOINT": "proxy.proxy-abc.us-east-1.rds.amazonaws.com",
    }
    assert load_secret_environment(environ, client=secretsmanager) == ["DATABASE_URL"]
    url = make_url(environ["DATABASE_URL"])
    assert (url.host, url.port, url.database) == (
        environ["DATABASE_PROXY_ENDPOINT"],
        5432,
        "coupons",
    )
    assert (url.username, url.password) == ("platform_admin", credentials["password"])
