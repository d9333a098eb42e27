"""`python -m devstack.scaffold.new_service NAME` (make new-service NAME=loyalty): a new service.

Writes services/svc-NAME from devstack/scaffold/service_template (the CSR layout with one
resource over REST and GraphQL, its migration, settings prefixed NAME_, unit and
integration tests, README), then registers it where the platform lists its services:
the route table (core.routing: the local gateway and the CDK app, which gives it a stack
of its own, read it), the workspace and import-linter contracts (pyproject.toml),
devstack's dependencies, the lock and the service's requirements.txt, contracts/, and
.github/CODEOWNERS (its team owns the service and its contracts).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devstack.stack.services import REPO_ROOT

TEMPLATE = Path(__file__).parent / "service_template"
NAME = re.compile(r"^[a-z][a-z0-9]{1,29}$")
RESERVED = frozenset({"api", "graphql", "health", "core", "devstack", "infra", "well"})


@dataclass(frozen=True)
class NewService:
    name: str

    @property
    def package(self) -> str:
        return f"svc_{self.name}"

    @property
    def directory(self) -> str:
        return f"svc-{self.name}"

    def tokens(self) -> dict[str, str]:
        return {
            "{{name}}": self.name,
            "{{Name}}": self.name.capitalize(),
            "{{PREFIX}}": self.name.upper(),
            "{{package}}": self.package,
            "{{directory}}": self.directory,
        }

    def render(self, text: str) -> str:
        for token, value in self.tokens().items():
            text = text.replace(token, value)
        return text


def write_files(service: NewService, root: Path) -> Path:
    target = root / "services" / service.directory
    for template in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = service.render(str(template.relative_to(TEMPLATE)))[: -len(".tmpl")]
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(service.render(template.read_text()))
    return target


def initial_migration(service: NewService, target: Path) -> str:
    """The first revision, rendered from the mapped classes as autogenerate would write it
    against an empty database (the migration tests compare the two)."""
    from alembic.autogenerate import render_python_code
    from alembic.operations import ops

    sys.path.insert(0, str(target / "src"))
    try:
        models = importlib.import_module(f"{service.package}.repositories.schema_model")
    finally:
        sys.path.remove(str(target / "src"))
    metadata = models.Base.metadata
    operations: list[ops.MigrateOperation] = []
    for table in metadata.sorted_tables:
        operations.append(ops.CreateTableOp.from_table(table))
        operations += [ops.CreateIndexOp.from_index(i) for i in sorted(table.indexes, key=str)]
    upgrade = ops.UpgradeOps(ops=operations)

    def rendered(operations: ops.UpgradeOps | ops.DowngradeOps) -> str:
        code = render_python_code(operations, migration_context=None)
        body = "\n".join(line for line in code.splitlines() if "### " not in line)
        return body.replace("(astext_type=Text()", "(astext_type=sa.Text()")  # as revisions have

    schema = f"{service.name}"
    return f'''"""Items of the `{schema}` schema; the outbox, idempotency keys and processed events.

Revision ID: 0001
Revises:
Create Date: {datetime.now(UTC).isoformat(sep=" ")}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{rendered(upgrade)}


def downgrade() -> None:
{rendered(upgrade.reverse())}
'''


def _insert_before(path: Path, anchor: str, text: str) -> None:
    content = path.read_text()
    if content.count(anchor) != 1:
        raise SystemExit(f"{path}: cannot find where to register the service ({anchor!r})")
    path.write_text(content.replace(anchor, text + anchor))


def _replace_once(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    if content.count(old) != 1:
        raise SystemExit(f"{path}: cannot find where to register the service ({old!r})")
    path.write_text(content.replace(old, new))


def _append_to_list(path: Path, pattern: str, item: str) -> None:
    """Add `item` to the end of the one-line list the pattern's first match ends before."""
    content = path.read_text()
    found = re.search(pattern, content, flags=re.MULTILINE)
    if found is None:
        raise SystemExit(f"{path}: cannot find where to register the service ({pattern!r})")
    at = found.end()
    path.write_text(f'{content[:at]}, "{item}"{content[at:]}')


def code_owners_lines(service: NewService) -> str:
    """The service's block of .github/CODEOWNERS: its team owns its code and contracts."""
    team = f"@coupon-platform/{service.name}-team"
    paths = (
        f"/services/{service.directory}/",
        f"/contracts/openapi/{service.name}.json",
        f"/contracts/graphql/{service.name}.graphql",
    )
    return "".join(f"{path} {team}\n" for path in paths)


def register_code_owners(service: NewService, root: Path) -> None:
    owners = root / ".github" / "CODEOWNERS"
    content = owners.read_text()
    if f"/services/{service.directory}/ " in content:
        raise SystemExit(f"{owners}: services/{service.directory} has owners already")
    owners.write_text(f"{content.rstrip()}\n\n{code_owners_lines(service)}")


def register(service: NewService, root: Path) -> None:
    name, package, directory = service.name, service.package, service.directory
    _insert_before(
        root / "libs/core/src/core/routing.py",
        ")\n\n\ndef service_for_path",
        f'    ServiceRoutes(\n        name="{name}",\n        package="{package}",\n'
        f'        directory="{directory}",\n'
        f'        prefixes=("/api/v1/{name}", "/graphql/{name}"),\n    ),\n',
    )
    pyproject = root / "pyproject.toml"
    for pattern, item in (
        (r"^dependencies = \[[^\]\n]*(?=\])", directory),
        (r"^known-first-party = \[[^\]\n]*(?=\])", package),
        (r"^mypy_path = \[[^\]\n]*(?=\])", f"services/{directory}/src"),
        (r"^root_packages = \[[^\]\n]*(?=\])", package),
        (
            r'name = "core imports no service"\n(?:.*\n)*?forbidden_modules = \[[^\]\n]*(?=\])',
            package,
        ),
        (r'type = "independence"\nmodules = \[[^\]\n]*(?=\])', package),
    ):
        _append_to_list(pyproject, pattern, item)
    _insert_before(pyproject, "\n[tool.ruff]", f"{directory} = {{ workspace = true }}\n")
    with pyproject.open("a") as out:
        out.write(
            f"""
[[tool.importlinter.contracts]]
name = "{directory} layers: controllers never reach repositories"
type = "forbidden"
source_modules = ["{package}.controllers"]
forbidden_modules = ["{package}.repositories"]
# The composition root ({package}.components) is the one way through.
allow_indirect_imports = true

[[tool.importlinter.contracts]]
name = "{directory} services know no web framework"
type = "forbidden"
source_modules = ["{package}.services"]
forbidden_modules = ["fastapi", "strawberry", "starlette"]
"""
        )
    devstack = root / "libs/devstack/pyproject.toml"
    _replace_once(devstack, '    "svc-merchants",\n', f'    "svc-merchants",\n    "{directory}",\n')
    _insert_before(devstack, "\n[build-system]", f"{directory} = {{ workspace = true }}\n")
    register_code_owners(service, root)


def _run(command: Sequence[str], root: Path, *, quiet: bool = False) -> None:
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(command, cwd=root, check=True, stdout=output)  # noqa: S603 (our tools)


def tidy(target: Path, root: Path) -> None:
    """Formatted and fixed as `make format` leaves code (the rendered migration above all)."""
    ruff = str(Path(sys.executable).with_name("ruff"))
    _run([ruff, "format", "--quiet", str(target)], root)
    _run([ruff, "check", "--fix", "--quiet", str(target)], root)


def uv_command(root: Path) -> str:
    """The uv make bootstrapped (.local/uv), else one on PATH."""
    uv = root / ".local" / "uv" / "bin" / "uv"
    return str(uv) if uv.exists() else "uv"


def lock(service: NewService, root: Path, uv: str | None = None) -> None:
    """The lock with the new member, and the requirements.txt its Lambda bundle installs."""
    uv = uv or uv_command(root)
    _run([uv, "lock"], root)
    _run(
        [
            uv, "export", "--frozen", "--package", service.directory, "--no-dev",
            "--no-emit-workspace", "--no-hashes", "--no-header", "--no-annotate",
            "--output-file", f"services/{service.directory}/requirements.txt",
        ],
        root,
        quiet=True,  # export also prints what it writes
    )  # fmt: skip


def install_and_describe(root: Path) -> None:
    """Into the virtualenv; then its contract files (and the clients' code from them)."""
    _run([uv_command(root), "sync", "--all-packages", "--frozen"], root)
    _run([sys.executable, "-m", "devstack.contracts", "write"], root)


def create(name: str, root: Path = REPO_ROOT) -> Path:
    if not NAME.match(name) or name in RESERVED:
        raise SystemExit(f"{name!r}: a service name is 2 to 30 lower-case letters and digits")
    service = NewService(name)
    if (root / "services" / service.directory).exists():
        raise SystemExit(f"services/{service.directory} exists already")
    target = write_files(service, root)
    versions = target / "alembic" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (versions / "0001_initial.py").write_text(initial_migration(service, target))
    register(service, root)
    tidy(target, root)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.scaffold.new_service")
    parser.add_argument("name", help="the bounded context, e.g. loyalty: services/svc-loyalty")
    parser.add_argument(
        "--no-finish", action="store_true", help="skip the lock, requirements and contracts"
    )
    args = parser.parse_args(argv)
    target = create(args.name)
    if not args.no_finish:
        os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
        lock(NewService(args.name), REPO_ROOT)
        install_and_describe(REPO_ROOT)
    sys.stdout.write(f"created {target.relative_to(REPO_ROOT)}; make test includes its tests\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
