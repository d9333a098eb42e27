""".github/dependabot.yml proposes updates for every dependency the repository pins: the
uv lock, each npm package (the root's Node tools, the TypeScript client) and the actions
the workflows pin. A new package.json or uv.lock without an entry fails here, as does an
entry for a folder that holds nothing to update. (zizmor, in make lint-workflows, audits
the file's settings.)"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / ".github" / "dependabot.yml"
# The file each ecosystem updates, found in the folder an entry names.
MANIFESTS = {"uv": "uv.lock", "npm": "package-lock.json"}


def tracked(pattern: str) -> list[str]:
    listed = subprocess.run(  # noqa: S603 (a fixed command, the pattern is ours)
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", pattern],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(name for name in listed if "node_modules/" not in name)


def folder_of(file: str) -> str:
    parent = Path(file).parent.as_posix()
    return "/" if parent == "." else f"/{parent}"


def what_needs_updates() -> set[tuple[str, str]]:
    needed = {
        (ecosystem, folder_of(file))
        for ecosystem, manifest in MANIFESTS.items()
        for file in tracked(f"*{manifest}")
        if Path(file).name == manifest
    }
    if any(
        "uses:" in (REPO_ROOT / workflow).read_text()
        for workflow in tracked(".github/workflows/*.yml")
    ):
        needed.add(("github-actions", "/"))
    return needed


def coverage_problems(config: dict[str, Any], needed: set[tuple[str, str]]) -> list[str]:
    entries = config.get("updates", [])
    configured = {(entry["package-ecosystem"], entry["directory"]) for entry in entries}
    problems = [f"{ecosystem} in {folder}: no entry" for ecosystem, folder in needed - configured]
    problems += [
        f"{ecosystem} in {folder}: nothing there to update"
        for ecosystem, folder in configured - needed
    ]
    problems += [
        f"{entry['package-ecosystem']} in {entry['directory']}: no schedule"
        for entry in entries
        if "interval" not in entry.get("schedule", {})
    ]
    return sorted(problems)


def test_every_pinned_dependency_gets_updates() -> None:
    needed = what_needs_updates()
    assert {("uv", "/"), ("npm", "/"), ("npm", "/clients/typescript"), ("github-actions", "/")} <= (
        needed
    )
    config = yaml.safe_load(CONFIG.read_text())
    assert config["version"] == 2
    assert coverage_problems(config, needed) == []


def test_a_package_without_an_entry_and_an_entry_without_a_package_are_found() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    config["updates"] = [
        entry for entry in config["updates"] if entry["directory"] != "/clients/typescript"
    ]
    config["updates"].append(
        {"package-ecosystem": "npm", "directory": "/bench", "schedule": {"interval": "weekly"}}
    )
    assert coverage_problems(config, what_needs_updates()) == [
        "npm in /bench: nothing there to update",
        "npm in /clients/typescript: no entry",
    ]
