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


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    triggers: dict[str, Any] = workflow.get("on", workflow.get(True))
    return triggers


def _condition(text: str) -> str:
    return " ".join(text.split())


def test_ci_runs_on_every_push_to_main_too() -> None:
    ci = _workflow("ci.yml")
    triggers = _on(ci)
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]
    # No push to main cancels an earlier one's run: each commit needs its own result.
    assert "github.sha" in ci["concurrency"]["group"]
    assert ci["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_the_contract_check_runs_on_pull_requests_and_pushes_against_what_came_before() -> None:
    job = _workflow("ci.yml")["jobs"]["contracts"]
    assert "if" not in job  # both events: a break pushed straight to main fails as well
    steps = _steps(job)
    check = steps[_index(steps, "make contracts-breaking")]
    assert 'BASE="$BASE"' in check["run"]
    assert check["env"]["BASE"] == (
        "${{ github.event_name == 'pull_request' && format('origin/{0}', github.base_ref)"
        " || github.event.before }}"
    )
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # the base must be in the clone


def test_deploys_start_only_from_ci_passing_on_main_or_by_hand_on_main() -> None:
    deploy = _workflow("deploy.yml")
    triggers = _on(deploy)
    assert set(triggers) == {"workflow_run", "workflow_dispatch"}
    assert triggers["workflow_run"] == {
        "workflows": ["ci"],
        "types": ["completed"],
        "branches": ["main"],
    }
    plan = deploy["jobs"]["plan"]
    condition = _condition(plan["if"])
    for required in (
        "github.event.workflow_run.conclusion == 'success'",
        "github.event.workflow_run.event == 'push'",
        "github.event.workflow_run.head_branch == 'main'",
        "github.event.workflow_run.head_repository.full_name == github.repository",
        "(github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main')",
    ):
        assert required in condition, required
    # Every other job needs the plan, so nothing runs when the plan does not.
    for name, job in deploy["jobs"].items():
        if name != "plan":
            assert "plan" in job["needs"], name
    # By hand: only a commit CI passed on a push to main.
    steps = _steps(plan)
    check = _index(
        steps, "actions/workflows/ci.yml/runs?head_sha=$COMMIT&event=push&status=success"
    )
    assert steps[check]["if"] == "github.event_name == 'workflow_dispatch'"
    assert check < _index(steps, "infra.changed_stacks")


def test_one_deploy_at_a_time_none_cancelled() -> None:
    deploy = _workflow("deploy.yml")
    assert deploy["concurrency"] == {"group": "deploy", "cancel-in-progress": False}


def test_the_plan_refuses_commits_off_main_or_older_than_the_last_deploy() -> None:
    deploy = _workflow("deploy.yml")
    plan = deploy["jobs"]["plan"]
    # CI's commit, not main's newest, which is what a workflow_run's own sha is.
    assert plan["env"]["COMMIT"] == "${{ github.event.workflow_run.head_sha || github.sha }}"
    steps = _steps(plan)
    run = steps[_index(steps, "infra.changed_stacks")]["run"]
    assert '--head "$COMMIT" --deployable-on origin/main' in run
    checkout = steps[0]
    assert checkout["with"]["ref"] == "${{ env.COMMIT }}"
    assert checkout["with"]["fetch-depth"] == 0
    # The run's name carries the commit it deployed, which the next plan starts from.
    assert "(github.event.workflow_run.head_sha || github.sha)" in _condition(deploy["run-name"])
    assert 'select(test("^deploy [0-9a-f]{40}$"))' in run
    for stage in ("dev", "prod"):
        assert deploy["jobs"][stage]["with"]["commit"] == "${{ needs.plan.outputs.commit }}"


def test_each_stage_checks_the_commit_it_runs_before_and_records_it_after(
    deploy_job: dict[str, Any],
) -> None:
    steps = _steps(deploy_job)
    checkout = steps[0]
    assert checkout["with"]["ref"] == "${{ inputs.commit }}"
    assert checkout["with"]["fetch-depth"] == 0  # main's history, to compare with
    check = _index(steps, "-m infra.deployed_commit check")
    record = _index(steps, "-m infra.deployed_commit record")
    assert '--stage "$STAGE" --commit "$COMMIT"' in steps[check]["run"]
    assert '--stage "$STAGE" --commit "$COMMIT"' in steps[record]["run"]
    assert check < _index(steps, "infra.stack_states") < _index(steps, "cdk deploy") < record
    assert record == len(steps) - 1
    assert deploy_job["env"]["COMMIT"] == "${{ inputs.commit }}"
