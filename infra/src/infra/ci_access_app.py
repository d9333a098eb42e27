"""The CI access stack's own CDK app, deployed once per account by an administrator:

    npx cdk deploy --app ".venv/bin/python -m infra.ci_access_app" \\
        -c github_repository=OWNER/NAME [-c github_oidc_provider=existing]

`github_oidc_provider=existing` when the account already has GitHub's OIDC provider
(`make preflight` tells): the stack then imports it instead of creating a second one.
Apart from the platform's app (infra.app): CI's roles must exist before CI can deploy,
and CI never deploys the stack that grants its own access.
"""

from __future__ import annotations

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from infra.config import PROJECT, STAGES
from infra.stacks.ci_access import CiAccessStack

REPOSITORY_CONTEXT = "github_repository"
OIDC_PROVIDER_CONTEXT = "github_oidc_provider"
OIDC_PROVIDER_CHOICES = ("create", "existing")
STACK_NAME = f"{PROJECT}-ci-access"


def build(app: App) -> CiAccessStack:
    repository = app.node.try_get_context(REPOSITORY_CONTEXT)
    if not repository:
        raise SystemExit(f"set the repository CI runs in: -c {REPOSITORY_CONTEXT}=OWNER/NAME")
    oidc_provider = str(app.node.try_get_context(OIDC_PROVIDER_CONTEXT) or "create")
    if oidc_provider not in OIDC_PROVIDER_CHOICES:
        raise SystemExit(
            f"-c {OIDC_PROVIDER_CONTEXT} is one of {', '.join(OIDC_PROVIDER_CHOICES)}, "
            f"not {oidc_provider!r}"
        )
    stack = CiAccessStack(
        app,
        STACK_NAME,
        repository=str(repository),
        stages=sorted(STAGES),
        import_oidc_provider=oidc_provider == "existing",
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
