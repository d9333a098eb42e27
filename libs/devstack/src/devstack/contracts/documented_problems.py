"""pytest plugin: a problem a route answered in a test must be documented on that route.

Every problem document the services answer during the run is noted with the route that
answered it; at the end each (route, status, code) is looked up in the service's OpenAPI
document (core.web.openapi) and the run fails when one is missing there. So the error
codes a portal team generates its client from cannot fall behind the code.

Left out: 5xx answers (failures the tests inject) and method_not_allowed (a router's
answer for every path).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

import core.web.problems as problems
from core.web.problems import PROBLEM_MEDIA_TYPE

Handler = Callable[[Request, Exception], Awaitable[Response]]
Seen = tuple[str, str, int, str]  # path template, method, status, code
HANDLERS = ("_platform_error", "_validation_error", "_http_error", "_database_error")
NOT_CHECKED_CODES = frozenset({"method_not_allowed"})

_seen: set[Seen] = set()


def _noting(handler: Handler) -> Handler:
    async def note(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        route = request.scope.get("route")
        path = getattr(route, "path_format", None)
        if path is not None and response.status_code < 500:
            code = json.loads(bytes(response.body)).get("code")
            if isinstance(code, str):
                _seen.add((path, request.method, response.status_code, code))
        return response

    return note


def pytest_configure(config: pytest.Config) -> None:
    # Before any app exists: install_problem_handlers reads these names when it runs.
    for name in HANDLERS:
        setattr(problems, name, _noting(getattr(problems, name)))


def documented_codes(document: dict[str, Any], path: str, method: str, status: int) -> set[str]:
    operation = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    response = operation.get("responses", {}).get(str(status), {})
    examples = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {})
    return set(examples)


def undocumented(seen: set[Seen], documents: list[dict[str, Any]]) -> list[str]:
    missing = []
    for path, method, status, code in sorted(seen):
        if code in NOT_CHECKED_CODES:
            continue
        owners = [d for d in documents if method.lower() in d.get("paths", {}).get(path, {})]
        if owners and not any(code in documented_codes(d, path, method, status) for d in owners):
            missing.append(f"{method} {path} answered {status} {code}")
    return missing


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _seen or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    from devstack.contracts.files import build_contracts

    missing = undocumented(_seen, [contract.openapi for contract in build_contracts()])
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [
            "Answers the OpenAPI documents do not list (add the error to the route's",
            "responses=problems(...), then make contracts):",
            *(f"  {line}" for line in missing),
        ]
        if reporter is not None:
            reporter.write_sep("=", "undocumented problem answers", red=True)
            for line in lines:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
