"""What GitHub Actions deploys one stage with, in that stage's account: GitHub's OpenID
Connect provider (created, or an existing one imported), the stage's deploy role, and the
two managed policies `cdk bootstrap` and the platform's roles are held to. No long-lived
key exists anywhere.

The deploy role trusts one job only: our deploy workflow (`deploy-stage.yml` as it is on
`main`) running in the stage's GitHub environment. AWS reads only `aud` and `sub` from
GitHub's token, so the repository's subject claim is customized to carry the calling
workflow (`job_workflow_ref`, docs/deploying.md), and the trust matches that subject
exactly: a branch that declares `environment: dev` in a workflow of its own gets a token
whose `sub` names its own workflow and ref, which no role trusts.

The role may assume the roles `cdk bootstrap` made (deploying through CloudFormation,
publishing the bundles) and read the state of its stage's stacks, so what CI can change is
what CloudFormation's execution role may change: the execution policy below, passed to
`cdk bootstrap --cloudformation-execution-policies` instead of AdministratorAccess. It
allows the services the platform is built of, and IAM only on the stage's own roles, each
of which must carry the stage's permissions boundary, so no role CloudFormation creates
can hold more than the functions need.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import deployed_commit
from infra.config import PROJECT, stage_config
from infra.function_inputs import read_statements
from infra.nag import accept

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
# The repository's subject claim, customized (docs/deploying.md): these keys, in this order.
OIDC_SUBJECT_CLAIM_KEYS = ("repo", "context", "job_workflow_ref")
DEPLOY_WORKFLOW = ".github/workflows/deploy-stage.yml"
DEPLOY_BRANCH = "main"
BOOTSTRAP_QUALIFIER = "hnb659fds"  # `cdk bootstrap`'s default
# `cdk deploy` and `cdk diff` need these two of the bootstrap roles: the bundles are file
# assets, and the app looks nothing up.
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role")
# A first prod create (Multi-AZ RDS, its proxy, SnapStart versions) can take well over an
# hour, and CDK keeps refreshing the bootstrap role's session from this one while it waits:
# the deploy job asks for this long a session (deploy-stage.yml's role-duration-seconds),
# longer than the job may run (its timeout-minutes).
DEPLOY_SESSION = Duration.hours(4)

# What CloudFormation creates for the platform (infra.app's stacks), by service prefix.
# IAM is not among them: it is granted apart, on the stage's roles only.
PLATFORM_SERVICES = (
    "apigateway",  # the HTTP API (API Gateway v2), its stage, routes and integrations
    "cloudwatch",  # alarms and dashboards
    "dynamodb",
    "ec2",  # VPC, subnets, NAT, endpoints, security groups, flow logs
    "events",  # the bus, its archive, the rules
    "kms",  # the AWS managed keys of the encrypted instance, secrets and tables
    "lambda",  # functions, versions, aliases, and the custom resources' invocations
    "logs",
    "rds",  # the instance, its subnet group, the proxy
    "secretsmanager",
    "sns",  # the alert topic
    "sqs",  # the dead-letter queues
    "ssm",  # the JWKS parameter the stacks read at deploy time
)
# What the platform's own roles may ever be granted: their permissions boundary. A role of
# the stage holds the intersection of this and its own policies (a test holds every action
# of the synthesized stacks within it).
ROLE_BOUNDARY_SERVICES = (
    "dynamodb",
    "ec2",  # a function's network interfaces in the VPC (AWSLambdaVPCAccessExecutionRole)
    "events",
    "kms",  # the proxy decrypts the secrets it reads
    "lambda",  # the custom resources' providers invoke their handlers
    "logs",
    "secretsmanager",
    "sqs",
    "xray",
)
# What changes a role's permissions: each of these IAM actions carries the role's boundary
# in its request (the `iam:PermissionsBoundary` condition key), so the execution policy
# allows them only with the stage's boundary.
ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
)
# The rest CloudFormation does to a role: none can lift its boundary (and none carries the
# condition key, so a condition on it would deny them all).
ROLE_READ_ACTIONS = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListRoleTags",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRole",
    "iam:PassRole",
)


def deploy_role_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-github-deploy"


def execution_policy_name(stage: str) -> str:
    """The managed policy `cdk bootstrap --cloudformation-execution-policies` names."""
    return f"{PROJECT}-{stage}-cfn-execution"


def role_boundary_name(stage: str) -> str:
    """The permissions boundary every role of the stage's stacks carries (infra.app)."""
    return f"{PROJECT}-{stage}-role-boundary"


def deploy_subject(repository: str, stage: str) -> str:
    """The `sub` of the one token the stage's role trusts: our deploy workflow, from
    `main`, in the stage's environment (the claim keys of OIDC_SUBJECT_CLAIM_KEYS)."""
    workflow_ref = f"{repository}/{DEPLOY_WORKFLOW}@refs/heads/{DEPLOY_BRANCH}"
    return f"repo:{repository}:environment:{stage}:job_workflow_ref:{workflow_ref}"


def stage_stacks_arn(stage: str) -> str:
    return (
        f"arn:{Aws.PARTITION}:cloudformation:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
        f"stack/{PROJECT}-{stage}-*/*"
    )


def bootstrap_role_arn(kind: str, qualifier: str = BOOTSTRAP_QUALIFIER) -> str:
    return (
        f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/"
        f"cdk-{qualifier}-{kind}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
    )


def _service_actions(services: tuple[str, ...]) -> list[str]:
    return [f"{service}:*" for service in services]


class CiAccessStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: str,
        stage: str,
        oidc_provider_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise ValueError(f"the GitHub repository is OWNER/NAME, not {repository!r}")
        # One account holds one provider per URL: a second stage in the same account (or a
        # provider made for another project) is imported, not created again.
        provider_arn = (
            oidc_provider_arn
            or iam.OidcProviderNative(
                self, "GitHub", url=GITHUB_OIDC_URL, client_ids=[GITHUB_OIDC_AUDIENCE]
            ).oidc_provider_arn
        )
        self.stage = stage
        self.role = iam.Role(
            self,
            "Deploy",
            role_name=deploy_role_name(stage),
            description=f"GitHub Actions deploying {repository} to {stage} from {DEPLOY_BRANCH}",
            max_session_duration=DEPLOY_SESSION,
            assumed_by=iam.WebIdentityPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": deploy_subject(repository, stage),
                    }
                },
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[bootstrap_role_arn(kind) for kind in BOOTSTRAP_ROLES],
            )
        )
        # Before deploying, the job waits out the stage's stacks still in progress
        # (infra.stack_states): it reads their state, and nothing else.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStacks"],
                resources=[stage_stacks_arn(stage)],
            )
        )

        # The commit the stage runs (infra.deployed_commit): read before a deploy, written
        # after it succeeded.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[
                    f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter"
                    f"{deployed_commit.parameter_name(stage)}"
                ],
            )
        )
        # The synthesis reads what the functions read, to digest it (infra.function_inputs).
        for statement in read_statements(stage_config(stage)):
            self.role.add_to_policy(statement)
        accept(
            self.role,
            "IAM5",
            "The stage's stacks are named coupon-platform-<stage>-*, and a stack's ARN ends "
            "in an id CloudFormation picks: reading their state needs the pattern.",
            applies_to=[
                "Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:"
                f"<AWS::AccountId>:stack/{PROJECT}-{stage}-*/*"
            ],
        )

        self.role_boundary = iam.ManagedPolicy(
            self,
            "RoleBoundary",
            managed_policy_name=role_boundary_name(stage),
            description=f"The most any role of {PROJECT}-{stage}'s stacks may be granted",
            statements=[
                iam.PolicyStatement(
                    actions=_service_actions(ROLE_BOUNDARY_SERVICES), resources=["*"]
                )
            ],
        )
        stage_roles = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{PROJECT}-{stage}-*"
        self.execution_policy = iam.ManagedPolicy(
            self,
            "CloudFormationExecution",
            managed_policy_name=execution_policy_name(stage),
            description=f"What CloudFormation may do deploying {PROJECT}-{stage} (cdk bootstrap)",
            statements=[
                iam.PolicyStatement(actions=_service_actions(PLATFORM_SERVICES), resources=["*"]),
                # The bundles and templates `cdk deploy` uploaded to the bootstrap bucket.
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[
                        f"arn:{Aws.PARTITION}:s3:::cdk-{BOOTSTRAP_QUALIFIER}-assets-"
                        f"{Aws.ACCOUNT_ID}-{Aws.REGION}/*"
                    ],
                ),
                iam.PolicyStatement(
                    actions=list(ROLE_ACTIONS),
                    resources=[stage_roles],
                    conditions={
                        "StringEquals": {
                            "iam:PermissionsBoundary": self.role_boundary.managed_policy_arn
                        }
                    },
                ),
                iam.PolicyStatement(actions=list(ROLE_READ_ACTIONS), resources=[stage_roles]),
                # The interface endpoints' private DNS names (Secrets Manager, EventBridge):
                # creating one with private DNS associates the VPC with AWS's hosted zone.
                iam.PolicyStatement(
                    actions=["route53:AssociateVPCWithHostedZone"],
                    resources=["*"],
                ),
                # RDS's service-linked role, made by the first instance in an account.
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=["*"],
                    conditions={"StringEquals": {"iam:AWSServiceName": "rds.amazonaws.com"}},
                ),
            ],
        )
        accept(
            self.role_boundary,
            "IAM5",
            "A permissions boundary caps what roles may hold, by service: each role's own "
            "policies (checked without wildcards in the platform's stacks) grant the "
            "resources.",
        )
        accept(
            self.execution_policy,
            "IAM5",
            "CloudFormation's execution role creates the platform's resources, whose names "
            "it generates: scoped by service, and on IAM to the stage's roles, which must "
            "carry the stage's boundary.",
        )
