"""`make preflight`: each check passes on an account ready for the stage and fails on the
state it exists to catch. moto plays the account where it has the API; Lambda's account
settings (which moto lacks) come from botocore's Stubber."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3_assets as s3_assets
from botocore.stub import Stubber
from moto import mock_aws

from core.routing import SERVICES
from infra import preflight
from infra.config import STAGES, StageConfig, stage_config
from infra.preflight import (
    MINIMUM_BOOTSTRAP_VERSION,
    Account,
    Check,
    reserved_concurrency,
    run_checks,
)
from infra.stacks.ci_access import execution_policy_name

REGION = "eu-west-1"
ADMINISTRATOR_ACCESS_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
JWKS = {"keys": [{"kty": "RSA", "kid": "key-1", "n": "AQAB", "e": "AQAB"}]}


def _toolkit_template(version: str | None) -> str:
    """The CDKToolkit stack as far as the preflight reads it: its version parameter."""
    resources: dict[str, Any] = {"Bucket": {"Type": "AWS::S3::Bucket"}}
    if version is not None:
        resources["Version"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": "/cdk-bootstrap/hnb659fds/version",
                "Type": "String",
                "Value": version,
            },
        }
    return json.dumps({"Resources": resources})


class FakeAccount:
    """A moto account, set up piece by piece; `account(quota)` checks it."""

    def __init__(self) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.account_id = self.session.client("sts").get_caller_identity()["Account"]
        self.execution_role = f"cdk-hnb659fds-cfn-exec-role-{self.account_id}-{REGION}"

    def bootstrap(self, version: str | None = "21", policies: list[str] | None = None) -> None:
        """`cdk bootstrap`, by default with every stage's scoped execution policy (both
        stages in this one account)."""
        self.session.client("cloudformation").create_stack(
            StackName="CDKToolkit", TemplateBody=_toolkit_template(version)
        )
        iam = self.session.client("iam")
        iam.create_role(RoleName=self.execution_role, AssumeRolePolicyDocument="{}")
        if policies is None:
            policies = [self.policy(execution_policy_name(stage)) for stage in STAGES]
        for policy_arn in policies:
            iam.attach_role_policy(RoleName=self.execution_role, PolicyArn=policy_arn)

    def policy(self, name: str) -> str:
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}],
        }
        return str(
            self.session.client("iam").create_policy(
                PolicyName=name, PolicyDocument=json.dumps(document)
            )["Policy"]["Arn"]
        )

    def github_provider(self, audiences: list[str]) -> str:
        return str(
            self.session.client("iam").create_open_id_connect_provider(
                Url=GITHUB_OIDC_URL, ClientIDList=audiences, ThumbprintList=["0" * 40]
            )["OpenIDConnectProviderArn"]
        )

    def operator_secrets(self, stage: StageConfig) -> None:
        self.session.client("secretsmanager").create_secret(
            Name=stage.secret_name("auth-signing-key"), SecretString="PEM"
        )

    def jwks(self, stage: StageConfig, value: str = json.dumps(JWKS)) -> None:
        self.session.client("ssm").put_parameter(
            Name=stage.jwks_parameter, Type="String", Value=value
        )

    def ready_for(self, stage: StageConfig) -> None:
        self.operator_secrets(stage)
        self.jwks(stage)

    def account(self, quota: int = 1000, unreserved: int | None = None) -> Account:
        return Account(self.session, clients={"lambda": lambda_settings(quota, unreserved)})


def lambda_settings(quota: int, unreserved: int | None = None) -> Any:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    limits = {
        "ConcurrentExecutions": quota,
        "UnreservedConcurrentExecutions": quota if unreserved is None else unreserved,
    }
    stubber.add_response("get_account_settings", {"AccountLimit": limits, "AccountUsage": {}})
    stubber.activate()
    return client


@pytest.fixture
def aws() -> Iterator[FakeAccount]:
    with mock_aws():
        yield FakeAccount()


@pytest.fixture
def prod(deployable_stage: Callable[[StageConfig], StageConfig]) -> StageConfig:
    return deployable_stage(stage_config("prod"))


def _check(results: list[Check], name: str) -> Check:
    (found,) = [result for result in results if result.name == name]
    return found


def _run(stage: StageConfig, account: Account, name: str) -> Check:
    return _check(run_checks(stage, account), name)


def test_an_account_ready_for_prod_passes_every_check(aws: FakeAccount, prod: StageConfig) -> None:
    aws.bootstrap()
    aws.ready_for(prod)
    results = run_checks(prod, aws.account())
    assert [result.render() for result in results if not result.passed] == []
    assert {result.name for result in results} >= {
        "stage settings",
        "CDK bootstrap",
        "CDK execution policy",
        "GitHub OIDC provider",
        "Lambda concurrency quota",
        "SnapStart for Python",
        "secret coupon-platform/prod/auth-signing-key",
        "parameter /coupon-platform/prod/jwt-jwks",
    }


def test_the_command_exits_non_zero_on_any_failure(
    aws: FakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.bootstrap()
    for stage in STAGES.values():
        aws.ready_for(stage)
    assert preflight.main(["--stage", "dev"], account=aws.account()) == 0
    assert capsys.readouterr().out.endswith("all passed\n")
    # prod as configured still has its placeholder origins and admin e-mail.
    assert preflight.main(["--stage", "prod"], account=aws.account()) == 1
    out = capsys.readouterr().out
    assert "FAIL  stage settings: portal origin https://merchant.coupon-exchange.example" in out
    assert "-> set prod's portal_origins and bootstrap_admin_email" in out
    assert out.endswith("1 of 8 checks failed\n")


@pytest.mark.parametrize(
    ("bootstrap", "found"),
    [
        (None, "no CDKToolkit stack"),
        ({"version": None}, "/cdk-bootstrap/hnb659fds/version does not"),
        ({"version": str(MINIMUM_BOOTSTRAP_VERSION - 1)}, "bootstrap version 5"),
    ],
)
def test_a_missing_or_old_cdk_bootstrap_fails(
    aws: FakeAccount, prod: StageConfig, bootstrap: dict[str, Any] | None, found: str
) -> None:
    if bootstrap is not None:
        aws.bootstrap(**bootstrap)
    check = _run(prod, aws.account(), "CDK bootstrap")
    assert not check.passed
    assert found in check.found
    assert f"npx cdk bootstrap aws://{aws.account_id}/{REGION}" in check.todo


def test_a_cdk_bootstrap_in_progress_fails(prod: StageConfig) -> None:
    session = boto3.Session(region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    cloudformation = session.client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "CDKToolkit",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "UPDATE_ROLLBACK_FAILED",
                }
            ]
        },
    )
    stubber.activate()
    sts = session.client("sts")
    sts_stub = Stubber(sts)
    sts_stub.add_response("get_caller_identity", {"Account": "123456789012"})
    sts_stub.activate()
    account = Account(session, clients={"cloudformation": cloudformation, "sts": sts})
    check = preflight.check_cdk_bootstrap(prod, account)
    assert not check.passed
    assert check.found == "CDKToolkit is UPDATE_ROLLBACK_FAILED"
    assert "aws cloudformation continue-update-rollback --stack-name CDKToolkit" in check.todo


@pytest.fixture
def aws_managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto loads AWS's managed policies (AdministratorAccess among them) only when asked."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def test_an_administrator_execution_role_fails(
    aws_managed_policies: None, aws: FakeAccount, prod: StageConfig
) -> None:
    scoped = aws.policy("coupon-platform-prod-cfn-execution")
    aws.bootstrap(policies=[scoped, ADMINISTRATOR_ACCESS_ARN])
    check = _run(prod, aws.account(), "CDK execution policy")
    assert not check.passed
    assert "AdministratorAccess" in check.found
    assert check.todo.startswith(
        f"bootstrap again: npx cdk bootstrap aws://{aws.account_id}/{REGION} "
        "--cloudformation-execution-policies "
        f"arn:aws:iam::{aws.account_id}:policy/coupon-platform-prod-cfn-execution "
    )


def test_an_execution_role_without_the_stages_policy_fails(
    aws: FakeAccount, prod: StageConfig
) -> None:
    aws.bootstrap(policies=[aws.policy("coupon-platform-dev-cfn-execution")])
    check = _run(prod, aws.account(), "CDK execution policy")
    assert not check.passed
    assert check.found.endswith("has coupon-platform-dev-cfn-execution")
    assert _run(stage_config("dev"), aws.account(), "CDK execution policy").passed


def test_no_execution_role_fails(aws: FakeAccount, prod: StageConfig) -> None:
    check = _run(prod, aws.account(), "CDK execution policy")
    assert not check.passed
    assert check.found == f"no role {aws.execution_role}"


def test_github_provider_absent_is_created_present_is_imported(
    aws: FakeAccount, prod: StageConfig
) -> None:
    absent = _run(prod, aws.account(), "GitHub OIDC provider")
    assert absent.passed
    assert absent.found == "absent"
    assert absent.todo == "the CI access stack (coupon-platform-prod-ci-access) creates it"

    arn = aws.github_provider(["sts.amazonaws.com"])
    present = _run(prod, aws.account(), "GitHub OIDC provider")
    assert present.passed
    assert present.found.startswith(arn)
    assert present.todo == (
        f"deploy the CI access stack with -c github_oidc_provider_arn={arn} to import it"
    )


def test_github_provider_without_the_sts_audience_fails(
    aws: FakeAccount, prod: StageConfig
) -> None:
    arn = aws.github_provider(["sigstore"])
    check = _run(prod, aws.account(), "GitHub OIDC provider")
    assert not check.passed
    assert check.todo == (
        "aws iam add-client-id-to-open-id-connect-provider "
        f"--open-id-connect-provider-arn {arn} --client-id sts.amazonaws.com"
    )


def test_github_provider_of_the_ci_access_stack_needs_nothing(prod: StageConfig) -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    session = boto3.Session(region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    iam = session.client("iam")
    iam_stub = Stubber(iam)
    iam_stub.add_response(
        "list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": arn}]}
    )
    iam_stub.add_response("get_open_id_connect_provider", {"ClientIDList": ["sts.amazonaws.com"]})
    iam_stub.activate()
    cloudformation = session.client("cloudformation")
    cloudformation_stub = Stubber(cloudformation)
    cloudformation_stub.add_response(
        "describe_stack_resources",
        {
            "StackResources": [
                {
                    "LogicalResourceId": "GitHub",
                    "PhysicalResourceId": arn,
                    "ResourceType": "AWS::IAM::OIDCProvider",
                    "Timestamp": "2026-01-01T00:00:00Z",
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            ]
        },
        {"StackName": "coupon-platform-prod-ci-access"},
    )
    cloudformation_stub.activate()
    account = Account(session, clients={"iam": iam, "cloudformation": cloudformation})
    check = preflight.check_github_oidc_provider(prod, account)
    assert check.passed
    assert check.found == f"{arn}, made by coupon-platform-prod-ci-access"
    assert check.todo == ""


def test_the_concurrency_quota_must_cover_what_the_stage_reserves(
    aws: FakeAccount, prod: StageConfig
) -> None:
    for stage in (prod, stage_config("dev")):
        # Read from the stage's config, as the check does: each service function and each
        # migration function reserves, and Lambda keeps 100 unreserved.
        reserved_per_service = stage.function_reserved_concurrency + 1
        needed = reserved_per_service * len(SERVICES) + 100
        assert reserved_concurrency(stage) + 100 == needed

        short = _run(stage, aws.account(quota=needed - 1), "Lambda concurrency quota")
        assert not short.passed
        assert short.todo == (
            f"ask for at least {needed}: Service Quotas, AWS Lambda, Concurrent executions "
            f"(L-B99A9384), in {REGION}"
        )
        assert _run(stage, aws.account(quota=needed), "Lambda concurrency quota").passed
    # A new account's quota.
    assert not _run(prod, aws.account(quota=10), "Lambda concurrency quota").passed


@pytest.mark.slow
def test_the_reserved_concurrency_is_what_the_templates_reserve(synthesized: Any) -> None:
    stage = synthesized.platform.stage
    reserved = [
        resource["Properties"].get("ReservedConcurrentExecutions", 0)
        for stack in synthesized.assembly.stacks
        for resource in stack.template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    assert sum(reserved) == reserved_concurrency(stage)


def test_an_unreadable_account_setting_fails_its_check(prod: StageConfig) -> None:
    session = boto3.Session(region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    client = session.client("lambda")
    stubber = Stubber(client)
    stubber.add_client_error("get_account_settings", "AccessDeniedException", "not allowed")
    stubber.activate()
    results = run_checks(prod, Account(session, clients={"lambda": client}))
    check = _check(results, "Lambda concurrency quota")
    assert not check.passed
    assert "AccessDeniedException" in check.found


@pytest.mark.parametrize(
    ("region", "offered"),
    [("eu-west-1", True), ("us-east-1", True), ("ap-east-2", False), ("cn-north-1", False)],
)
def test_snapstart_for_python_in_the_region(prod: StageConfig, region: str, offered: bool) -> None:
    # No API: the check reads the region's name only.
    account = Account(boto3.Session(region_name=region))
    check = preflight.check_snapstart_region(prod, account)
    assert check.passed is offered
    assert "no API tells" in check.found or offered
    # A stage without SnapStart does not care where it runs.
    assert preflight.check_snapstart_region(stage_config("dev"), account).passed


def test_a_missing_or_deleted_signing_key_fails(aws: FakeAccount, prod: StageConfig) -> None:
    name = "secret coupon-platform/prod/auth-signing-key"
    absent = _run(prod, aws.account(), name)
    assert not absent.passed
    assert absent.found == "absent"

    aws.operator_secrets(prod)
    secrets = aws.session.client("secretsmanager")
    secrets.delete_secret(SecretId=prod.secret_name("auth-signing-key"))
    deleted = _run(prod, aws.account(), name)
    assert not deleted.passed
    assert deleted.found.startswith("scheduled for deletion")
    assert "restore-secret" in deleted.todo


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (None, "absent"),
        ("not json", "not a JSON Web Key Set with a kid on every key"),
        (json.dumps({"keys": [{"kty": "RSA"}]}), "not a JSON Web Key Set with a kid on every key"),
        (json.dumps({"keys": []}), "a JSON Web Key Set without keys"),
    ],
)
def test_a_missing_or_broken_jwks_fails(
    aws: FakeAccount, prod: StageConfig, value: str | None, found: str
) -> None:
    if value is not None:
        aws.jwks(prod, value)
    check = _run(prod, aws.account(), "parameter /coupon-platform/prod/jwt-jwks")
    assert not check.passed
    assert check.found == found


def test_placeholder_settings_fail_where_the_stage_refuses_them(
    aws: FakeAccount, prod: StageConfig
) -> None:
    as_configured = _run(stage_config("prod"), aws.account(), "stage settings")
    assert not as_configured.passed
    assert "bootstrap admin e-mail platform-admin@coupon-exchange.example" in as_configured.found
    assert _run(prod, aws.account(), "stage settings").passed
    # dev's origins are the portals' local servers, and stay.
    assert _run(stage_config("dev"), aws.account(), "stage settings").passed
    one_left = replace(prod, bootstrap_admin_email="ops@mail.example.com")
    assert not _run(one_left, aws.account(), "stage settings").passed


@pytest.mark.slow
def test_the_minimum_bootstrap_version_is_what_synthesized_apps_require(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe")
    (tmp_path / "asset.txt").write_text("x")
    s3_assets.Asset(stack, "File", path=str(tmp_path / "asset.txt"))
    app.synth()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    required = {
        artifact["properties"]["requiresBootstrapStackVersion"]
        for artifact in manifest["artifacts"].values()
        if "requiresBootstrapStackVersion" in artifact.get("properties", {})
    }
    assert required == {MINIMUM_BOOTSTRAP_VERSION}


def test_the_region_is_the_aws_clis(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS_REGION, which boto3 alone would not read, or --region; none is an error."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with mock_aws():
        assert preflight.main(["--stage", "dev"]) == 2
        assert "no region" in capsys.readouterr().err
        monkeypatch.setenv("AWS_REGION", "eu-central-1")
        preflight.main(["--stage", "dev"])
        assert "in account 123456789012, eu-central-1\n" in capsys.readouterr().out
        preflight.main(["--stage", "dev", "--region", "us-east-2"])
        assert "in account 123456789012, us-east-2\n" in capsys.readouterr().out
