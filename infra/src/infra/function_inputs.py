"""What a service's functions read from the account at run time, and its digest.

A function reads its SSM parameters and secrets when an execution environment starts, and
a published version's hash covers its configuration, not the values that configuration
names: a new JWKS in the parameter, or a new version of a secret, would publish nothing,
and the `live` alias would go on serving environments that hold the old values. So the
synthesis reads them (the parameter's value, each secret's current version id) and puts a
digest of them in the functions' environment (`INPUTS_DIGEST`) and in the database role
bootstrap's properties: any change publishes new versions of every function that reads
it, and sets the service's role password again from its secret.

`-c function_inputs=aws` reads them with the caller's credentials (the deploy workflow
passes it); without it the synthesis reads nothing and puts no digest (tests, `make
synth`, a `cdk diff` with no account at hand).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from core.routing import SERVICES
from infra.config import (
    ServiceDeployment,
    StageConfig,
    deployment_for,
    stage_previous_server_secret,
    stage_server_secret,
)

INPUTS_CONTEXT = "function_inputs"
READ_FROM_AWS = "aws"
INPUTS_DIGEST_VARIABLE = "INPUTS_DIGEST"
CURRENT_STAGE = "AWSCURRENT"


class DeployedValues(Protocol):
    """Where the synthesis reads what the functions will read."""

    def parameter(self, name: str) -> str | None:
        """An SSM parameter's value; None when it does not exist."""

    def secret_version(self, name: str) -> str | None:
        """The id of a secret's current version; None when absent or being deleted."""


@dataclass(frozen=True)
class FunctionInputs:
    """One service's inputs, by what reads them: `"parameter:<name>"` or
    `"secret:<name>"` -> the value or version id (None: absent)."""

    values: Mapping[str, str | None]

    @property
    def digest(self) -> str:
        canonical = json.dumps(dict(sorted(self.values.items())), separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def read_names(
    stage: StageConfig, service_name: str, deployment: ServiceDeployment
) -> dict[str, list[str]]:
    """What the service's functions read: its parameters and its secrets, by name."""
    secrets = [
        stage.database_secret_name(service_name),
        *(stage.secret_name(name) for name in deployment.operator_secrets.values()),
        *(stage.secret_name(name) for name in deployment.optional_operator_secrets.values()),
        *(stage.generated_secret_name(variable) for variable in deployment.generated_secrets),
        stage.secret_name(stage_server_secret(service_name)),
        stage.secret_name(stage_previous_server_secret(service_name)),
    ]
    return {"parameters": [stage.jwks_parameter], "secrets": sorted(secrets)}


def read_inputs(
    source: DeployedValues, stage: StageConfig, service_name: str, deployment: ServiceDeployment
) -> FunctionInputs:
    names = read_names(stage, service_name, deployment)
    values: dict[str, str | None] = {}
    for parameter in names["parameters"]:
        values[f"parameter:{parameter}"] = source.parameter(parameter)
    for secret in names["secrets"]:
        values[f"secret:{secret}"] = source.secret_version(secret)
    return FunctionInputs(values)


class AwsDeployedValues:
    """The account's values, read with the caller's credentials (the deploy role's)."""

    def __init__(self, ssm: Any = None, secretsmanager: Any = None) -> None:
        if ssm is None or secretsmanager is None:
            import boto3  # only a synthesis that deploys reads the account

            ssm = ssm or boto3.client("ssm")
            secretsmanager = secretsmanager or boto3.client("secretsmanager")
        self._ssm = ssm
        self._secrets = secretsmanager

    def parameter(self, name: str) -> str | None:
        try:
            value: str = self._ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except self._ssm.exceptions.ParameterNotFound:
            return None
        return value

    def secret_version(self, name: str) -> str | None:
        try:
            described = self._secrets.describe_secret(SecretId=name)
        except self._secrets.exceptions.ResourceNotFoundException:
            return None
        if described.get("DeletedDate"):
            return None  # scheduled for deletion: the functions treat it as absent
        for version, stages in described.get("VersionIdsToStages", {}).items():
            if CURRENT_STAGE in stages:
                return str(version)
        return None


def deployed_values_from_context(value: object) -> DeployedValues | None:
    if value is None:
        return None
    if value == READ_FROM_AWS:
        return AwsDeployedValues()
    raise ValueError(f"-c {INPUTS_CONTEXT}={value!r}: the one source known is {READ_FROM_AWS!r}")


def read_statements(stage: StageConfig) -> list[iam.PolicyStatement]:
    """What the deploy role needs to read every service's inputs: the parameters' values,
    and the secrets' descriptions (version ids, never a secret's value)."""
    names = [read_names(stage, service.name, deployment_for(service)) for service in SERVICES]
    parameters = sorted({name for read in names for name in read["parameters"]})
    secrets = sorted({name for read in names for name in read["secrets"]})

    def arn(service: str, resource: str) -> str:
        return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"

    return [
        iam.PolicyStatement(
            actions=["ssm:GetParameter"],
            resources=[arn("ssm", f"parameter{name}") for name in parameters],
        ),
        iam.PolicyStatement(
            actions=["secretsmanager:DescribeSecret"],
            # A secret's ARN ends in "-" and six random characters.
            resources=[arn("secretsmanager", f"secret:{name}-??????") for name in secrets],
        ),
    ]
