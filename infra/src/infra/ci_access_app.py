"""The CI access stack's own CDK app, deployed once per account by an administrator:

    npx cdk deploy --app ".venv/bin/python -m infra.ci_access_app" \\
        -c github_repository=OWNER/NAME

Apart from the platform's app (infra.app): CI's roles must exist before CI can deploy,
and CI never deploys the stack that grants its own access.
"""

from __future__ import annotations

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from infra.config import PROJECT, STAGES
from infra.stacks.ci_access import CiAccessStack

REPOSITORY_CONTEXT = "github_repository"
STACK_NAME = f"{PROJECT}-ci-access"


def build(app: App) -> CiAccessStack:
    repository = app.node.try_get_context(REPOSITORY_CONTEXT)
    if not repository:
        raise SystemExit(f"set the repository CI runs in: -c {REPOSITORY_CONTEXT}=OWNER/NAME")
    stack = CiAccessStack(
        app,
        STACK_NAME,
        repository=str(repository),
        stages=sorted(STAGES),
        description="GitHub Actions' OIDC provider and per-stage deploy roles",
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack


def main() -> None:
    app = App()  # the CLI's -c values arrive in CDK_CONTEXT_JSON, which App reads
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
