from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.config import Environment, PlatformSettings


def test_local_runs_on_defaults() -> None:
    settings = PlatformSettings(environment=Environment.LOCAL)
    assert settings.database_url is None
    assert settings.jwks() is None


@pytest.mark.parametrize("environment", [Environment.DEV, Environment.PROD])
def test_deployed_environments_refuse_missing_secrets(environment: Environment) -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        PlatformSettings(environment=environment)
    with pytest.raises(ValidationError, match="JWT_JWKS"):
        PlatformSettings(environment=environment, database_url="postgresql://db/x")
    with pytest.raises(ValidationError, match="JWT_ISSUER"):
        PlatformSettings(
            environment=environment, database_url="postgresql://db/x", jwt_jwks='{"keys": []}'
        )
    deployed = {
        "environment": environment,
        "database_secret_arn": "arn:aws:secretsmanager:eu-west-1:1:secret:db",
        "jwt_jwks": '{"keys": []}',
        "jwt_issuer": "https://api.example.com",
    }
    # The server secret keys what the database keeps: never its local default, never short.
    with pytest.raises(ValidationError, match="SERVER_SECRET"):
        PlatformSettings(**deployed)
    with pytest.raises(ValidationError, match="SERVER_SECRET"):
        PlatformSettings(**deployed, server_secret="short")
    ok = PlatformSettings(**deployed, server_secret="s" * 32)
    assert ok.environment.is_deployed


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h/db")
    settings = PlatformSettings()
    assert settings.environment is Environment.TEST
    assert settings.database_url is not None
    assert "p@h" not in repr(settings)  # secrets stay out of reprs and logs
