"""make new-service: a service made in a copy of the repository passes its own tests and the
checks that would catch a broken registration.

Bounded in cost: only what a service needs is copied, the virtualenv is this one (the
copy's sources come first on PYTHONPATH), and only the new service's tests run, with the
migration and contract tests, lint, types and import contracts of the copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

from core.routing import SERVICES
from devstack.scaffold.new_service import uv_command
from devstack.stack.migration_lint import applied_heads, new_migrations
from devstack.stack.services import REPO_ROOT, service_dir

pytestmark = pytest.mark.slow

COPIED = (
    "libs",
    "services",
    "clients/python",
    "contracts",
    "infra/pyproject.toml",
    "infra/src",
    "pyproject.toml",
    "uv.lock",
    "conftest.py",
    ".squawk.toml",
    "migrations-baseline.toml",
    "tests/contracts",
    "tests/conftest.py",
    "tests/migration_fixture",
    "tests/test_migrations.py",
    ".github/CODEOWNERS",
)
NOT_COPIED = shutil.ignore_patterns("__pycache__", ".mypy_cache", "*.pyc", "node_modules")


def copy_of_the_repository(target: Path) -> Path:
    for part in COPIED:
        source, destination = REPO_ROOT / part, target / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=NOT_COPIED)
        else:
            shutil.copy2(source, destination)
    # mypy's cache from `make typecheck`, if it ran: mypy checks each entry against its
    # source's hash, so a warm start re-checks only what differs and saves most of a minute.
    cache = REPO_ROOT / ".mypy_cache"
    if cache.is_dir():
        shutil.copytree(cache, target / ".mypy_cache")
    return target


def environment(copy: Path, server_url: str) -> dict[str, str]:
    sources = [*sorted(copy.glob("libs/*/src")), *sorted(copy.glob("services/*/src"))]
    sources += [copy / "clients/python/src", copy / "infra/src"]
    return os.environ | {
        "PYTHONPATH": os.pathsep.join(str(path) for path in sources),
        "TEST_DATABASE_URL": server_url,
        "UV_PYTHON_DOWNLOADS": "never",
    }


def run(copy: Path, env: dict[str, str], *command: str) -> str:
    done = subprocess.run(  # noqa: S603 (our tools)
        command, cwd=copy, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def test_a_new_service_is_registered_and_passes_its_tests(
    tmp_path: Path, database_url: str
) -> None:
    copy = copy_of_the_repository(tmp_path / "repo")
    # The server the suite runs on; the copy's tests make their own database on it.
    server = make_url(database_url).set(database="postgres").render_as_string(False)
    env = environment(copy, server)
    bin_dir = Path(sys.executable).parent
    python = sys.executable

    run(
        copy,
        env,
        python,
        "-c",
        "from pathlib import Path; "
        "from devstack.scaffold.new_service import NewService, create, lock; "
        f"create('loyalty', Path('{copy}')); "
        f"lock(NewService('loyalty'), Path('{copy}'), '{uv_command(REPO_ROOT)}')",
    )
    service = copy / "services" / "svc-loyalty"
    env = environment(copy, server)  # its sources now exist
    assert (service / "requirements.txt").read_text().startswith("alembic==")
    assert (
        "/services/svc-loyalty/ @coupon-platform/loyalty-team\n"
        in (copy / ".github/CODEOWNERS").read_text()
    )
    run(copy, env, uv_command(REPO_ROOT), "lock", "--locked")
    run(copy, env, python, "-m", "devstack.contracts", "write")
    assert (copy / "contracts/openapi/loyalty.json").exists()
    assert (copy / "clients/python/src/platform_client/loyalty.py").exists()

    routed = (
        "from core.routing import service_for_path as s; print(s('/api/v1/loyalty/items').name)"
    )
    assert run(copy, env, python, "-c", routed).strip() == "loyalty"
    run(copy, env, str(bin_dir / "ruff"), "check", str(service), "clients", "libs/core")
    run(copy, env, str(bin_dir / "ruff"), "format", "--check", str(service), "clients")
    run(copy, env, str(bin_dir / "mypy"), str(service / "src"), "clients/python/src")
    # Not in the baseline: every migration of the new service is checked, with those of
    # the other services not yet applied.
    linted = run(copy, env, python, "-m", "devstack.stack.migration_lint")
    applied = applied_heads()
    pending = sum(
        len(new_migrations(s.name, service_dir(s), applied.get(s.name))) for s in SERVICES
    )
    assert f"{pending + 1} migration(s) after migrations-baseline.toml checked" in linted
    imports = run(copy, env, str(bin_dir / "lint-imports"))
    assert "svc-loyalty layers: controllers never reach repositories KEPT" in imports
    tests = run(
        copy,
        env,
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "services/svc-loyalty",
        "tests/test_migrations.py",
        "tests/contracts",
    )
    assert " passed" in tests
    assert "failed" not in tests
