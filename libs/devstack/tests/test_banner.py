"""What `make run` prints once it is up."""

from __future__ import annotations

from core.routing import SERVICES
from devstack.stack.banner import StackFacts, banner
from devstack.stack.services import REPO_ROOT


def facts(password_file: bool) -> StackFacts:
    return StackFacts(
        base_url="http://127.0.0.1:8000",
        services=SERVICES,
        admin_email="admin@localhost.test",
        admin_password_file=REPO_ROOT / ".local" / "admin-password" if password_file else None,
        database="embedded, data in .local/pgdata",
        dynamodb="moto server, in memory",
        portal_origins="http://localhost:3000-3010",
    )


def test_every_service_with_its_swagger_ui_and_graphiql() -> None:
    text = banner(facts(password_file=True))
    for service in SERVICES:
        assert f"http://127.0.0.1:8000/api/v1/{service.name}/docs" in text
        assert f"http://127.0.0.1:8000/graphql/{service.name}" in text


def test_admin_login_where_its_password_is_and_where_data_lives() -> None:
    text = banner(facts(password_file=True))
    assert "admin@localhost.test (password in .local/admin-password)" in text
    assert "data in .local/pgdata" in text
    assert "http://localhost:3000-3010" in text
    given = banner(facts(password_file=False))
    assert "password from BOOTSTRAP_ADMIN_PASSWORD" in given
