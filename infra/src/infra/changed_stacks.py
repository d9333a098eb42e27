"""Which stacks a change between two commits needs deployed: the deploy workflow's plan.

A service's stack holds its bundle, which holds `core`: a change under a service's folder
deploys that service's stack, a change to `libs/core` every service's stack, and a change
to the CDK app, to the lock or to a module of `core` the app reads every stack. Tests,
benchmarks, docs, the local stack and the workflows themselves deploy nothing.

    python -m infra.changed_stacks --base BEFORE --head AFTER             # data api svc-auth
    python -m infra.changed_stacks --base BEFORE --head AFTER --stage dev # full stack names
    python -m infra.changed_stacks --base DEPLOYED --head SHA --deployable-on origin/main

With `--deployable-on`, the plan refuses (exit 1) a head that is not on that branch, or
one older than the base, the commit deployed last: a re-run of an old run, or a manual run
of an old commit, never puts older code over newer (infra.deployed_commit holds the same
rule per stage).

Only the standard library and the route table are imported, so the plan needs no
virtualenv (PYTHONPATH=libs/core/src:infra/src); an unknown or missing base commit (the
first push of a branch, a force push) plans every stack.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from core.routing import SERVICES

STACK_PREFIX = "coupon-platform"
# What deploys: commits on main, as the deploy jobs' checkout knows it.
DEPLOY_BRANCH_REF = "origin/main"  # infra.config.PROJECT; a test holds them equal
SHARED_TARGETS = ("data", "api")
SERVICE_TARGETS = tuple(service.directory for service in SERVICES)
ALL_TARGETS = (*SHARED_TARGETS, *SERVICE_TARGETS)

# What every stack is built from: the CDK app, its entry point, the pinned dependencies,
# and the modules of `core` the app itself reads (the route table, the CORS headers the
# API answers with, the metric catalog its dashboard and alarms name, the session limits
# each service's database role bootstrap is given, the Swagger UI files each bundle keeps;
# a test keeps this list equal to infra's imports of core).
CORE_READ_BY_THE_APP = (
    "libs/core/src/core/routing.py",
    "libs/core/src/core/web/docs.py",
    "libs/core/src/core/cors.py",
    "libs/core/src/core/metrics/catalog.py",
    "libs/core/src/core/database/session_limits.py",
)
_EVERYTHING = ("infra/src/", "infra/pyproject.toml", "cdk.json", "uv.lock", *CORE_READ_BY_THE_APP)
# What goes into every service's bundle.
_EVERY_SERVICE = ("libs/core/src/", "libs/core/pyproject.toml")
# Inside a service's folder, what its bundle does not hold.
_NOT_IN_A_BUNDLE = ("tests", "README.md")


def targets_for(paths: Iterable[str]) -> tuple[str, ...]:
    """The stacks (by their name after `coupon-platform-<stage>-`) the changed paths touch,
    in deploy order: shared stacks first."""
    wanted: set[str] = set()
    for path in paths:
        if path.startswith(_EVERYTHING):
            return ALL_TARGETS
        if path.startswith(_EVERY_SERVICE):
            wanted.update(SERVICE_TARGETS)
            continue
        parts = PurePosixPath(path).parts
        in_a_service = len(parts) >= 3 and parts[0] == "services" and parts[1] in SERVICE_TARGETS
        if in_a_service and parts[2] not in _NOT_IN_A_BUNDLE:
            wanted.add(parts[1])
    return tuple(target for target in ALL_TARGETS if target in wanted)


def stack_names(stage: str, targets: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{STACK_PREFIX}-{stage}-{target}" for target in targets)


def _commit_exists(ref: str) -> bool:
    if not ref or set(ref) == {"0"}:  # GitHub's `before` of a branch's first push
        return False
    found = subprocess.run(  # noqa: S603
        ["git", "cat-file", "-e", f"{ref}^{{commit}}"],  # noqa: S607
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


class NotDeployable(Exception):
    """The commit must not replace what is deployed."""


def is_ancestor(older: str, newer: str) -> bool:
    """Whether `older` is `newer` or in its history; both must be known commits."""
    found = subprocess.run(  # noqa: S603
        ["git", "merge-base", "--is-ancestor", older, newer],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode > 1:  # 1 is "no"; anything else, git could not tell
        raise NotDeployable(f"git cannot compare {older} and {newer}: {found.stderr.strip()}")
    return found.returncode == 0


def check_deployable(commit: str, *, deployed: str | None, branch_ref: str) -> None:
    """Raise NotDeployable unless `commit` is on `branch_ref` and `deployed` (the commit
    running now, if any) is in its history."""
    if not _commit_exists(commit) or not is_ancestor(commit, branch_ref):
        raise NotDeployable(f"{commit} is not on {branch_ref}: only its commits deploy")
    if deployed is None:
        return
    if not _commit_exists(deployed):
        raise NotDeployable(
            f"the deployed commit {deployed} is not in this repository's history (was "
            f"{branch_ref} rewritten?): docs/deploying.md says how to accept {commit}"
        )
    if not is_ancestor(deployed, commit):
        raise NotDeployable(
            f"{commit} is older than the deployed {deployed} (or beside it): deploying it "
            "would replace newer code; deploy a newer commit of main instead"
        )


def changed_paths(base: str, head: str) -> list[str] | None:
    """Files changed from `base` to `head`; None when `base` is not a known commit."""
    if not _commit_exists(base):
        return None
    diff = subprocess.run(  # noqa: S603
        # The trees themselves, not from their merge base: after a force push the deployed
        # commit is no ancestor of the new one, and what it had that the new one dropped
        # must deploy too.
        ["git", "diff", "--name-only", base, head],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return diff.stdout.splitlines()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit deployed last")
    parser.add_argument("--head", required=True, help="the commit to deploy")
    parser.add_argument("--stage", help="print full stack names for this stage")
    parser.add_argument("--all", action="store_true", help="every stack, whatever changed")
    parser.add_argument(
        "--deployable-on",
        metavar="BRANCH_REF",
        help="refuse a head not on this branch, or older than the base",
    )
    args = parser.parse_args(argv)
    if args.deployable_on:
        deployed = args.base if _commit_exists(args.base) else None
        try:
            check_deployable(args.head, deployed=deployed, branch_ref=args.deployable_on)
        except NotDeployable as refused:
            sys.stderr.write(f"::error title=commit not deployable::{refused}\n")
            return 1
    paths = None if args.all else changed_paths(args.base, args.head)
    targets = ALL_TARGETS if paths is None else targets_for(paths)
    names = stack_names(args.stage, targets) if args.stage else targets
    sys.stdout.write(" ".join(names) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
