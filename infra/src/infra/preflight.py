"""Before a stage's deploy: what the account and region the credentials point at must
already hold, checked with read-only calls, each answer saying what to do.

    make preflight STAGE=prod        # python -m infra.preflight --stage prod

- the CDK bootstrap (the CDKToolkit stack, its state and version parameter), and its
  execution role holding the stage's scoped policy, never AdministratorAccess;
- GitHub's OIDC provider: absent (the stage's CI access stack creates it), or present (the
  stack must then import it, or already owns it), with the audience STS expects;
- the account's Lambda concurrency quota against what the stage reserves
  (infra.connection_budget);
- SnapStart for Python in the region, when the stage uses it;
- the operator's secrets and the JWKS parameter the functions read;
- the stage's settings: no placeholder origins or admin e-mail where they are refused.

Exits non-zero when any check fails. Nothing is created or changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import DefaultStackSynthesizer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from core.routing import SERVICES
from infra.ci_access_app import OIDC_PROVIDER_CONTEXT, stack_name
from infra.config import DEFAULT_STAGE, SERVICE_DEPLOYMENTS, STAGES, StageConfig, stage_config
from infra.connection_budget import (
    LAMBDA_MIN_UNRESERVED_CONCURRENCY,
    MIGRATION_FUNCTION_CONCURRENCY,
    required_account_concurrency,
)
from infra.stack_states import OPERATOR_ACTIONS, READY
from infra.stacks.ci_access import (
    BOOTSTRAP_QUALIFIER,
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    execution_policy_name,
)

TOOLKIT_STACK = "CDKToolkit"  # `cdk bootstrap`'s default --toolkit-stack-name
BOOTSTRAP_VERSION_PARAMETER = DefaultStackSynthesizer.DEFAULT_BOOTSTRAP_STACK_VERSION_SSM_PARAMETER
# The templates DefaultStackSynthesizer writes refuse older bootstraps (their
# CheckBootstrapVersion rule, the manifest's requiresBootstrapStackVersion); a test holds
# this equal to what a synthesized app requires.
MINIMUM_BOOTSTRAP_VERSION = 6
ADMINISTRATOR_ACCESS = "AdministratorAccess"

LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"

# No API tells whether a region offers SnapStart for Python. Lambda's documentation (its
# SnapStart page, "Supported Regions") lists it in every commercial region but these two;
# China and GovCloud are other partitions, not covered by that statement.
SNAPSTART_UNSUPPORTED_REGIONS = ("ap-southeast-6", "ap-east-2")  # New Zealand, Taipei
COMMERCIAL_PARTITION = "aws"


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    found: str
    # What to do: on a failure, the fix; on a pass, the next step when there is one.
    todo: str = ""

    def render(self) -> str:
        line = f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.found}"
        return f"{line}\n      -> {self.todo}" if self.todo else line


class Account:
    """The account and region of a boto3 session, with one client per service."""

    def __init__(self, session: Any, clients: dict[str, Any] | None = None) -> None:
        self.session = session
        self.region: str = session.region_name
        # Clients made elsewhere stand in for the session's (tests stub what moto lacks).
        self._clients: dict[str, Any] = dict(clients or {})
        self._account_id: str | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = str(self.client("sts").get_caller_identity()["Account"])
        return self._account_id

    @property
    def partition(self) -> str:
        return str(self.session.get_partition_for_region(self.region))


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _bootstrap_command(stage: StageConfig, account: Account) -> str:
    """`cdk bootstrap` with the stage's scoped execution policy (the CI access stack's)."""
    policy = f"arn:{account.partition}:iam::{account.account_id}:policy/"
    return (
        f"npx cdk bootstrap aws://{account.account_id}/{account.region} "
        f"--cloudformation-execution-policies {policy}{execution_policy_name(stage.name)} "
        "(docs/deploying.md, after the CI access stack)"
    )


def check_cdk_bootstrap(stage: StageConfig, account: Account) -> Check:
    name = "CDK bootstrap"
    bootstrap = _bootstrap_command(stage, account)
    try:
        (stack,) = account.client("cloudformation").describe_stacks(StackName=TOOLKIT_STACK)[
            "Stacks"
        ]
    except ClientError as error:
        if _error_code(error) != "ValidationError":  # what "does not exist" comes as
            raise
        return Check(name, False, f"no {TOOLKIT_STACK} stack in {account.region}", bootstrap)
    status = stack["StackStatus"]
    if status not in READY:
        todo = OPERATOR_ACTIONS.get(status, "wait for CloudFormation to finish with it")
        return Check(name, False, f"{TOOLKIT_STACK} is {status}", todo.format(stack=TOOLKIT_STACK))
    parameter = BOOTSTRAP_VERSION_PARAMETER.replace("${Qualifier}", BOOTSTRAP_QUALIFIER)
    try:
        value = account.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        if _error_code(error) != "ParameterNotFound":
            raise
        return Check(name, False, f"{TOOLKIT_STACK} exists but {parameter} does not", bootstrap)
    if not value.isdigit() or int(value) < MINIMUM_BOOTSTRAP_VERSION:
        return Check(
            name,
            False,
            f"bootstrap version {value}, the templates need {MINIMUM_BOOTSTRAP_VERSION} or later",
            f"bootstrap again with the repository's CDK CLI: {bootstrap}",
        )
    return Check(name, True, f"{TOOLKIT_STACK} {status}, bootstrap version {value}")


def check_cdk_execution_policy(stage: StageConfig, account: Account) -> Check:
    """CloudFormation's execution role acts for whoever may deploy (CI's stage role among
    them): bootstrapped with AdministratorAccess, deploying anything means admin. It must
    hold the stage's scoped policy (the CI access stack's), and nothing that broad."""
    name = "CDK execution policy"
    role = f"cdk-{BOOTSTRAP_QUALIFIER}-cfn-exec-role-{account.account_id}-{account.region}"
    scoped = execution_policy_name(stage.name)
    rebootstrap = f"bootstrap again: {_bootstrap_command(stage, account)}"
    try:
        attached = account.client("iam").list_attached_role_policies(RoleName=role)[
            "AttachedPolicies"
        ]
    except ClientError as error:
        if _error_code(error) != "NoSuchEntity":
            raise
        return Check(name, False, f"no role {role}", rebootstrap)
    names = sorted(policy["PolicyName"] for policy in attached)
    if scoped not in names or ADMINISTRATOR_ACCESS in names:
        return Check(name, False, f"{role} has {', '.join(names) or 'no policy'}", rebootstrap)
    return Check(name, True, f"{role} has {', '.join(names)}")


def check_github_oidc_provider(stage: StageConfig, account: Account) -> Check:
    name = "GitHub OIDC provider"
    iam = account.client("iam")
    arns = [
        provider["Arn"]
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        if provider["Arn"].endswith(f":oidc-provider/{GITHUB_OIDC_HOST}")
    ]
    ci_access_stack = stack_name(stage.name)
    if not arns:
        return Check(name, True, "absent", f"the CI access stack ({ci_access_stack}) creates it")
    (arn,) = arns  # IAM allows one provider per issuer URL
    audiences = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"]
    if GITHUB_OIDC_AUDIENCE not in audiences:
        return Check(
            name,
            False,
            f"{arn} does not admit the audience {GITHUB_OIDC_AUDIENCE}",
            "aws iam add-client-id-to-open-id-connect-provider "
            f"--open-id-connect-provider-arn {arn} --client-id {GITHUB_OIDC_AUDIENCE}",
        )
    if arn in _providers_of_stack(account, ci_access_stack):
        return Check(name, True, f"{arn}, made by {ci_access_stack}")
    return Check(
        name,
        True,
        f"{arn}, made outside {ci_access_stack}",
        f"deploy the CI access stack with -c {OIDC_PROVIDER_CONTEXT}={arn} to import it",
    )


def _providers_of_stack(account: Account, stack: str) -> set[str]:
    try:
        resources = account.client("cloudformation").describe_stack_resources(StackName=stack)[
            "StackResources"
        ]
    except ClientError as error:
        if _error_code(error) != "ValidationError":
            raise
        return set()
    return {
        resource.get("PhysicalResourceId", "")
        for resource in resources
        if resource["ResourceType"] == "AWS::IAM::OIDCProvider"
    }


def reserved_concurrency(stage: StageConfig) -> int:
    """What the stage's functions reserve out of the account's concurrency, in all: each
    service function and each migration function (infra.connection_budget)."""
    needed = required_account_concurrency(stage.function_reserved_concurrency, len(SERVICES))
    return needed - LAMBDA_MIN_UNRESERVED_CONCURRENCY


def check_lambda_concurrency(stage: StageConfig, account: Account) -> Check:
    name = "Lambda concurrency quota"
    limits = account.client("lambda").get_account_settings()["AccountLimit"]
    quota = int(limits["ConcurrentExecutions"])
    needed = required_account_concurrency(stage.function_reserved_concurrency, len(SERVICES))
    found = (
        f"{quota} concurrent executions ({limits['UnreservedConcurrentExecutions']} unreserved); "
        f"{stage.name} reserves {len(SERVICES)} x ({stage.function_reserved_concurrency} + "
        f"{MIGRATION_FUNCTION_CONCURRENCY}) = {reserved_concurrency(stage)}, and Lambda keeps "
        f"{LAMBDA_MIN_UNRESERVED_CONCURRENCY} unreserved"
    )
    if quota < needed:
        return Check(
            name,
            False,
            found,
            f"ask for at least {needed}: Service Quotas, AWS Lambda, Concurrent executions "
            f"({LAMBDA_CONCURRENCY_QUOTA_CODE}), in {account.region}",
        )
    return Check(name, True, found)


def check_snapstart_region(stage: StageConfig, account: Account) -> Check:
    name = "SnapStart for Python"
    if not stage.function_snap_start:
        return Check(name, True, f"{stage.name} does not use SnapStart")
    supported = (
        account.partition == COMMERCIAL_PARTITION
        and account.region not in SNAPSTART_UNSUPPORTED_REGIONS
    )
    if not supported:
        return Check(
            name,
            False,
            f"not offered in {account.region} (by Lambda's list of regions: no API tells)",
            f"deploy {stage.name} to another region, or set its function_snap_start=False "
            "in infra/src/infra/config.py",
        )
    return Check(name, True, f"offered in {account.region} (by Lambda's list of regions)")


def check_operator_secrets(stage: StageConfig, account: Account) -> list[Check]:
    secrets = account.client("secretsmanager")
    checks = []
    for deployment in SERVICE_DEPLOYMENTS.values():
        for secret in deployment.operator_secrets.values():
            secret_id = stage.secret_name(secret)
            name = f"secret {secret_id}"
            try:
                described = secrets.describe_secret(SecretId=secret_id)
            except ClientError as error:
                if _error_code(error) != "ResourceNotFoundException":
                    raise
                checks.append(
                    Check(
                        name,
                        False,
                        "absent",
                        "create it: docs/deploying.md, step 8 (Secrets and keys)",
                    )
                )
                continue
            if described.get("DeletedDate"):
                checks.append(
                    Check(
                        name,
                        False,
                        f"scheduled for deletion on {described['DeletedDate']:%Y-%m-%d}",
                        f"aws secretsmanager restore-secret --secret-id {secret_id}",
                    )
                )
                continue
            checks.append(Check(name, True, "present"))
    return checks


def check_jwks_parameter(stage: StageConfig, account: Account) -> Check:
    name = f"parameter {stage.jwks_parameter}"
    publish = "publish the signing key's JWKS: docs/deploying.md, step 8 (Secrets and keys)"
    try:
        value = account.client("ssm").get_parameter(Name=stage.jwks_parameter)["Parameter"]["Value"]
    except ClientError as error:
        if _error_code(error) != "ParameterNotFound":
            raise
        return Check(name, False, "absent", publish)
    try:
        keys = json.loads(value)["keys"]
        kids = [key["kid"] for key in keys]
    except (ValueError, KeyError, TypeError):
        return Check(name, False, "not a JSON Web Key Set with a kid on every key", publish)
    if not kids:
        return Check(name, False, "a JSON Web Key Set without keys", publish)
    return Check(name, True, f"keys {', '.join(kids)}")


def check_stage_settings(stage: StageConfig, account: Account) -> Check:
    name = "stage settings"
    placeholders = stage.placeholder_settings()
    if not placeholders:
        return Check(name, True, "no placeholder origins or admin e-mail")
    if not stage.refuses_placeholders:
        return Check(name, True, f"{stage.name} may keep placeholders ({len(placeholders)})")
    return Check(
        name,
        False,
        "; ".join(placeholders),
        f"set {stage.name}'s portal_origins and bootstrap_admin_email in "
        "infra/src/infra/config.py (its synthesis fails until then)",
    )


CheckFunction = Callable[[StageConfig, Account], Check | list[Check]]
CHECKS: tuple[tuple[str, CheckFunction], ...] = (
    ("stage settings", check_stage_settings),
    ("CDK bootstrap", check_cdk_bootstrap),
    ("CDK execution policy", check_cdk_execution_policy),
    ("GitHub OIDC provider", check_github_oidc_provider),
    ("Lambda concurrency quota", check_lambda_concurrency),
    ("SnapStart for Python", check_snapstart_region),
    ("operator secrets", check_operator_secrets),
    ("JWKS parameter", check_jwks_parameter),
)


def run_checks(stage: StageConfig, account: Account) -> list[Check]:
    """Every check; one the credentials may not read fails with AWS's answer."""
    results: list[Check] = []
    for name, check in CHECKS:
        try:
            outcome = check(stage, account)
        except (ClientError, BotoCoreError) as error:
            outcome = Check(name, False, f"could not read: {error}", "use credentials that may")
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results


def main(argv: Sequence[str] | None = None, account: Account | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default=DEFAULT_STAGE, choices=sorted(STAGES))
    parser.add_argument("--region", help="default: the AWS CLI's (AWS_REGION, the profile)")
    args = parser.parse_args(argv)
    if account is None:
        import boto3

        # boto3 reads AWS_DEFAULT_REGION and the profile, not AWS_REGION, which the AWS
        # CLI (and the deploy workflow) also go by.
        session = boto3.Session(region_name=args.region or os.environ.get("AWS_REGION"))
        if not session.region_name:
            sys.stderr.write("no region: set AWS_REGION or pass --region\n")
            return 2
        account = Account(session)
    try:
        account_id = account.account_id
    except (NoCredentialsError, ClientError, BotoCoreError) as error:
        sys.stderr.write(f"no usable AWS credentials: {error}\n")
        return 2
    stage = stage_config(args.stage)
    sys.stdout.write(f"preflight of {stage.name} in account {account_id}, {account.region}\n")
    results = run_checks(stage, account)
    sys.stdout.writelines(result.render() + "\n" for result in results)
    failed = sum(not result.passed for result in results)
    sys.stdout.write(f"{failed} of {len(results)} checks failed\n" if failed else "all passed\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
