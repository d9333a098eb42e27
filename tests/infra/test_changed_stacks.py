"""The deploy workflow's plan: which stacks a change deploys (infra.changed_stacks)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from core.routing import SERVICES
from infra import changed_stacks
from infra.app import service_stack_name
from infra.changed_stacks import ALL_TARGETS, SERVICE_TARGETS, stack_names, targets_for
from infra.config import PROJECT, STAGES


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["services/svc-coupons/src/svc_coupons/app.py"], ("svc-coupons",)),
        (["services/svc-auth/requirements.txt"], ("svc-auth",)),
        (["services/svc-merchants/alembic/versions/0002_x.py"], ("svc-merchants",)),
        (
            ["services/svc-coupons/main.py", "services/svc-auth/src/svc_auth/app.py"],
            ("svc-auth", "svc-coupons"),
        ),
        (["libs/core/src/core/logging.py"], SERVICE_TARGETS),
        # Read by the CDK app itself: the API's CORS answer, the route table.
        (["libs/core/src/core/cors.py"], ALL_TARGETS),
        (["libs/core/src/core/routing.py"], ALL_TARGETS),
        (["infra/src/infra/constructs/alarms.py"], ALL_TARGETS),
        (["uv.lock"], ALL_TARGETS),
        (["cdk.json"], ALL_TARGETS),
        # What no bundle or template holds.
        (["services/svc-coupons/tests/unit/test_codes.py"], ()),
        (["services/svc-coupons/README.md"], ()),
        (
            [
                "libs/devstack/src/devstack/stack/bring_up.py",
                "bench/coldstart.py",
                "docs/deploying.md",
            ],
            (),
        ),
        ([".github/workflows/deploy.yml", "tests/infra/test_cdk_app.py", "Makefile"], ()),
    ],
)
def test_a_change_deploys_the_stacks_built_from_it(
    paths: list[str], expected: tuple[str, ...]
) -> None:
    assert targets_for(paths) == expected


def test_every_module_of_core_the_app_reads_deploys_every_stack() -> None:
    """infra's own imports of `core`, module by module, against the plan's list."""
    root = Path(__file__).resolve().parents[2]
    imported = set()
    for source in (root / "infra" / "src").rglob("*.py"):
        for match in re.finditer(
            r"^\s*from (core(?:\.\w+)+) import (.+)$", source.read_text(), re.M
        ):
            module, names = match.group(1), match.group(2)
            package = Path("libs/core/src", *module.split("."))
            for name in (n.strip() for n in names.split(",")):
                # `from core.metrics import catalog` imports a module of the package.
                submodule = package / f"{name}.py"
                if (root / submodule).exists():
                    imported.add(submodule.as_posix())
                else:
                    imported.add(package.with_suffix(".py").as_posix())
    assert imported == set(changed_stacks.CORE_READ_BY_THE_APP)


def test_shared_stacks_deploy_before_the_services() -> None:
    assert ALL_TARGETS[:2] == ("data", "api")
    assert targets_for(["infra/pyproject.toml"]) == ALL_TARGETS


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stack_names_are_the_apps(stage: str) -> None:
    """The plan names the stacks the CDK app synthesizes."""
    assert changed_stacks.STACK_PREFIX == PROJECT
    config = STAGES[stage]
    assert stack_names(stage, ALL_TARGETS) == (
        config.resource_name("data"),
        config.resource_name("api"),
        *(service_stack_name(config, service) for service in SERVICES),
    )


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_plan_reads_the_commits_and_plans_everything_without_a_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "ci@example.com")
    _git(tmp_path, "config", "user.name", "ci")
    (tmp_path / "README.md").write_text("one\n")
    _git(tmp_path, "add", "README.md")
    _git(tmp_path, "commit", "-q", "-m", "first")
    base = _git(tmp_path, "rev-parse", "HEAD")
    service = tmp_path / "services" / "svc-merchants"
    service.mkdir(parents=True)
    (service / "main.py").write_text("handler = None\n")
    _git(tmp_path, "add", "services")
    _git(tmp_path, "commit", "-q", "-m", "second")
    head = _git(tmp_path, "rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)

    assert changed_stacks.main(["--base", base, "--head", head]) == 0
    assert capsys.readouterr().out == "svc-merchants\n"
    assert changed_stacks.main(["--base", base, "--head", head, "--stage", "prod"]) == 0
    assert capsys.readouterr().out == "coupon-platform-prod-svc-merchants\n"
    assert changed_stacks.main(["--base", head, "--head", head]) == 0
    assert capsys.readouterr().out == "\n"
    # A branch's first push, an unknown commit, or --all: everything.
    for argv in (["--base", "0" * 40], ["--base", "f" * 40], ["--base", base, "--all"]):
        assert changed_stacks.main([*argv, "--head", head]) == 0
        assert capsys.readouterr().out.split() == list(ALL_TARGETS)


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """main: first -> second -> third; a branch off first: side. `origin/main` is main, as
    the deploy jobs' checkout knows it."""
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "ci@example.com")
    _git(tmp_path, "config", "user.name", "ci")
    commits = {}
    for name in ("first", "second", "third"):
        (tmp_path / "README.md").write_text(f"{name}\n")
        _git(tmp_path, "add", "README.md")
        _git(tmp_path, "commit", "-q", "-m", name)
        commits[name] = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "checkout", "-q", "-b", "side", commits["first"])
    (tmp_path / "README.md").write_text("side\n")
    _git(tmp_path, "commit", "-q", "-am", "side")
    commits["side"] = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "update-ref", "refs/remotes/origin/main", commits["third"])
    monkeypatch.chdir(tmp_path)
    return commits


def _plan(base: str, head: str) -> int:
    return changed_stacks.main(
        ["--base", base, "--head", head, "--deployable-on", changed_stacks.DEPLOY_BRANCH_REF]
    )


def test_the_plan_deploys_main_forward_only(
    history: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _plan(history["first"], history["third"]) == 0
    assert _plan(history["third"], history["third"]) == 0  # a re-run of what is live
    assert _plan("", history["second"]) == 0  # nothing deployed yet
    capsys.readouterr()

    # A re-run of an old run, or a manual run of an old commit: older than what is live.
    assert _plan(history["third"], history["second"]) == 1
    assert "older than the deployed" in capsys.readouterr().err
    # A branch's commit, whatever was deployed.
    assert _plan(history["first"], history["side"]) == 1
    assert "is not on origin/main" in capsys.readouterr().err
    assert _plan("", history["side"]) == 1
    # Without the check (a developer's look at what a change touches), any two commits.
    assert changed_stacks.main(["--base", history["third"], "--head", history["side"]]) == 0


def test_a_deployed_commit_missing_from_history_is_refused(history: dict[str, str]) -> None:
    with pytest.raises(changed_stacks.NotDeployable, match="not in this repository's history"):
        changed_stacks.check_deployable(
            history["third"], deployed="e" * 40, branch_ref=changed_stacks.DEPLOY_BRANCH_REF
        )
