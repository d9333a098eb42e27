"""The deploy job's wait for deployable stacks (infra.stack_states), against CloudFormation's
answers as botocore's Stubber replays them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra import stack_states
from infra.stack_states import (
    OPERATOR_ACTIONS,
    OperatorNeeded,
    StillInProgress,
    wait_until_deployable,
)

STACK = "coupon-platform-prod-data"


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _answers(stubber: Stubber, stack: str, *statuses: str | None) -> None:
    for status in statuses:
        if status is None:
            stubber.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                service_message=f"Stack with id {stack} does not exist",
                http_status_code=400,
                expected_params={"StackName": stack},
            )
            continue
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": stack,
                        "CreationTime": "2026-12-01T00:00:00Z",
                        "StackStatus": status,
                        "StackStatusReason": "The following resource(s) failed",
                    }
                ]
            },
            {"StackName": stack},
        )


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _wait(client: Any, stacks: list[str], clock: FakeClock, timeout: float = 3600) -> list[str]:
    reported: list[str] = []
    wait_until_deployable(
        client,
        stacks,
        timeout_seconds=timeout,
        poll_seconds=30,
        report=reported.append,
        clock=clock,
        sleep=clock.sleep,
    )
    return reported


@pytest.mark.parametrize(
    "status",
    [
        "CREATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
    ],
)
def test_a_stack_in_progress_is_waited_out(cloudformation: Any, status: str) -> None:
    client, stubber = cloudformation
    _answers(stubber, STACK, status, status, "UPDATE_COMPLETE")
    clock = FakeClock()
    reported = _wait(client, [STACK], clock)
    assert clock.sleeps == [30, 30]
    assert reported[-1] == f"{STACK}: UPDATE_COMPLETE, ready"


def test_absent_and_settled_stacks_are_ready_at_once(cloudformation: Any) -> None:
    client, stubber = cloudformation
    stacks = ["a", "b", "c", "d"]
    _answers(stubber, "a", None)
    _answers(stubber, "b", "UPDATE_ROLLBACK_COMPLETE")
    _answers(stubber, "c", "CREATE_COMPLETE")
    _answers(stubber, "d", "REVIEW_IN_PROGRESS")  # a change set never executed
    clock = FakeClock()
    reported = _wait(client, stacks, clock)
    assert clock.sleeps == []
    assert reported[0] == "a: not created yet, ready"


@pytest.mark.parametrize(
    ("status", "instruction"),
    [
        ("ROLLBACK_COMPLETE", f"aws cloudformation delete-stack --stack-name {STACK}"),
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
        ("ROLLBACK_FAILED", "--retain-resources"),
        ("DELETE_FAILED", "delete-stack"),
    ],
)
def test_a_state_only_an_operator_can_clear_stops_with_instructions(
    cloudformation: Any, status: str, instruction: str
) -> None:
    client, stubber = cloudformation
    _answers(stubber, STACK, status)
    with pytest.raises(OperatorNeeded) as stopped:
        _wait(client, [STACK], FakeClock())
    assert f"{STACK} is {status}" in str(stopped.value)
    assert instruction in str(stopped.value)
    assert status in OPERATOR_ACTIONS


def test_a_rollback_that_fails_while_waited_for_stops_the_deploy(cloudformation: Any) -> None:
    client, stubber = cloudformation
    _answers(stubber, STACK, "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED")
    with pytest.raises(OperatorNeeded, match="continue-update-rollback"):
        _wait(client, [STACK], FakeClock())


def test_the_wait_gives_up_after_its_timeout(cloudformation: Any) -> None:
    client, stubber = cloudformation
    _answers(stubber, STACK, *["CREATE_IN_PROGRESS"] * 3)
    with pytest.raises(StillInProgress, match="still CREATE_IN_PROGRESS after 1 minutes"):
        _wait(client, [STACK], FakeClock(), timeout=60)


def test_other_errors_are_not_taken_for_an_absent_stack(cloudformation: Any) -> None:
    client, stubber = cloudformation
    stubber.add_client_error(
        "describe_stacks", service_error_code="AccessDenied", http_status_code=403
    )
    with pytest.raises(client.exceptions.ClientError):
        _wait(client, [STACK], FakeClock())


def test_the_command_line_annotates_and_fails(
    cloudformation: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = cloudformation
    _answers(stubber, STACK, "ROLLBACK_COMPLETE")
    monkeypatch.setattr(boto3, "client", lambda service: client)
    assert stack_states.main(["wait", STACK]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error title=stack not deployable::")
    assert "delete-stack" in out
