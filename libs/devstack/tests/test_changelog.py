"""contracts/CHANGELOG.md: a break passes the contract check only once the changelog names
it, and a release after a break is a new major."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from devstack.contracts.breaking_changes import Changes, openapi_changes
from devstack.contracts.changelog import (
    ChangelogError,
    acknowledged,
    newest_version,
    released,
    releases,
)
from devstack.contracts.files import CHANGELOG, judge, main
from devstack.stack.services import REPO_ROOT

COUPONS = REPO_ROOT / "contracts" / "openapi" / "coupons.json"


def error_response_deleted() -> Changes:
    """The check's finding for one of issue 21's edits: getCoupon's 404 deleted."""
    doc = json.loads(COUPONS.read_text())
    del doc["paths"]["/api/v1/coupons/{code}"]["get"]["responses"]["404"]
    changes = openapi_changes(COUPONS.read_text(), json.dumps(doc))
    return Changes([f"contracts/openapi/coupons.json: {c}" for c in changes.breaking])


@pytest.fixture
def changelog(tmp_path: Path) -> Path:
    """The committed changelog's released history, without what its Unreleased section
    holds now: each test writes its own Unreleased section."""
    text = CHANGELOG.read_text()
    if "\n## Unreleased\n" in text:
        head, pending = text.split("\n## Unreleased\n", 1)
        text = head + "\n## " + pending.split("\n## ", 1)[1]
    copy = tmp_path / "CHANGELOG.md"
    copy.write_text(text)
    return copy


def test_the_committed_changelog_is_well_formed_and_versions_the_contracts() -> None:
    text = CHANGELOG.read_text()
    assert releases(text)[-1].version == (1, 0, 0)
    assert newest_version(text) == str(releases(text)[0])


def test_the_version_command_prints_the_newest_release(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out == f"{newest_version(CHANGELOG.read_text())}\n"


def test_an_unacknowledged_break_fails(changelog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = error_response_deleted()
    assert found.breaking
    assert judge(found, "main", changelog, accept=False) == 1
    printed = capsys.readouterr().out
    assert f"BREAKING {found.breaking[0]}\n" in printed
    assert "1 breaking (1 not acknowledged)" in printed


def test_an_acknowledged_break_passes_and_is_in_the_changelog(changelog: Path) -> None:
    found = error_response_deleted()
    assert judge(found, "main", changelog, accept=True) == 0
    text = changelog.read_text()
    assert acknowledged(text) == set(found.breaking)
    unreleased = text.split("\n## Unreleased\n", 1)[1].split("\n## ", 1)[0]
    assert f"- `{found.breaking[0]}`" in unreleased
    assert judge(found, "main", changelog, accept=False) == 0
    assert text.index("\n## Unreleased\n") < text.index("\n## 1.0.0")


def test_a_break_acknowledged_by_hand_with_its_reason_passes(changelog: Path) -> None:
    found = error_response_deleted()
    text = changelog.read_text().replace(
        "\n## 1.0.0",
        f"\n## Unreleased\n\n### Breaking\n\n- `{found.breaking[0]}`: never answered\n\n## 1.0.0",
    )
    changelog.write_text(text)
    assert judge(found, "main", changelog, accept=False) == 0


def test_a_break_named_elsewhere_than_unreleased_breaking_is_not_acknowledged(
    changelog: Path,
) -> None:
    found = error_response_deleted()
    text = changelog.read_text().replace(
        "\n## 1.0.0", f"\n## Unreleased\n\n### Changed\n\n- `{found.breaking[0]}`\n\n## 1.0.0"
    )
    changelog.write_text(text)
    assert judge(found, "main", changelog, accept=False) == 1


def test_a_release_after_a_break_is_a_major_after_an_addition_a_minor_else_a_patch(
    changelog: Path,
) -> None:
    current = releases(changelog.read_text())[0].version[0]
    judge(error_response_deleted(), "main", changelog, accept=True)
    major = released(changelog.read_text(), date(2026, 12, 8))
    after = f"{current + 1}.0.0"
    assert newest_version(major) == after
    assert "\n## Unreleased\n" not in major
    assert acknowledged(major) == set()
    heading = f"\n## {after}"
    minor = major.replace(heading, f"\n## Unreleased\n\n### Added\n\n- `listNotes`\n{heading}")
    assert newest_version(released(minor, date(2026, 12, 9))) == f"{current + 1}.1.0"
    patch = major.replace(
        heading, f"\n## Unreleased\n\n### Fixed\n\n- a summary reworded\n{heading}"
    )
    assert newest_version(released(patch, date(2026, 12, 9))) == f"{current + 1}.0.1"


@pytest.mark.parametrize(
    "text",
    [
        "## 1.0.0 - 2026-12-07\n\n## Unreleased\n",
        "## v1.0.0 (2026-12-07)\n",
        "## 1.0.0 - 2026-12-07\n\n## 2.0.0 - 2026-12-08\n",
    ],
    ids=["unreleased below a release", "heading of another shape", "oldest first"],
)
def test_a_malformed_changelog_is_refused(text: str) -> None:
    with pytest.raises(ChangelogError):
        releases(text)


def test_a_break_released_since_the_base_stays_acknowledged(changelog: Path) -> None:
    """A break and the release that names it in one push: the check compares with the
    changelog as it was then. A release the base already had acknowledges nothing new."""
    found = error_response_deleted()
    before = changelog.read_text()
    judge(found, "main", changelog, accept=True)
    text = released(changelog.read_text(), date(2026, 12, 8))
    assert "## Unreleased" not in text
    assert acknowledged(text) == set()
    assert acknowledged(text, before) == set(found.breaking)
    assert acknowledged(text, text) == set()
