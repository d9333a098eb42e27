"""The repository's Markdown documents link only inside the repository, to files that exist:
a reader with a clone (a portal team, a new contributor) follows every link. Web links
(https://...) are free; a relative link or a relative path in a code span that leaves the
repository (`../shared/...`), or a relative link to nothing, fails."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN_PATH = re.compile(r"`(\.{1,2}/[^`\s]*)`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    document: str
    target: str
    is_link: bool


def markdown_documents() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO_ROOT / name for name in sorted(set(listed)) if (REPO_ROOT / name).is_file()]


def references(document: Path, text: str) -> list[Reference]:
    name = document.relative_to(REPO_ROOT).as_posix()
    prose = FENCE.sub("", text)
    found = [Reference(name, target, True) for target in LINK.findall(prose)]
    found += [Reference(name, target, False) for target in CODE_SPAN_PATH.findall(prose)]
    return found


def broken(reference: Reference, document: Path) -> str | None:
    """Why the reference fails a reader with a clone, or None."""
    target = reference.target
    if EXTERNAL.match(target) or target.startswith("#"):
        return None
    if target.startswith("/"):
        return "an absolute path: only inside the repository, relative to the document"
    resolved = (document.parent / target.split("#", 1)[0]).resolve()
    if not resolved.is_relative_to(REPO_ROOT):
        return "leaves the repository"
    if reference.is_link and not resolved.exists():
        return "links to nothing"
    return None


def problems_in(document: Path, text: str) -> list[str]:
    return [
        f"{reference.document}: {reference.target}: {why}"
        for reference in references(document, text)
        if (why := broken(reference, document)) is not None
    ]


def test_every_document_links_inside_the_repository_to_what_exists() -> None:
    documents = markdown_documents()
    assert REPO_ROOT / "README.md" in documents
    problems = [
        problem
        for document in documents
        for problem in problems_in(document, document.read_text(encoding="utf-8"))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("The public contract is `../shared/design/API.md`.", "leaves the repository"),
        ("See [the design](../shared/design/API.md).", "leaves the repository"),
        ("See [the contract](docs/no-such-file.md).", "links to nothing"),
        ("See [the contract](/work/shared/design/API.md).", "an absolute path"),
    ],
)
def test_a_reference_out_of_the_repository_or_to_nothing_fails(text: str, why: str) -> None:
    (problem,) = problems_in(REPO_ROOT / "README.md", text)
    assert why in problem


def test_web_links_anchors_and_links_in_the_repository_pass() -> None:
    text = (
        "[Squawk](https://squawkhq.com/docs/rules), [below](#tests), "
        "[the client](clients/typescript/README.md#using-it-in-a-portal), "
        "[api](docs/api.md), `./Makefile`\n```sh\ncat ../shared/outside-a-code-block\n```\n"
    )
    assert problems_in(REPO_ROOT / "README.md", text) == []
