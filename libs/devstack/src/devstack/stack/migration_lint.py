"""Squawk, the PostgreSQL migration linter, over every migration not yet applied anywhere.

Each migration is checked as the runner sends it: its offline SQL (`alembic upgrade
<previous>:<revision> --sql`, through the service's own env.py: the session's timeouts,
the transaction, a COMMIT around what runs in an autocommit block), one file per migration,
with the rules `.squawk.toml` chooses. Migrations up to a service's revision in
`migrations-baseline.toml` have run on live databases: they are never rewritten, so never
checked.

A migration that breaks a rule on purpose says so in its own file, with why it is safe
there:

    squawk_ignore = {"ban-drop-column": "no code reads it since 0007"}

An exception the migration does not need (a misspelt rule, or one left after the SQL changed)
is a problem too.

`python -m devstack.stack.migration_lint` (make lint-migrations) checks the services of the route
table and exits 1 on any problem.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import Script, ScriptDirectory

from core.database.migrations import MigrationTimeouts, alembic_config
from core.routing import SERVICES
from devstack.stack.services import REPO_ROOT, service_dir

SQUAWK_CONFIG = REPO_ROOT / ".squawk.toml"
BASELINE = REPO_ROOT / "migrations-baseline.toml"
EXCEPTIONS = "squawk_ignore"


class LintError(RuntimeError):
    """The migrations cannot be checked at all: the baseline names a service or revision
    that is not there, or a history branches."""


@dataclass(frozen=True)
class Migration:
    service: str
    script: Script
    sql: str

    @property
    def path(self) -> Path:
        return Path(self.script.path)

    def name(self) -> str:
        return str(
            self.path.relative_to(REPO_ROOT) if self.path.is_relative_to(REPO_ROOT) else self.path
        )

    def exceptions(self) -> Any:
        return getattr(self.script.module, EXCEPTIONS, {})


def applied_heads(path: Path = BASELINE) -> dict[str, str]:
    """Each service's last applied revision, by service name."""
    with path.open("rb") as file:
        applied: dict[str, str] = tomllib.load(file)["applied"]
    return applied


def new_migrations(service: str, directory: Path, applied: str | None) -> list[Migration]:
    """The service's migrations after `applied` (all of them when None), oldest first."""
    config = alembic_config(directory, MigrationTimeouts())
    scripts = ScriptDirectory.from_config(config)
    if len(scripts.get_heads()) > 1:
        raise LintError(f"{service}: several heads ({', '.join(scripts.get_heads())}): merge them")
    newer: list[Script] = []
    for script in scripts.walk_revisions():
        if script.revision == applied:
            break
        newer.append(script)
    else:
        if applied is not None:
            raise LintError(f"{service}: the baseline's revision {applied!r} is not in its history")
    return [
        Migration(service, script, offline_sql(directory, script)) for script in reversed(newer)
    ]


def offline_sql(directory: Path, script: Script) -> str:
    """What `alembic upgrade <previous>:<revision> --sql` prints for this one migration."""
    previous = script.down_revision
    if isinstance(previous, tuple | list):
        raise LintError(f"{script.path}: a merge of branches; keep each service's history linear")
    config = alembic_config(directory, MigrationTimeouts())
    config.output_buffer = io.StringIO()
    command.upgrade(
        config, f"{previous}:{script.revision}" if previous else script.revision, sql=True
    )
    sql: str = config.output_buffer.getvalue()
    return sql


def squawk_executable() -> Path:
    return Path(sysconfig.get_path("scripts")) / "squawk"


def squawk(migrations: Sequence[Migration], config: Path) -> dict[Migration, list[dict[str, Any]]]:
    """Squawk's findings for each migration's SQL (its JSON report, one run for all)."""
    found: dict[Migration, list[dict[str, Any]]] = {migration: [] for migration in migrations}
    if not migrations:
        return found
    with tempfile.TemporaryDirectory(prefix="migration-lint-") as directory:
        files: dict[str, Migration] = {}
        for migration in migrations:
            file = Path(directory) / f"{migration.service}-{migration.path.stem}.sql"
            file.write_text(migration.sql)
            files[str(file)] = migration
        done = subprocess.run(  # noqa: S603 (the dev dependency's binary)
            [squawk_executable(), "--config", config, "--reporter", "json", *files],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1) or not done.stdout.strip():
            raise LintError(f"squawk failed ({done.returncode}): {done.stderr.strip()}")
        for violation in json.loads(done.stdout):
            found[files[violation["file"]]].append(violation)
    return found


def problems(
    services: Mapping[str, Path], applied: Mapping[str, str], config: Path = SQUAWK_CONFIG
) -> tuple[list[str], int]:
    """What is wrong with the migrations after each service's applied revision, and how many
    migrations were checked."""
    if unknown := sorted(applied.keys() - services.keys()):
        raise LintError(f"the baseline names no service: {', '.join(unknown)}")
    migrations = [
        migration
        for service, directory in services.items()
        for migration in new_migrations(service, directory, applied.get(service))
    ]
    found: list[str] = []
    for migration, violations in squawk(migrations, config).items():
        exceptions = migration.exceptions()
        if not (
            isinstance(exceptions, dict)
            and all(isinstance(reason, str) and reason.strip() for reason in exceptions.values())
        ):
            found.append(
                f"{migration.name()}: {EXCEPTIONS} maps each rule it breaks on purpose to why "
                "that is safe here"
            )
            exceptions = {}
        broken = set()
        for violation in violations:
            rule = violation["rule_name"]
            broken.add(rule)
            if rule not in exceptions:
                found.append(_describe(migration, violation))
        for rule in sorted(exceptions.keys() - broken):
            found.append(
                f"{migration.name()}: {EXCEPTIONS} names {rule}, which its SQL does not break: "
                "remove it"
            )
    return found, len(migrations)


def _describe(migration: Migration, violation: Mapping[str, Any]) -> str:
    lines = migration.sql.splitlines()[violation["line"] : violation["line_end"] + 1]
    statement = "\n".join(f"    | {line}" for line in lines)
    return (
        f"{migration.name()}: {violation['rule_name']}: {violation['message']}\n"
        f"    {violation.get('help') or ''}\n{statement}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    services = {service.name: service_dir(service) for service in SERVICES}
    found, checked = problems(services, applied_heads())
    for problem in found:
        sys.stdout.write(problem + "\n")
    sys.stdout.write(
        f"{checked} migration(s) after {BASELINE.name} checked with {SQUAWK_CONFIG.name}: "
        f"{len(found)} problem(s)\n"
    )
    if found:
        sys.stdout.write(
            f"Rewrite the migration (README: Adding a migration), or acknowledge a rule it "
            f"breaks on purpose in its {EXCEPTIONS}, with why.\n"
        )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
