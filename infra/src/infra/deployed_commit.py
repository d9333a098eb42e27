"""The commit each stage runs, kept in SSM, and the rule that nothing older replaces it:
the deploy job checks before it deploys and records after it succeeded (deploy-stage.yml).

    python -m infra.deployed_commit check --stage prod --commit SHA
    python -m infra.deployed_commit record --stage prod --commit SHA

A commit may deploy when it is on `main` and the stage's recorded commit is its ancestor
(or itself). So a re-run of an old workflow run, a manual run of an old commit, or a
branch's commit stops before touching the stage. The plan job applies the same rule to
the commit the workflow last deployed (infra.changed_stacks); this one holds per stage,
also for deploys that bypass the plan.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from infra.changed_stacks import DEPLOY_BRANCH_REF, STACK_PREFIX, NotDeployable, check_deployable

# Like infra.changed_stacks, nothing of the CDK is imported: the check runs in a second.
PROJECT = STACK_PREFIX


def parameter_name(stage: str) -> str:
    """Where the stage's commit is kept; the stage's deploy role may read and write it
    (infra.stacks.ci_access)."""
    return f"/{PROJECT}/{stage}/deployed-commit"


def read(ssm: Any, stage: str) -> str | None:
    """The commit the stage runs; None before its first recorded deploy."""
    try:
        answer = ssm.get_parameter(Name=parameter_name(stage))
    except ssm.exceptions.ParameterNotFound:
        return None
    value: str = answer["Parameter"]["Value"]
    return value


def check(ssm: Any, stage: str, commit: str, *, branch_ref: str = DEPLOY_BRANCH_REF) -> None:
    """Raise NotDeployable unless `commit` is on the branch and not older than the stage's."""
    check_deployable(commit, deployed=read(ssm, stage), branch_ref=branch_ref)


def record(ssm: Any, stage: str, commit: str) -> None:
    ssm.put_parameter(
        Name=parameter_name(stage),
        Value=commit,
        Type="String",
        Overwrite=True,
        Description=f"The commit {PROJECT} runs in {stage} (written by the deploy workflow)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "record"))
    parser.add_argument("--stage", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--branch-ref", default=DEPLOY_BRANCH_REF)
    args = parser.parse_args(argv)

    import boto3  # the deploy job's credentials and region, from its environment

    ssm = boto3.client("ssm")
    if args.command == "record":
        record(ssm, args.stage, args.commit)
        return 0
    try:
        check(ssm, args.stage, args.commit, branch_ref=args.branch_ref)
    except NotDeployable as refused:
        sys.stdout.write(f"::error title=commit not deployable::{args.stage}: {refused}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
