"""The CI access stack: GitHub's OIDC provider, one stage's deploy role, and the policies
`cdk bootstrap` and the platform's roles are held to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match, Template

from infra.ci_access_app import (
    OIDC_PROVIDER_CONTEXT,
    REPOSITORY_CONTEXT,
    STAGE_CONTEXT,
    build,
    stack_name,
)
from infra.config import STAGES
from infra.stacks.ci_access import (
    BOOTSTRAP_ROLES,
    DEPLOY_SESSION,
    OIDC_SUBJECT_CLAIM_KEYS,
    deploy_role_name,
    execution_policy_name,
    role_boundary_name,
)

pytestmark = pytest.mark.slow

REPOSITORY = "example-org/coupon-platform"
ROOT = Path(__file__).resolve().parents[2]


def _synth(**context: str) -> Template:
    app = App(context={REPOSITORY_CONTEXT: REPOSITORY, **context})
    stack = build(app)
    app.synth()
    rules = Match.string_like_regexp("AwsSolutions-.*")
    annotations = Annotations.from_stack(stack)
    findings = annotations.find_error("*", rules) + annotations.find_warning("*", rules)
    assert findings == [], [f"{f.id}: {f.entry.data}" for f in findings]
    return Template.from_stack(stack)


@pytest.fixture(scope="module", params=sorted(STAGES))
def stage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def template(stage: str) -> Template:
    return _synth(**{STAGE_CONTEXT: stage})


def _roles(template: Template) -> dict[str, dict[str, Any]]:
    return {
        role["Properties"]["RoleName"]: role["Properties"]
        for role in template.find_resources("AWS::IAM::Role").values()
    }


def _managed_policies(template: Template) -> dict[str, dict[str, Any]]:
    return {
        policy["Properties"]["ManagedPolicyName"]: policy["Properties"]
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
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


def test_an_account_holds_only_its_own_stages_role(template: Template, stage: str) -> None:
    assert list(_roles(template)) == [deploy_role_name(stage)]


def test_the_role_trusts_only_our_deploy_workflow_on_main_in_the_stages_environment(
    template: Template, stage: str
) -> None:
    role = _roles(template)[deploy_role_name(stage)]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                f"repo:{REPOSITORY}:environment:{stage}:job_workflow_ref:"
                f"{REPOSITORY}/.github/workflows/deploy-stage.yml@refs/heads/main"
            ),
        }
    }
    # The subject is built from these claim keys, which docs/deploying.md sets.
    assert OIDC_SUBJECT_CLAIM_KEYS == ("repo", "context", "job_workflow_ref")


def test_an_existing_provider_is_imported_not_created(stage: str) -> None:
    existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    template = _synth(**{STAGE_CONTEXT: stage, OIDC_PROVIDER_CONTEXT: existing})
    template.resource_count_is("AWS::IAM::OIDCProvider", 0)
    role = _roles(template)[deploy_role_name(stage)]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": existing}


def test_the_role_may_only_assume_the_cdk_bootstrap_roles_and_read_its_stacks(
    template: Template, stage: str
) -> None:
    policies = template.find_resources("AWS::IAM::Policy")
    assert len(policies) == 1
    for policy in policies.values():
        assume, describe, deployed, *reads = policy["Properties"]["PolicyDocument"]["Statement"]
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
        assert assume["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        resources = json.dumps(assume["Resource"])
        assert "*" not in resources
        for kind in BOOTSTRAP_ROLES:
            assert f"role/cdk-hnb659fds-{kind}-" in resources
        assert len(assume["Resource"]) == len(BOOTSTRAP_ROLES)
        # What infra.stack_states reads before a deploy: the stage's stacks' state.
        assert describe["Action"] == "cloudformation:DescribeStacks"
        assert f":stack/coupon-platform-{stage}-*/*" in json.dumps(describe["Resource"])
        # The commit the stage runs (infra.deployed_commit), and no other parameter.
        assert deployed["Action"] == ["ssm:GetParameter", "ssm:PutParameter"]
        parameter = json.dumps(deployed["Resource"])
        assert f":parameter/coupon-platform/{stage}/deployed-commit" in parameter
        assert "*" not in parameter


def test_a_session_outlasts_a_first_create(template: Template, stage: str) -> None:
    """deploy-stage.yml asks for this session (tests/infra/test_workflows.py)."""
    role = _roles(template)[deploy_role_name(stage)]
    assert role["MaxSessionDuration"] == DEPLOY_SESSION.to_seconds() == 4 * 3600


def test_nothing_grants_administrator_access(template: Template) -> None:
    text = json.dumps(template.to_json())
    assert "AdministratorAccess" not in text
    for policy in _managed_policies(template).values():
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert action != "*", statement
                assert not action.startswith("iam:*"), statement


def test_cloudformation_may_create_only_bounded_roles_of_its_stage(
    template: Template, stage: str
) -> None:
    policies = _managed_policies(template)
    assert set(policies) == {execution_policy_name(stage), role_boundary_name(stage)}
    statements = policies[execution_policy_name(stage)]["PolicyDocument"]["Statement"]
    role_writes = [s for s in statements if "iam:CreateRole" in json.dumps(s["Action"])]
    (create,) = role_writes
    # Exactly the actions that carry the role's boundary in their request: a condition on
    # the key would deny any other (tagging a role, updating its trust).
    assert sorted(create["Action"]) == sorted(
        [
            "iam:AttachRolePolicy",
            "iam:CreateRole",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:PutRolePolicy",
        ]
    )
    assert f":role/coupon-platform-{stage}-*" in json.dumps(create["Resource"])
    boundary = create["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
    assert "RoleBoundary" in json.dumps(boundary)
    # No statement lets CloudFormation drop or change a boundary, or write any policy.
    for statement in statements:
        actions = json.dumps(statement["Action"])
        assert "DeleteRolePermissionsBoundary" not in actions
        assert "CreatePolicyVersion" not in actions
        iam_actions = [a for a in statement["Action"] if a.startswith("iam:")]
        if iam_actions and iam_actions != ["iam:CreateServiceLinkedRole"]:
            assert "*" not in json.dumps(statement["Resource"]).replace(
                f"coupon-platform-{stage}-*", ""
            ), statement


def test_the_stack_deploys_without_the_cdk_bootstrap(template: Template) -> None:
    """It is deployed before `cdk bootstrap`, which names its execution policy."""
    assert "BootstrapVersion" not in template.to_json().get("Parameters", {})


def test_the_docs_bootstrap_with_the_scoped_execution_policy_and_set_the_subject() -> None:
    docs = (ROOT / "docs" / "deploying.md").read_text()
    bootstraps = [
        line for line in docs.splitlines() if "cdk bootstrap" in line and "aws://" in line
    ]
    assert bootstraps, "docs/deploying.md bootstraps CDK"
    for line in bootstraps:
        assert "--cloudformation-execution-policies" in line, line
    assert "-cfn-execution" in docs
    assert "AdministratorAccess" not in docs.replace("never AdministratorAccess", "")
    claim_keys = json.dumps(
        {"use_default": False, "include_claim_keys": list(OIDC_SUBJECT_CLAIM_KEYS)}
    )
    assert "actions/oidc/customization/sub" in docs
    assert claim_keys.replace(" ", "") in docs.replace(" ", "")


def test_the_stage_and_repository_must_be_named() -> None:
    with pytest.raises(SystemExit, match=REPOSITORY_CONTEXT):
        build(App(context={STAGE_CONTEXT: "dev"}))
    with pytest.raises(SystemExit, match=STAGE_CONTEXT):
        build(App(context={REPOSITORY_CONTEXT: REPOSITORY}))
    with pytest.raises(ValueError, match="unknown stage"):
        build(App(context={REPOSITORY_CONTEXT: REPOSITORY, STAGE_CONTEXT: "qa"}))
    with pytest.raises(ValueError, match="OWNER/NAME"):
        build(App(context={REPOSITORY_CONTEXT: "no-owner", STAGE_CONTEXT: "dev"}))
    assert stack_name("prod") == "coupon-platform-prod-ci-access"
