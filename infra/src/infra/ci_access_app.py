"""The CI access stack's own CDK app, deployed once per stage, in that stage's account, by
an administrator, before `cdk bootstrap` (docs/deploying.md, "Set up once"):

    .venv/bin/python -m infra.ci_access_app -c stage=dev -c github_repository=OWNER/NAME
    aws cloudformation deploy --stack-name coupon-platform-dev-ci-access \\
        --template-file cdk.out.ci-access/coupon-platform-dev-ci-access.template.json \\
        --capabilities CAPABILITY_NAMED_IAM

Apart from the platform's app (infra.app): CI's role must exist before CI can deploy, CI
never deploys the stack that grants its own access, and the stack holds the execution
policy `cdk bootstrap` is given, so it is deployed without the bootstrap (no assets, no
bootstrap version check). Each synth holds one stage's role only: an account never trusts
CI for a stage it does not run.
"""

from __future__ import annotations

import itertools
import json
import os
import sys

from aws_cdk import App, Aspects, BootstraplessSynthesizer
from cdk_nag import AwsSolutionsChecks

from infra.config import PROJECT, stage_config
from infra.stacks.ci_access import CiAccessStack

STAGE_CONTEXT = "stage"
REPOSITORY_CONTEXT = "github_repository"
# The ARN of a GitHub OIDC provider the account already has (the other stage's, in a
# shared account): imported instead of created.
OIDC_PROVIDER_CONTEXT = "github_oidc_provider_arn"
OUTDIR = "cdk.out.ci-access"


def stack_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-ci-access"


def build(app: App) -> CiAccessStack:
    repository = app.node.try_get_context(REPOSITORY_CONTEXT)
    if not repository:
        raise SystemExit(f"set the repository CI runs in: -c {REPOSITORY_CONTEXT}=OWNER/NAME")
    stage_name = app.node.try_get_context(STAGE_CONTEXT)
    if not stage_name:
        raise SystemExit(f"set the stage this account runs: -c {STAGE_CONTEXT}=dev|prod")
    stage = stage_config(str(stage_name))
    provider_arn = app.node.try_get_context(OIDC_PROVIDER_CONTEXT)
    stack = CiAccessStack(
        app,
        stack_name(stage.name),
        repository=str(repository),
        stage=stage.name,
        oidc_provider_arn=str(provider_arn) if provider_arn else None,
        synthesizer=BootstraplessSynthesizer(),
        description=f"GitHub Actions' OIDC provider and {stage.name}'s deploy role and policies",
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack


def _cli_context(argv: list[str]) -> dict[str, str]:
    """`-c key=value` pairs, as the CDK CLI would pass them."""
    context: dict[str, str] = {}
    for flag, value in itertools.pairwise(argv):
        if flag in ("-c", "--context") and "=" in value:
            key, _, item = value.partition("=")
            context[key] = item
    return context


def main(argv: list[str] | None = None) -> None:
    # Under the CDK CLI, CDK_CONTEXT_JSON holds the -c values; run directly, the same flags.
    context = {
        **json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}"),
        **_cli_context(sys.argv[1:] if argv is None else argv),
    }
    app = App(context=context, outdir=os.environ.get("CDK_OUTDIR") or OUTDIR)
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
