"""What GitHub Actions deploys with: GitHub's OpenID Connect provider, and one role per
stage that only this repository's jobs running in that stage's GitHub environment may
assume. No long-lived key exists anywhere.

The role may do one thing: assume the roles `cdk bootstrap` made (deploying through
CloudFormation, publishing the bundles), so what CI can change is what CloudFormation's
execution role may change, and nothing is created outside a stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import PROJECT, stage_config
from infra.function_inputs import read_statements

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
BOOTSTRAP_QUALIFIER = "hnb659fds"  # `cdk bootstrap`'s default
# `cdk deploy` and `cdk diff` need these two of the bootstrap roles: the bundles are file
# assets, and the app looks nothing up.
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role")


def deploy_role_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-github-deploy"


def bootstrap_role_arn(kind: str, qualifier: str = BOOTSTRAP_QUALIFIER) -> str:
    return (
        f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/"
        f"cdk-{qualifier}-{kind}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
    )


class CiAccessStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: str,
        stages: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise ValueError(f"the GitHub repository is OWNER/NAME, not {repository!r}")
        provider = iam.OidcProviderNative(
            self, "GitHub", url=GITHUB_OIDC_URL, client_ids=[GITHUB_OIDC_AUDIENCE]
        )
        self.roles: dict[str, iam.Role] = {}
        for stage in stages:
            role = iam.Role(
                self,
                f"{stage.title()}Deploy",
                role_name=deploy_role_name(stage),
                description=f"GitHub Actions deploying {repository} to {stage}",
                max_session_duration=Duration.hours(1),
                assumed_by=iam.WebIdentityPrincipal(
                    provider.oidc_provider_arn,
                    conditions={
                        "StringEquals": {
                            "token.actions.githubusercontent.com:aud": GITHUB_OIDC_AUDIENCE,
                            # Only a job that runs in the stage's environment: on prod, one
                            # a required reviewer approved.
                            "token.actions.githubusercontent.com:sub": (
                                f"repo:{repository}:environment:{stage}"
                            ),
                        }
                    },
                ),
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["sts:AssumeRole", "sts:TagSession"],
                    resources=[bootstrap_role_arn(kind) for kind in BOOTSTRAP_ROLES],
                )
            )
            # The synthesis reads what the functions read, to digest it.
            for statement in read_statements(stage_config(stage)):
                role.add_to_policy(statement)
            self.roles[stage] = role
