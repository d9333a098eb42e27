"""contracts/CHANGELOG.md: what changed in the public contracts, version by version, and the
breaks a change makes on purpose.

The file is headed by releases, newest first: `## <semver> - <YYYY-MM-DD>`, with
`## Unreleased` on top while changes wait for one. The newest release heading is the
contracts' version (the TypeScript client's package takes it). A break a pull request means
to make is acknowledged by naming it, exactly as the check prints it, in a bullet of the
Unreleased section's `### Breaking` list (a reason may follow after the closing backtick),
or of a release made since the revision the check compares with:

    - `contracts/openapi/coupons.json: GET /api/v1/wallet query parameter status: ...` why

`python -m devstack.contracts breaking --accept` writes the breaks not yet named there;
`python -m devstack.contracts release` turns Unreleased into the next version: a break
bumps the major, an entry under `### Added` (a new operation, field or value) the minor,
anything else the patch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

UNRELEASED = "## Unreleased"
BREAKING = "### Breaking"
ADDED = "### Added"
RELEASE = re.compile(r"^## (\d+)\.(\d+)\.(\d+) - (\d{4}-\d{2}-\d{2})$")
ACKNOWLEDGED = re.compile(r"^- `([^`]+)`")


class ChangelogError(ValueError):
    pass


@dataclass(frozen=True)
class Release:
    version: tuple[int, int, int]
    on: date

    def __str__(self) -> str:
        return ".".join(map(str, self.version))


def releases(text: str) -> list[Release]:
    """The release headings, newest first; the file's shape checked on the way."""
    found: list[Release] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("## "):
            continue
        if line == UNRELEASED:
            if found:
                raise ChangelogError(f"line {number}: {UNRELEASED} must come before every release")
            continue
        match = RELEASE.match(line)
        if match is None:
            raise ChangelogError(
                f"line {number}: {line!r} is neither {UNRELEASED!r} nor '## <semver> - <date>'"
            )
        major, minor, patch, on = match.groups()
        release = Release((int(major), int(minor), int(patch)), date.fromisoformat(on))
        if found and not (release.version < found[-1].version and release.on <= found[-1].on):
            raise ChangelogError(f"line {number}: releases must be listed newest first")
        found.append(release)
    return found


def newest_version(text: str) -> str:
    found = releases(text)
    if not found:
        raise ChangelogError("no release heading yet")
    return str(found[0])


def _unreleased_bounds(lines: list[str]) -> tuple[int, int] | None:
    """(first, end) line indices of the Unreleased section's body, if it has one."""
    if UNRELEASED not in lines:
        return None
    first = lines.index(UNRELEASED) + 1
    end = next((i for i in range(first, len(lines)) if lines[i].startswith("## ")), len(lines))
    return first, end


def _entries(lines: list[str], heading: str) -> list[str]:
    """The bullets under `heading` in the Unreleased section."""
    bounds = _unreleased_bounds(lines)
    if bounds is None:
        return []
    entries: list[str] = []
    inside = False
    for line in lines[bounds[0] : bounds[1]]:
        if line.startswith("### "):
            inside = line == heading
        elif inside and line.startswith("- "):
            entries.append(line)
    return entries


def _released_breaks(text: str, before: str) -> list[str]:
    """The Breaking bullets of each release `text` has and `before` had not: a release made
    since the revision compared with (the break and its release in one push)."""
    known = {line for line in before.splitlines() if RELEASE.match(line)}
    bullets: list[str] = []
    new_release = inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            new_release = bool(RELEASE.match(line)) and line not in known
            inside = False
        elif line.startswith("### "):
            inside = new_release and line == BREAKING
        elif inside and line.startswith("- "):
            bullets.append(line)
    return bullets


def acknowledged(text: str, before: str | None = None) -> set[str]:
    """The breaks the Unreleased section names, and, given `before` (the changelog at the
    revision compared with; empty when it had none), those of each release made since."""
    bullets = _entries(text.splitlines(), BREAKING)
    if before is not None:
        bullets += _released_breaks(text, before)
    return {match.group(1) for line in bullets if (match := ACKNOWLEDGED.match(line))}


def unacknowledged(breaks: list[str], text: str, before: str | None = None) -> list[str]:
    named = acknowledged(text, before)
    return [change for change in breaks if change not in named]


def with_accepted(text: str, breaks: list[str]) -> str:
    """`text` with every break of `breaks` not yet named there in Unreleased's Breaking list."""
    missing = unacknowledged(breaks, text)
    if not missing:
        return text
    lines = text.splitlines()
    bullets = [f"- `{change}`" for change in missing]
    bounds = _unreleased_bounds(lines)
    if bounds is None:
        first_release = next(
            (i for i, line in enumerate(lines) if line.startswith("## ")), len(lines)
        )
        lines[first_release:first_release] = [UNRELEASED, "", BREAKING, "", *bullets, ""]
        return "\n".join(lines) + "\n"
    first, end = bounds
    section = lines[first:end]
    if BREAKING in section:
        start = first + section.index(BREAKING) + 1
        after = next(
            (i for i in range(start, end) if lines[i].startswith("### ")),
            end,
        )
        while after > start and not lines[after - 1].strip():
            after -= 1
        lines[after:after] = bullets
    else:
        lines[first:first] = ["", BREAKING, "", *bullets]
    return "\n".join(lines) + "\n"


def released(text: str, on: date) -> str:
    """`text` with its Unreleased section made the next release, dated `on`."""
    lines = text.splitlines()
    bounds = _unreleased_bounds(lines)
    if bounds is None or not any(line.strip() for line in lines[bounds[0] : bounds[1]]):
        raise ChangelogError("nothing unreleased to release")
    found = releases(text)
    major, minor, patch = found[0].version if found else (0, 0, 0)
    if _entries(lines, BREAKING) or not found:
        version = f"{major + 1}.0.0"
    elif _entries(lines, ADDED):
        version = f"{major}.{minor + 1}.0"
    else:
        version = f"{major}.{minor}.{patch + 1}"
    lines[lines.index(UNRELEASED)] = f"## {version} - {on.isoformat()}"
    return "\n".join(lines) + "\n"
