"""What `make run` says once it is up: where everything is, and how to sign in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.routing import ServiceRoutes
from devstack.stack.services import REPO_ROOT


@dataclass(frozen=True)
class StackFacts:
    base_url: str
    services: Sequence[ServiceRoutes]
    admin_email: str
    admin_password_file: Path | None  # None: BOOTSTRAP_ADMIN_PASSWORD was given
    database: str
    dynamodb: str
    portal_origins: str


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def banner(facts: StackFacts) -> str:
    url = facts.base_url
    width = max(len(s.name) for s in facts.services)
    lines = [
        "",
        f"  Coupon platform, local stack: {url}",
        "",
    ]
    docs = {s.name: f"{url}/api/v1/{s.name}/docs" for s in facts.services}
    docs_width = max(len(link) for link in docs.values())
    for service in facts.services:
        lines.append(
            f"  {service.name:<{width}}  Swagger UI {docs[service.name]:<{docs_width}}"
            f"  GraphiQL {url}{service.graphql_path}"
        )
    password = (
        f"password in {_shown(facts.admin_password_file)}"
        if facts.admin_password_file is not None
        else "password from BOOTSTRAP_ADMIN_PASSWORD"
    )
    lines += [
        "",
        f"  admin      {facts.admin_email} ({password}), client_id admin-portal",
        "             Swagger UI: Authorize, password flow, client_id customer-portal,"
        " merchant-portal or admin-portal, no secret",
        f"  data       PostgreSQL {facts.database}; DynamoDB {facts.dynamodb}",
        f"  portals    CORS allows {facts.portal_origins} (PORTAL_ORIGINS)",
        "  demo data  make demo (in another terminal)      stop: Ctrl-C",
        "",
    ]
    return "\n".join(lines) + "\n"


def database_description(state_dir: Path, *, embedded: bool) -> str:
    return f"embedded, data in {_shown(state_dir / 'pgdata')}" if embedded else "at DATABASE_URL"


def dynamodb_description(state_dir: Path, *, embedded: bool) -> str:
    if embedded:
        return f"moto server, in memory (its log: {_shown(state_dir / 'dynamodb.log')})"
    return "at DYNAMODB_ENDPOINT_URL"
