"""Each service's main.py starts under the environment its synthesized function gets.

What CloudFormation would resolve (imports, references, the SSM parameter) is replaced by a
plausible value of the same kind; the secrets named in SECRET_ENVIRONMENT and the database
secret come from a stubbed Secrets Manager. A setting a deployed service refuses to start
without, and that no stack sets, fails here instead of at the first cold start in AWS.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from core.routing import SERVICES, ServiceRoutes
from devstack.stack.services import REPO_ROOT, service_dir
from svc_auth.utils.signing import KeyRing, SigningKey

pytestmark = pytest.mark.slow

REGION = "eu-west-1"
ACCOUNT = "123456789012"
API_ENDPOINT = f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
SIGNING_KEY = SigningKey.generate()
JWKS = json.dumps(KeyRing(SIGNING_KEY).jwks())


class Placeholders:
    """Resolves a template value the way CloudFormation would, with made-up identities."""

    def __init__(self, templates: Mapping[str, dict[str, Any]]) -> None:
        self._templates = templates
        # Placeholder ARN -> the secret's properties, for a fake value of the right shape.
        self.secrets: dict[str, dict[str, Any]] = {}
        self._exports = {
            output["Export"]["Name"]: (stack, output["Value"])
            for stack, template in templates.items()
            for output in template.get("Outputs", {}).values()
            if "Export" in output
        }

    def resolve(self, stack: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        assert isinstance(value, dict), value
        assert len(value) == 1, value
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(self.resolve(stack, part) for part in parts)
        if function == "Fn::ImportValue":
            exporter, exported = self._exports[argument]
            return self.resolve(exporter, exported)
        if function == "Ref":
            return self._ref(stack, argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument
            return self._attribute(stack, logical_id, attribute)
        raise AssertionError(f"no placeholder for {value}")

    def _ref(self, stack: str, logical_id: str) -> str:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        template = self._templates[stack]
        parameter = template.get("Parameters", {}).get(logical_id)
        if parameter is not None:
            assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>", parameter
            assert parameter["Default"].endswith("/jwt-jwks"), parameter
            return JWKS
        resource = template["Resources"][logical_id]
        kind, properties = resource["Type"], resource["Properties"]
        if kind == "AWS::SecretsManager::Secret":
            name = properties.get("Name") or logical_id
            arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
            self.secrets[arn] = properties
            return arn
        if kind == "AWS::SecretsManager::SecretTargetAttachment":
            return self.resolve(stack, properties["SecretId"])
        if kind == "AWS::DynamoDB::Table":
            return f"{stack}-{logical_id}"
        if kind == "AWS::Events::EventBus":
            return str(properties["Name"])
        raise AssertionError(f"no placeholder for Ref {kind} {logical_id}")

    def _attribute(self, stack: str, logical_id: str, attribute: str) -> str:
        resource = self._templates[stack]["Resources"][logical_id]
        kind = resource["Type"]
        if (kind, attribute) == ("AWS::ApiGatewayV2::Api", "ApiEndpoint"):
            return API_ENDPOINT
        if (kind, attribute) == ("AWS::RDS::DBProxy", "Endpoint"):
            name = resource["Properties"]["DBProxyName"]
            return f"{name}.proxy-c0ffee12.{REGION}.rds.amazonaws.com"
        if (kind, attribute) == ("AWS::RDS::DBInstance", "Endpoint.Address"):
            return f"{logical_id.lower()}.c0ffee12.{REGION}.rds.amazonaws.com"
        raise AssertionError(f"no placeholder for {kind} {logical_id}.{attribute}")


def _service_function(template: dict[str, Any]) -> dict[str, Any]:
    """The function the aliases point at; the migration function shares its handler."""
    resources = template["Resources"]
    (logical_id,) = {
        resource["Properties"]["FunctionName"]["Ref"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Alias"
    }
    function: dict[str, Any] = resources[logical_id]["Properties"]
    return function


# What an operator or CDK puts in each secret a function may name.
SECRET_VALUES = {
    "AUTH_SIGNING_KEY": SIGNING_KEY.to_pem(),
    "BOOTSTRAP_ADMIN_PASSWORD": secrets.token_urlsafe(24),
    "SERVER_SECRET": secrets.token_urlsafe(36),
}


def _fake_secrets(environment: Mapping[str, str], placeholders: Placeholders) -> dict[str, str]:
    """Secret id -> value for every required secret the environment names; the optional
    ones stay absent, as before any signing-key rotation. The database secret is what
    Secrets Manager generates from the secret's template."""
    stored = {}
    for variable, secret_id in json.loads(environment.get("SECRET_ENVIRONMENT", "{}")).items():
        assert variable in SECRET_VALUES, f"no fake value for the secret of {variable}"
        stored[secret_id] = SECRET_VALUES[variable]
    database_secret = placeholders.secrets[environment["DATABASE_SECRET_ARN"]]
    generate = database_secret["GenerateSecretString"]
    generated = json.loads(generate["SecretStringTemplate"])
    generated[generate["GenerateStringKey"]] = secrets.token_urlsafe(24)
    stored[environment["DATABASE_SECRET_ARN"]] = json.dumps(generated)
    return stored


# Imports main.py as the Lambda runtime would, with Secrets Manager stubbed out: an unknown
# id answers ResourceNotFoundException, as AWS does, and any other AWS client is refused
# (building the app must not call AWS).
IMPORT_MAIN = r"""
import importlib.util, json, sys
import boto3
from botocore.exceptions import ClientError

stored = json.loads(sys.argv[2])
asked = []

class SecretsManager:
    def get_secret_value(self, SecretId):
        asked.append(SecretId)
        if SecretId not in stored:
            error = {"Code": "ResourceNotFoundException", "Message": "not found"}
            raise ClientError({"Error": error}, "GetSecretValue")
        return {"SecretString": stored[SecretId]}

def client(service, *args, **kwargs):
    assert service == "secretsmanager", f"{service} called while building the app"
    return SecretsManager()

boto3.client = client
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)

from fastapi import FastAPI
from sqlalchemy import make_url

assert isinstance(main.app, FastAPI)
assert callable(main.handler)
url = make_url(main.app.state.runtime.database.url())
print(json.dumps({
    "service": main.app.state.runtime.name,
    "environment": str(main.platform.environment),
    "issuer": main.platform.jwt_issuer,
    "database": [url.host, url.port, url.database, url.username, dict(url.query)],
    "asked": sorted(asked),
}))
"""


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_main_starts_with_the_synthesized_environment(
    synthesized: Any, service: ServiceRoutes
) -> None:
    stage = synthesized.platform.stage
    templates = {stack.stack_name: stack.template for stack in synthesized.assembly.stacks}
    stack_name = synthesized.platform.services[service.name].stack_name
    variables = _service_function(templates[stack_name])["Environment"]["Variables"]
    placeholders = Placeholders(templates)
    environment = {
        name: placeholders.resolve(stack_name, value) for name, value in variables.items()
    }
    assert environment["ENVIRONMENT"] == stage.name  # dev and prod: secrets are enforced
    stored = _fake_secrets(environment, placeholders)

    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            IMPORT_MAIN,
            str(service_dir(service) / "main.py"),
            json.dumps(stored),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        # What the Lambda runtime adds; nothing of this machine's environment leaks in.
        env={**environment, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    started = json.loads(done.stdout.strip().splitlines()[-1])
    assert started["service"] == service.name
    assert started["environment"] == stage.name
    assert started["issuer"] == API_ENDPOINT
    proxy = environment["DATABASE_PROXY_ENDPOINT"]
    # As the service's own role, through the proxy, over TLS.
    role = f"svc_{service.name}"
    assert started["database"] == [proxy, 5432, "coupons", role, {"ssl": "require"}]
    optional = json.loads(environment.get("OPTIONAL_SECRET_ENVIRONMENT", "{}"))
    assert set(started["asked"]) == {*stored, *optional.values()}
