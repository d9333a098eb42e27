"""infra.function_inputs: what the synthesis reads from the account (moto's SSM and
Secrets Manager) and the digest the functions' versions follow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.bundle import REPO_ROOT
from infra.config import SERVICE_DEPLOYMENTS, ServiceDeployment, stage_config
from infra.function_inputs import (
    INPUTS_CONTEXT,
    READ_FROM_AWS,
    AwsDeployedValues,
    deployed_values_from_context,
    read_inputs,
)

STAGE = stage_config("dev")
AUTH = SERVICE_DEPLOYMENTS["auth"]


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield (
            boto3.client("ssm", region_name="us-east-1"),
            boto3.client("secretsmanager", region_name="us-east-1"),
        )


def test_reads_the_jwks_and_each_secrets_current_version(clients: tuple[Any, Any]) -> None:
    ssm, secrets = clients
    ssm.put_parameter(Name=STAGE.jwks_parameter, Value='{"keys": []}', Type="String")
    secrets.create_secret(Name="coupon-platform/dev/auth-signing-key", SecretString="pem")
    secrets.create_secret(Name="coupon-platform/dev/db-auth", SecretString="{}")
    values = AwsDeployedValues(ssm, secrets)
    before = read_inputs(values, STAGE, "auth", AUTH)
    assert before.values[f"parameter:{STAGE.jwks_parameter}"] == '{"keys": []}'
    signing = "secret:coupon-platform/dev/auth-signing-key"
    assert before.values[signing]
    # Absent: the previous signing key outside a rotation, the generated password before
    # the first deploy made it.
    assert before.values["secret:coupon-platform/dev/auth-previous-signing-key"] is None
    assert before.values["secret:coupon-platform/dev/bootstrap-admin-password"] is None
    assert read_inputs(values, STAGE, "auth", AUTH).digest == before.digest

    secrets.put_secret_value(SecretId="coupon-platform/dev/auth-signing-key", SecretString="new")
    rotated = read_inputs(values, STAGE, "auth", AUTH)
    assert rotated.values[signing] != before.values[signing]
    assert rotated.digest != before.digest

    ssm.put_parameter(
        Name=STAGE.jwks_parameter, Value='{"keys": [1]}', Type="String", Overwrite=True
    )
    assert read_inputs(values, STAGE, "auth", AUTH).digest != rotated.digest


def test_a_secret_scheduled_for_deletion_counts_as_absent(clients: tuple[Any, Any]) -> None:
    ssm, secrets = clients
    name = "coupon-platform/dev/auth-previous-signing-key"
    secrets.create_secret(Name=name, SecretString="old pem")
    values = AwsDeployedValues(ssm, secrets)
    assert values.secret_version(name) is not None
    secrets.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert values.secret_version(name) is None
    assert values.parameter(STAGE.jwks_parameter) is None


def test_what_a_service_without_operator_secrets_reads() -> None:
    class Recorded:
        def __init__(self) -> None:
            self.read: list[str] = []

        def parameter(self, name: str) -> str | None:
            self.read.append(name)
            return "jwks"

        def secret_version(self, name: str) -> str | None:
            self.read.append(name)
            return "v1"

    recorded = Recorded()
    read_inputs(recorded, STAGE, "merchants", ServiceDeployment())
    assert recorded.read == [
        STAGE.jwks_parameter,
        "coupon-platform/dev/db-merchants",
        # Its SERVER_SECRET and, during a rotation, the one rotated out (core.server_keys).
        "coupon-platform/dev/merchants-previous-server-secret",
        "coupon-platform/dev/merchants-server-secret",
    ]


def test_the_context_names_the_source() -> None:
    assert deployed_values_from_context(None) is None
    with pytest.raises(ValueError, match="aws"):
        deployed_values_from_context("laptop")


def test_every_deploy_reads_the_inputs_and_a_rotation_deploys_every_stack() -> None:
    """The digest must be taken on every deploy (one without it would drop it), and a
    rotation, which changes no file, needs a way to plan every stack."""
    workflows = REPO_ROOT / ".github" / "workflows"
    stage = (workflows / "deploy-stage.yml").read_text()
    for command in ("cdk diff", "cdk deploy"):
        (line,) = [line for line in stage.splitlines() if f"npx --no-install {command}" in line]
        assert f"-c {INPUTS_CONTEXT}={READ_FROM_AWS}" in line, command
    deploy = (workflows / "deploy.yml").read_text()
    assert "inputs_changed:" in deploy
    assert (
        'if [ "$EVERYTHING" = "true" ] || [ "$INPUTS_CHANGED" = "true" ]; then args+=(--all)'
        in (deploy)
    )
