"""Whether the stacks a deploy is about to update can take an update now: the deploy job's
first step after it has credentials (deploy-stage.yml).

    python -m infra.stack_states wait coupon-platform-prod-data coupon-platform-prod-api ...

A stack CloudFormation is still working on (`*_IN_PROGRESS`: a deploy whose job ran out of
time or credentials, an earlier run's rollback) is waited out, so the deploy starts once
CloudFormation has finished instead of failing on it. A stack in a state only an operator
can clear (a failed first create, a rollback that itself failed) stops the deploy with
what to do, which docs/deploying.md ("When a deploy fails") explains at length. A stack
that does not exist yet is ready: the deploy creates it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# States CloudFormation leaves on its own once its work is done, with the deploy ready to go.
READY = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",  # an update failed and was undone: the stack is whole
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
        # A change set created the stack and was never executed: `cdk deploy` takes it over.
        "REVIEW_IN_PROGRESS",
    }
)
# States that never change on their own, each with what an operator does about it.
OPERATOR_ACTIONS = {
    "ROLLBACK_COMPLETE": (
        "its first create failed and was rolled back; nothing of it is left but the stack "
        "itself (retained resources are kept only after a create succeeded). Read why in its "
        "events, fix the cause, then delete it and run the deploy again: "
        "aws cloudformation delete-stack --stack-name {stack}"
    ),
    "ROLLBACK_FAILED": (
        "its first create failed and so did the rollback. Read the failed resources in its "
        "events, remove what blocks them, then delete the stack (naming what cannot be "
        "deleted with --retain-resources) and run the deploy again"
    ),
    "UPDATE_ROLLBACK_FAILED": (
        "an update failed and its rollback failed too. Fix what the rollback tripped on "
        "(its events say), then: aws cloudformation continue-update-rollback "
        "--stack-name {stack} (adding --resources-to-skip for resources that cannot roll "
        "back), wait for UPDATE_ROLLBACK_COMPLETE and run the deploy again"
    ),
    "DELETE_FAILED": (
        "someone deleted it and the delete failed. Finish the delete (aws cloudformation "
        "delete-stack --stack-name {stack}, with --retain-resources for what must stay) or "
        "restore what it held before deploying again"
    ),
    "IMPORT_ROLLBACK_FAILED": (
        "a resource import failed and so did its rollback. Fix the resources its events "
        "name, then: aws cloudformation continue-update-rollback --stack-name {stack}"
    ),
    "UPDATE_FAILED": (
        "an update failed with rollback disabled. Roll it back (aws cloudformation "
        "rollback-stack --stack-name {stack}) or deploy the fix by hand"
    ),
    "CREATE_FAILED": (
        "its create failed with rollback disabled. Delete it (aws cloudformation "
        "delete-stack --stack-name {stack}) and run the deploy again"
    ),
}
DEFAULT_TIMEOUT_MINUTES = 60
DEFAULT_POLL_SECONDS = 30


class OperatorNeeded(Exception):
    """A stack is in a state the deploy cannot get past on its own."""


class StillInProgress(Exception):
    """A stack was still in progress when the wait's time ran out."""


@dataclass(frozen=True)
class StackState:
    stack: str
    status: str | None  # None: no such stack (never created, or deleted)
    reason: str = ""

    @property
    def in_progress(self) -> bool:
        status = self.status or ""
        return status.endswith("_IN_PROGRESS") and status not in READY

    @property
    def ready(self) -> bool:
        return self.status is None or self.status in READY

    def instructions(self) -> str:
        action = OPERATOR_ACTIONS.get(
            str(self.status), "CloudFormation reports a state this deploy does not know"
        )
        why = f" (CloudFormation: {self.reason})" if self.reason else ""
        return f"{self.stack} is {self.status}{why}: {action.format(stack=self.stack)}"


def describe(cloudformation: Any, stack: str) -> StackState:
    """The stack's state; a stack that does not exist has none."""
    try:
        answer = cloudformation.describe_stacks(StackName=stack)
    except cloudformation.exceptions.ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            return StackState(stack, None)
        raise
    (found,) = answer["Stacks"]
    return StackState(stack, found["StackStatus"], found.get("StackStatusReason", ""))


def wait_until_deployable(
    cloudformation: Any,
    stacks: Sequence[str],
    *,
    timeout_seconds: float,
    poll_seconds: float,
    report: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[StackState]:
    """Wait while any stack is in progress; raise OperatorNeeded on a state only a person
    can clear, StillInProgress when `timeout_seconds` pass first."""
    deadline = clock() + timeout_seconds
    states: list[StackState] = []
    for stack in stacks:
        state = describe(cloudformation, stack)
        while state.in_progress:
            if clock() >= deadline:
                raise StillInProgress(
                    f"{stack} is still {state.status} after {timeout_seconds / 60:.0f} "
                    "minutes: CloudFormation has not finished with it; run the deploy again "
                    "once it has"
                )
            report(f"{stack} is {state.status}: waiting for CloudFormation to finish")
            sleep(poll_seconds)
            state = describe(cloudformation, stack)
        if not state.ready:
            raise OperatorNeeded(state.instructions())
        report(f"{stack}: {state.status or 'not created yet'}, ready")
        states.append(state)
    return states


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser("wait", help="wait out stacks in progress; stop on the others")
    wait.add_argument("stacks", nargs="+", help="stack names (infra.changed_stacks)")
    wait.add_argument("--timeout-minutes", type=float, default=DEFAULT_TIMEOUT_MINUTES)
    wait.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS)
    args = parser.parse_args(argv)

    import boto3  # the deploy job's credentials and region, from its environment

    try:
        wait_until_deployable(
            boto3.client("cloudformation"),
            args.stacks,
            timeout_seconds=args.timeout_minutes * 60,
            poll_seconds=args.poll_seconds,
        )
    except (OperatorNeeded, StillInProgress) as stop:
        # A GitHub Actions error annotation: shown on the run's summary page.
        sys.stdout.write(f"::error title=stack not deployable::{stop}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
