"""Rules the GitHub Actions workflows must keep, read from their YAML (actionlint and
zizmor check the syntax and the usual security mistakes; these check our deploy's own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stacks.ci_access import DEPLOY_SESSION

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
CONFIGURE_CREDENTIALS = "aws-actions/configure-aws-credentials@"


def _workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _index(steps: list[dict[str, Any]], needle: str) -> int:
    found = [i for i, step in enumerate(steps) if needle in step.get("run", "")]
    assert found, f"no step runs {needle!r}"
    return found[0]


@pytest.fixture
def deploy_job() -> dict[str, Any]:
    job: dict[str, Any] = _workflow("deploy-stage.yml")["jobs"]["deploy"]
    return job


def test_the_deploy_job_has_time_for_a_first_create_within_its_session(
    deploy_job: dict[str, Any],
) -> None:
    timeout_minutes = deploy_job["timeout-minutes"]
    assert timeout_minutes >= 180
    (credentials,) = [
        step
        for step in _steps(deploy_job)
        if step.get("uses", "").startswith(CONFIGURE_CREDENTIALS)
    ]
    session_seconds = int(credentials["with"]["role-duration-seconds"])
    # What the stage's role allows (infra.stacks.ci_access), and longer than the job runs.
    assert session_seconds == DEPLOY_SESSION.to_seconds()
    assert session_seconds > timeout_minutes * 60


def test_the_deploy_job_waits_out_stacks_in_progress_before_touching_them(
    deploy_job: dict[str, Any],
) -> None:
    steps = _steps(deploy_job)
    credentials = next(
        i for i, step in enumerate(steps) if step.get("uses", "").startswith(CONFIGURE_CREDENTIALS)
    )
    wait = _index(steps, "-m infra.stack_states wait")
    assert credentials < wait < _index(steps, "cdk diff") < _index(steps, "cdk deploy")
    assert '"${stacks[@]}"' in steps[wait]["run"]
