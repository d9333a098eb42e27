"""Each stage's deployed commit in SSM (infra.deployed_commit): read before a deploy, which
refuses an older commit or one off main, and written after it succeeded."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra import deployed_commit
from infra.changed_stacks import NotDeployable

PARAMETER = "/coupon-platform/prod/deployed-commit"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """main: old -> new (origin/main); a branch off old: side."""
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "ci@example.com")
    _git(tmp_path, "config", "user.name", "ci")
    found = {}
    for name in ("old", "new"):
        (tmp_path / "README.md").write_text(f"{name}\n")
        _git(tmp_path, "add", "README.md")
        _git(tmp_path, "commit", "-q", "-m", name)
        found[name] = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "update-ref", "refs/remotes/origin/main", found["new"])
    _git(tmp_path, "checkout", "-q", "-b", "side", found["old"])
    (tmp_path / "README.md").write_text("side\n")
    _git(tmp_path, "commit", "-q", "-am", "side")
    found["side"] = _git(tmp_path, "rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)
    return found


@pytest.fixture
def ssm() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "ssm",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _deployed(stubber: Stubber, commit: str | None) -> None:
    if commit is None:
        stubber.add_client_error(
            "get_parameter",
            service_error_code="ParameterNotFound",
            http_status_code=400,
            expected_params={"Name": PARAMETER},
        )
        return
    stubber.add_response(
        "get_parameter",
        {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": commit}},
        {"Name": PARAMETER},
    )


def test_the_parameter_is_per_stage() -> None:
    assert deployed_commit.parameter_name("prod") == PARAMETER
    assert deployed_commit.parameter_name("dev") == "/coupon-platform/dev/deployed-commit"


@pytest.mark.parametrize(("live", "candidate"), [(None, "new"), ("old", "new"), ("new", "new")])
def test_main_moving_forward_deploys(
    ssm: Any, commits: dict[str, str], live: str | None, candidate: str
) -> None:
    client, stubber = ssm
    _deployed(stubber, commits[live] if live else None)
    deployed_commit.check(client, "prod", commits[candidate])


@pytest.mark.parametrize(
    ("live", "candidate", "why"),
    [
        ("new", "old", "older than the deployed"),  # a re-run of an old run
        (None, "side", "not on origin/main"),  # a branch
        ("old", "side", "not on origin/main"),
    ],
)
def test_an_older_commit_or_one_off_main_is_refused(
    ssm: Any, commits: dict[str, str], live: str | None, candidate: str, why: str
) -> None:
    client, stubber = ssm
    _deployed(stubber, commits[live] if live else None)
    with pytest.raises(NotDeployable, match=why):
        deployed_commit.check(client, "prod", commits[candidate])


def test_a_deploy_records_its_commit(ssm: Any) -> None:
    client, stubber = ssm
    stubber.add_response(
        "put_parameter",
        {"Version": 2},
        {
            "Name": PARAMETER,
            "Value": "a" * 40,
            "Type": "String",
            "Overwrite": True,
            "Description": (
                "The commit coupon-platform runs in prod (written by the deploy workflow)"
            ),
        },
    )
    deployed_commit.record(client, "prod", "a" * 40)


def test_the_command_line_annotates_a_refusal(
    ssm: Any,
    commits: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, stubber = ssm
    _deployed(stubber, commits["new"])
    monkeypatch.setattr(boto3, "client", lambda service: client)
    assert deployed_commit.main(["check", "--stage", "prod", "--commit", commits["old"]]) == 1
    assert capsys.readouterr().out.startswith("::error title=commit not deployable::prod: ")
