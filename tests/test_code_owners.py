""".github/CODEOWNERS: each service, with its contract files, belongs to one team of its
own; what every service shares falls to the default owners. `make new-service` registers
a new service's team the same way."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from core.routing import SERVICES
from devstack.scaffold.new_service import NewService, register_code_owners

REPO_ROOT = Path(__file__).resolve().parents[1]
CODEOWNERS = REPO_ROOT / ".github" / "CODEOWNERS"
OWNER = re.compile(r"^@[\w.-]+/[\w.-]+$")
# The patterns read here: everything, a folder, a file (all anchored at the root).
PATTERN = re.compile(r"^(\*|/[\w./-]+)$")

Rules = list[tuple[str, tuple[str, ...]]]


def rules_of(text: str) -> Rules:
    rules: Rules = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, *owners = line.split()
        assert PATTERN.match(pattern), f"{pattern!r}: a form this check does not read"
        assert owners, f"{pattern!r} names no owner"
        assert all(OWNER.match(owner) for owner in owners), line
        rules.append((pattern, tuple(owners)))
    return rules


def owners_of(rules: Rules, path: str) -> tuple[str, ...]:
    """GitHub's rule: the last matching line wins."""
    found: tuple[str, ...] = ()
    for pattern, owners in rules:
        anchored = pattern.lstrip("/")
        if (
            pattern == "*"
            or (pattern.endswith("/") and path.startswith(anchored))
            or path == anchored
        ):
            found = owners
    return found


def ownership_problems(text: str, services: list[tuple[str, str]]) -> list[str]:
    """(name, directory) of each service; what is wrong with their owners."""
    rules = rules_of(text)
    shared = owners_of(rules, "libs/core/src/core/config.py")
    problems = [] if shared else ["the shared code (libs/) has no owner"]
    for name, directory in services:
        paths = (
            f"services/{directory}/src/main.py",
            f"contracts/openapi/{name}.json",
            f"contracts/graphql/{name}.graphql",
        )
        teams = {path: owners_of(rules, path) for path in paths}
        if len(set(teams.values())) != 1:
            problems.append(f"{directory}: its code and contracts have different owners {teams}")
        if teams[paths[0]] in {shared, ()}:
            problems.append(f"{directory}: no team of its own")
    return problems


def services_of_the_platform() -> list[tuple[str, str]]:
    return [(service.name, service.directory) for service in SERVICES]


def test_each_service_and_its_contracts_belong_to_a_team_of_its_own() -> None:
    assert services_of_the_platform(), "core.routing lists the services"
    assert ownership_problems(CODEOWNERS.read_text(), services_of_the_platform()) == []


def test_a_service_without_its_lines_is_found() -> None:
    text = "\n".join(
        line for line in CODEOWNERS.read_text().splitlines() if "svc-coupons" not in line
    )
    assert ownership_problems(text, services_of_the_platform()) == [
        "svc-coupons: its code and contracts have different owners "
        "{'services/svc-coupons/src/main.py': ('@coupon-platform/platform-team',), "
        "'contracts/openapi/coupons.json': ('@coupon-platform/coupons-team',), "
        "'contracts/graphql/coupons.graphql': ('@coupon-platform/coupons-team',)}",
        "svc-coupons: no team of its own",
    ]


def test_the_last_matching_line_wins() -> None:
    rules = rules_of("* @org/all\n/services/ @org/services\n/services/svc-a/ @org/a\n")
    assert owners_of(rules, "services/svc-a/x.py") == ("@org/a",)
    assert owners_of(rules, "services/svc-b/x.py") == ("@org/services",)
    assert owners_of(rules, "libs/x.py") == ("@org/all",)


def test_a_new_service_gets_a_team_of_its_own(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    shutil.copy2(CODEOWNERS, tmp_path / ".github" / "CODEOWNERS")
    register_code_owners(NewService("loyalty"), tmp_path)
    text = (tmp_path / ".github" / "CODEOWNERS").read_text()
    services = [*services_of_the_platform(), ("loyalty", "svc-loyalty")]
    assert ownership_problems(text, services) == []
    assert owners_of(rules_of(text), "services/svc-loyalty/README.md") == (
        "@coupon-platform/loyalty-team",
    )
    with pytest.raises(SystemExit, match="has owners already"):
        register_code_owners(NewService("loyalty"), tmp_path)
