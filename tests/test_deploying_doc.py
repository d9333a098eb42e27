"""docs/deploying.md walks an empty account to a deployed stage: its steps come in the
order they can be done, and the commands in its code blocks name make targets, modules
and files that exist, using the virtualenv and the CDK CLI only after a step made them."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC = REPO_ROOT / "docs" / "deploying.md"
MAKEFILE = REPO_ROOT / "Makefile"
WALKTHROUGH = "## From an empty account"

# The walkthrough's steps, in the order they can be done, each with a command its code
# blocks must hold.
STEPS = (
    ("Prerequisites", r"\bgit clone\b"),
    ("Tools", r"^make setup\b"),
    ("Preflight", r"^make preflight STAGE="),
    ("OIDC subject", r"actions/oidc/customization/sub"),
    # Holds the execution policy the bootstrap is given: before it.
    ("CI access", r"-m infra\.ci_access_app\b"),
    ("CDK bootstrap", r"\bcdk bootstrap\b.*--cloudformation-execution-policies"),
    ("GitHub environments", r"/environments/"),
    ("Secrets and keys", r"secretsmanager create-secret"),
    ("First deploy", r"\bgh workflow run deploy\.yml\b"),
    ("Alerts", r"\bsns subscribe\b"),
    ("Rotation", r"\bgh workflow run deploy\.yml\b.*-f inputs_changed=true"),
    ("Recovery", r"continue-update-rollback"),
)

VENV_FILE = ".venv/.synced"
NODE_TOOLS_FILE = "node_modules/.package-lock.json"
# A repository path in a command: under one of the repository's top folders.
REPO_PATH = re.compile(
    r"(?<![\w./:-])((?:\.github|infra|libs|services|docs|tools|bench|clients|contracts)"
    r"/[\w./-]*[\w/])"
)
PINNED_CDK = re.compile(r"\bnpx\s+(?:--no-install\s+)?cdk\b")


@dataclass(frozen=True)
class Command:
    line: int  # in the doc
    text: str  # continuation lines joined


def fenced_commands(text: str) -> Iterator[Command]:
    """The commands of every fenced code block, in order, comments dropped."""
    in_block = False
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        if not pending:
            start = number
        pending.append(line.rstrip("\\").strip())
        if line.endswith("\\"):
            continue
        command = re.sub(r"(^|\s)#.*$", "", " ".join(pending)).strip()
        pending = []
        if command:
            yield Command(start, command)


def segments(command: str) -> list[str]:
    """A command line's commands, in the order the shell runs them."""
    return [part.strip() for part in re.split(r"&&|\|\||;|\|", command) if part.strip()]


def makefile_rules(text: str) -> dict[str, set[str]]:
    """target -> prerequisites, with the Makefile's own variables expanded."""
    variables = dict(re.findall(r"^([A-Z_]+)\s*[:?]?=\s*(.*?)\s*$", text, re.MULTILINE))

    def expand(value: str) -> str:
        for _ in range(5):
            value = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), value)
        return value

    rules: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^([^\s#:=][^:=]*?)\s*:(?![:=])\s*([^#]*)", line)
        if not match or line.startswith("\t"):
            continue
        prerequisites = set(expand(match.group(2)).split())
        for target in expand(match.group(1)).split():
            rules.setdefault(target, set()).update(prerequisites)
    return rules


def made_by(rules: dict[str, set[str]], target: str) -> set[str]:
    """Everything `make target` builds on the way."""
    seen: set[str] = set()
    todo = [target]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(rules.get(current, ()))
    return seen


def make_targets(segment: str) -> list[str]:
    words = segment.split()
    if not words or words[0] != "make":
        return []
    return [word for word in words[1:] if "=" not in word and not word.startswith("-")]


def python_modules(segment: str) -> list[str]:
    return re.findall(r"\bpython3?\s+-m\s+([\w.]+)", segment)


def workflow_inputs(workflow: str) -> set[str] | None:
    """The inputs a manual run of a workflow of .github/workflows takes; None when there
    is no such workflow or it cannot be run by hand."""
    path = REPO_ROOT / ".github" / "workflows" / workflow
    if not path.is_file():
        return None
    triggers = yaml.safe_load(path.read_text()).get(True) or {}  # YAML 1.1 reads `on` as True
    if not isinstance(triggers, dict) or "workflow_dispatch" not in triggers:
        return None
    return set((triggers["workflow_dispatch"] or {}).get("inputs") or {})


def workflow_runs(segment: str) -> list[tuple[str, list[str]]]:
    """`gh workflow run W -f name=value ...`: the workflow and the inputs named."""
    match = re.match(r"gh workflow run\s+(\S+)(.*)", segment)
    if not match:
        return []
    return [
        (match.group(1), re.findall(r"(?:-f|--raw-field|-F|--field)\s+([\w-]+)=", match.group(2)))
    ]


def problems(text: str, makefile: str) -> list[str]:
    rules = makefile_rules(makefile)
    found: list[str] = []
    venv = node_tools = False
    for command in fenced_commands(text):
        for segment in segments(command.text):
            where = f"line {command.line}: {segment}"
            if ".venv/bin/" in segment and not venv:
                found.append(f"{where}: the virtualenv is used before a step makes it")
            if PINNED_CDK.search(segment) and not node_tools:
                found.append(f"{where}: the CDK CLI is used before a step installs it")
            if re.search(r"\bnpx\s+aws-cdk", segment):
                found.append(f"{where}: the CDK CLI is not the one package-lock.json pins")
            for target in make_targets(segment):
                if target not in rules:
                    found.append(f"{where}: no make target {target}")
                    continue
                built = made_by(rules, target)
                venv = venv or VENV_FILE in built
                node_tools = node_tools or NODE_TOOLS_FILE in built
            if re.match(r"npm ci\b", segment):
                node_tools = True
            for module in python_modules(segment):
                if importlib.util.find_spec(module) is None:
                    found.append(f"{where}: no module {module}")
            for path in REPO_PATH.findall(segment):
                if not (REPO_ROOT / path).exists():
                    found.append(f"{where}: no {path}")
            for workflow, named in workflow_runs(segment):
                inputs = workflow_inputs(workflow)
                if inputs is None:
                    found.append(f"{where}: no workflow {workflow} to run by hand")
                    continue
                found += [
                    f"{where}: {workflow} has no input {name}"
                    for name in named
                    if name not in inputs
                ]
    return found


def walkthrough_steps(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each `### N. Heading` in the walkthrough section."""
    start = text.index(WALKTHROUGH)
    end = text.find("\n## ", start + len(WALKTHROUGH))
    section = text[start : end if end >= 0 else len(text)]
    parts = re.split(r"^### \d+\. (.+)$", section, flags=re.MULTILINE)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_the_walkthrough_takes_the_steps_in_the_order_they_can_be_done() -> None:
    steps = walkthrough_steps(DOC.read_text())
    assert [heading for heading, _ in steps] == [name for name, _ in STEPS]
    for (heading, body), (_, command) in zip(steps, STEPS, strict=True):
        commands = [c.text for c in fenced_commands(body)]
        assert any(re.search(command, text) for text in commands), (heading, command)


def test_both_stages_are_walked() -> None:
    steps = dict(walkthrough_steps(DOC.read_text()))
    for heading in ("Preflight", "CI access", "GitHub environments", "First deploy"):
        assert "prod" in steps[heading], heading
        assert "dev" in steps[heading], heading


def test_every_command_names_what_exists_and_comes_after_what_it_needs() -> None:
    assert problems(DOC.read_text(), MAKEFILE.read_text()) == []


MAKEFILE_SAMPLE = """\
VENV := .venv
NODE_MODULES := node_modules/.package-lock.json
$(NODE_MODULES): package.json
\tnpm ci
$(VENV)/.synced: uv.lock
\tuv sync
setup: $(VENV)/.synced $(NODE_MODULES) ## both
package: $(VENV)/.synced ## bundles
"""


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ("```sh\n.venv/bin/python -c 'print(1)'\nmake setup\n```", "virtualenv is used before"),
        ("```sh\nnpx cdk deploy --all\n```", "CDK CLI is used before"),
        ("```sh\nnpx aws-cdk@2 bootstrap\n```", "not the one package-lock.json pins"),
        ("```sh\nmake deploy-everything\n```", "no make target deploy-everything"),
        ("```sh\nmake setup\n.venv/bin/python -m infra.nothing\n```", "no module infra.nothing"),
        ("```sh\nless infra/src/infra/nothing.py\n```", "no infra/src/infra/nothing.py"),
        ("```sh\ngh workflow run ci.yml\n```", "no workflow ci.yml to run by hand"),
        ("```sh\ngh workflow run deploy.yml -f nothing=1\n```", "deploy.yml has no input nothing"),
    ],
)
def test_the_checks_catch_what_they_are_for(doc: str, problem: str) -> None:
    (found,) = problems(doc, MAKEFILE_SAMPLE)
    assert problem in found


def test_a_make_target_that_syncs_the_virtualenv_makes_it() -> None:
    doc = (
        "```sh\nmake package && .venv/bin/python -m infra.app \\\n    --flag\n"
        "npm ci\nnpx cdk ls\n```"
    )
    assert problems(doc, MAKEFILE_SAMPLE) == []
