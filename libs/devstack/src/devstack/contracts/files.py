"""The contract files: each service's OpenAPI document and GraphQL schema, kept in the repo,
and the Python client generated from them (devstack.contracts.python_client).

`python -m devstack.contracts write` (make contracts) writes them from the code;
`check` fails, showing the difference, when one is stale (tests/contracts run it in make
test); `breaking --base REF` (make contracts-breaking) lists the changes since REF that
break a client (devstack.contracts.breaking_changes) and fails on those contracts/CHANGELOG.md
does not acknowledge (devstack.contracts.changelog); `--accept` writes them there. `release`
makes the changelog's Unreleased section the next version; `version` prints the newest.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import Environment, PlatformSettings
from core.routing import SERVICES, ServiceRoutes
from core.web.graphql import LazyGraphQLEndpoint
from devstack.contracts.breaking_changes import Changes, graphql_changes, openapi_changes
from devstack.contracts.changelog import (
    BREAKING,
    UNRELEASED,
    newest_version,
    released,
    unacknowledged,
    with_accepted,
)
from devstack.stack.services import REPO_ROOT, app_factory

CONTRACTS_DIR = REPO_ROOT / "contracts"
CHANGELOG = CONTRACTS_DIR / "CHANGELOG.md"


def openapi_file(service: ServiceRoutes, root: Path = CONTRACTS_DIR) -> Path:
    return root / "openapi" / f"{service.name}.json"


def graphql_file(service: ServiceRoutes, root: Path = CONTRACTS_DIR) -> Path:
    return root / "graphql" / f"{service.name}.graphql"


@dataclass(frozen=True)
class ServiceContract:
    service: ServiceRoutes
    openapi: dict[str, Any]
    graphql: str | None

    def files(self, root: Path = CONTRACTS_DIR) -> dict[Path, str]:
        texts = {openapi_file(self.service, root): json.dumps(self.openapi, indent=2) + "\n"}
        if self.graphql is not None:
            texts[graphql_file(self.service, root)] = self.graphql.rstrip("\n") + "\n"
        return texts


def _graphql_endpoint(app: Any) -> LazyGraphQLEndpoint | None:
    for route in app.router.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, LazyGraphQLEndpoint):
            return endpoint
    return None


def build_contracts(services: Sequence[ServiceRoutes] = SERVICES) -> list[ServiceContract]:
    """Each service's documents, from an app built as tests build it: nothing is started
    and nothing is connected to (a local signing key is made in a throwaway folder)."""
    contracts = []
    with tempfile.TemporaryDirectory() as state:
        platform = PlatformSettings(environment=Environment.TEST, local_state_dir=Path(state))
        for service in services:
            app = app_factory(service)(platform=platform)
            endpoint = _graphql_endpoint(app)
            contracts.append(
                ServiceContract(
                    service, app.openapi(), endpoint.sdl() if endpoint is not None else None
                )
            )
    return contracts


def expected_files(root: Path = CONTRACTS_DIR) -> dict[Path, str]:
    from devstack.contracts.python_client import client_files

    contracts = build_contracts()
    files = {path: text for c in contracts for path, text in c.files(root).items()}
    return files | client_files({c.service.name: c.openapi for c in contracts})


def stale_files(root: Path = CONTRACTS_DIR) -> Iterator[str]:
    """A unified diff for each contract file that differs from what the code says."""
    for path, expected in expected_files(root).items():
        current = path.read_text() if path.exists() else ""
        if current != expected:
            name = str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)
            yield "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    f"{name} (in the repo)",
                    f"{name} (from the code)",
                )
            )


def write(root: Path = CONTRACTS_DIR) -> list[Path]:
    written = []
    for path, text in expected_files(root).items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written


def file_at(ref: str, path: Path) -> str | None:
    """A file as it was at a git revision; None when it did not exist there."""
    relative = path.relative_to(REPO_ROOT).as_posix()
    shown = subprocess.run(  # noqa: S603 (git, fixed arguments)
        ["git", "show", f"{ref}:{relative}"],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def changes_since(ref: str) -> tuple[Changes, list[str]]:
    """(changes, notes) of the contract files in the work tree against `ref`."""
    found = Changes()
    notes: list[str] = []
    for service in SERVICES:
        for path, compare in (
            (openapi_file(service), openapi_changes),
            (graphql_file(service), graphql_changes),
        ):
            before = file_at(ref, path)
            name = path.relative_to(REPO_ROOT).as_posix()
            if before is None:
                notes.append(f"{name}: not in {ref}, nothing to compare")
                continue
            if not path.exists():
                found.breaking.append(f"{name}: removed")
                continue
            changes = compare(before, path.read_text())
            found.breaking += [f"{name}: {change}" for change in changes.breaking]
            found.dangerous += [f"{name}: {change}" for change in changes.dangerous]
    return found, notes


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.contracts")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("write", help="write contracts/ from the code")
    commands.add_parser("check", help="fail when a contract file is stale, showing the diff")
    breaking = commands.add_parser("breaking", help="changes since a revision that break clients")
    breaking.add_argument("--base", default="HEAD~1", help="git revision to compare with")
    breaking.add_argument(
        "--accept", action="store_true", help=f"acknowledge every break in {CHANGELOG.name}"
    )
    commands.add_parser("release", help=f"make {CHANGELOG.name}'s Unreleased the next version")
    commands.add_parser("version", help=f"the contracts' version: {CHANGELOG.name}'s newest")
    args = parser.parse_args(argv)

    if args.command == "write":
        for path in write():
            _say(f"wrote {path.relative_to(REPO_ROOT)}")
        return 0
    if args.command == "check":
        diffs = list(stale_files())
        for diff in diffs:
            sys.stdout.write(diff)
        if diffs:
            _say(f"{len(diffs)} contract file(s) stale: run `make contracts` and commit them")
        return 1 if diffs else 0
    if args.command == "version":
        _say(newest_version(CHANGELOG.read_text()))
        return 0
    if args.command == "release":
        text = released(CHANGELOG.read_text(), datetime.now(UTC).date())
        CHANGELOG.write_text(text)
        _say(f"{CHANGELOG.relative_to(REPO_ROOT)}: released {newest_version(text)}")
        return 0
    found, notes = changes_since(args.base)
    for note in notes:
        _say(note)
    return judge(found, args.base, CHANGELOG, accept=args.accept)


def judge(found: Changes, base: str, changelog: Path, *, accept: bool) -> int:
    """Print the changes; 1 while a break is not acknowledged in the changelog (`accept`:
    acknowledge them there first)."""
    name = changelog.relative_to(REPO_ROOT) if changelog.is_relative_to(REPO_ROOT) else changelog
    if accept:
        changelog.write_text(with_accepted(changelog.read_text(), found.breaking))
    before = file_at(base, changelog) if changelog.is_relative_to(REPO_ROOT) else None
    open_breaks = unacknowledged(found.breaking, changelog.read_text(), before or "")
    for change in found.dangerous:
        _say(f"DANGEROUS {change}")
    for change in found.breaking:
        _say(f"BREAKING {change}" + ("" if change in open_breaks else f" (acknowledged in {name})"))
    _say(
        f"{len(found.breaking)} breaking ({len(open_breaks)} not acknowledged) and "
        f"{len(found.dangerous)} dangerous change(s) since {base}"
    )
    if open_breaks:
        _say(
            f"A break made on purpose is named in {name} under {UNRELEASED}, {BREAKING}: "
            "`make contracts-breaking ACCEPT=1` writes the bullets; add why to each."
        )
    return 1 if open_breaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
