"""The CI access stack: GitHub's OIDC provider and one deploy role per stage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match, Template

from infra.ci_access_app import REPOSITORY_CONTEXT, build
from infra.config import STAGES
from infra.stacks.ci_access import BOOTSTRAP_ROLES, deploy_role_name

pytestmark = pytest.mark.slow

REPOSITORY = "example-org/coupon-platform"


@pytest.fixture(scope="module")
def template() -> Template:
    app = App(context={REPOSITORY_CONTEXT: REPOSITORY})
    stack = build(app)
    app.synth()
    rules = Match.string_like_regexp("AwsSolutions-.*")
    annotations = Annotations.from_stack(stack)
    findings = annotations.find_error("*", rules) + annotations.find_warning("*", rules)
    assert findings == [], [f"{f.id}: {f.entry.data}" for f in findings]
    return Template.from_stack(stack)


def _roles(template: Template) -> dict[str, dict[str, Any]]:
    return {
        role["Properties"]["RoleName"]: role["Properties"]
        for role in template.find_resources("AWS::IAM::Role").values()
    }


def test_github_is_the_one_identity_provider(template: Template) -> None:
    template.resource_count_is("AWS::IAM::OIDCProvider", 1)
    template.has_resource_properties(
        "AWS::IAM::OIDCProvider",
        {
            "Url": "https://token.actions.githubusercontent.com",
            "ClientIdList": ["sts.amazonaws.com"],
        },
    )
    template.resource_count_is("AWS::IAM::User", 0)
    template.resource_count_is("AWS::IAM::AccessKey", 0)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_role_trusts_only_jobs_in_that_stages_environment(
    template: Template, stage: str
) -> None:
    role = _roles(template)[deploy_role_name(stage)]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:environment:{stage}",
        }
    }
    assert role["MaxSessionDuration"] == 3600


def test_the_roles_may_only_assume_the_cdk_bootstrap_roles(template: Template) -> None:
    policies = template.find_resources("AWS::IAM::Policy")
    assert len(policies) == len(STAGES)
    for policy in policies.values():
        (statement, *reads) = policy["Properties"]["PolicyDocument"]["Statement"]
        # And read what the functions read, for the synthesis's digest (infra.function_inputs).
        assert [read["Action"] for read in reads] == [
            "ssm:GetParameter",
            "secretsmanager:DescribeSecret",
        ]
        for read in reads:
            resource = json.dumps(read["Resource"])
            assert (
                ":parameter/coupon-platform/" in resource or ":secret:coupon-platform/" in resource
            )
            assert "*" not in resource, resource
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        resources = json.dumps(statement["Resource"])
        assert "*" not in resources
        for kind in BOOTSTRAP_ROLES:
            assert f"role/cdk-hnb659fds-{kind}-" in resources
        assert len(statement["Resource"]) == len(BOOTSTRAP_ROLES)


def test_the_repository_must_be_named() -> None:
    with pytest.raises(SystemExit, match=REPOSITORY_CONTEXT):
        build(App())
    with pytest.raises(ValueError, match="OWNER/NAME"):
        build(App(context={REPOSITORY_CONTEXT: "no-owner"}))
