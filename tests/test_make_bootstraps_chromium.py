"""`make test` installs what its browser test needs on a clean machine: the main suite's
target depends on the Chromium it drives (Debian's, installed by its own rule when
missing). Make expands a rule's prerequisites as it reads the rule, so the default path
must be set before the rule, or the suite depends on nothing and a clean machine meets a
missing browser half-way through the run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEBIANS_CHROMIUM = "/usr/bin/chromium"


def prerequisites(target: str) -> list[str]:
    """The target's prerequisites as make reads them, CHROMIUM left to its default."""
    environment = {name: value for name, value in os.environ.items() if name != "CHROMIUM"}
    database = subprocess.run(  # noqa: S603 (our own Makefile, nothing run)
        ["make", "--print-data-base", "--question", target],  # noqa: S607
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,  # --question exits 1 when the target is out of date
    ).stdout
    for line in database.splitlines():
        if line.startswith(f"{target}:"):
            return line.split(":", 1)[1].split()
    raise AssertionError(f"no rule for {target} in make's database")


def test_the_suite_depends_on_debians_chromium_by_default() -> None:
    assert DEBIANS_CHROMIUM in prerequisites("pytest")
