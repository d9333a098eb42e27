from __future__ import annotations

import pytest

from core.config import Environment, MissingSecretError
from svc_auth.config import AuthSettings
from svc_auth.utils.signing import SigningKey


def test_local_and_test_run_without_secrets() -> None:
    for environment in (Environment.LOCAL, Environment.TEST):
        assert AuthSettings().check_for(environment).signing_key is None


def test_deployed_auth_refuses_to_start_without_a_signing_key() -> None:
    with pytest.raises(MissingSecretError, match="AUTH_SIGNING_KEY"):
        AuthSettings().check_for(Environment.PROD)


@pytest.mark.parametrize("password", ["changeme", "short"])
def test_deployed_auth_refuses_a_weak_bootstrap_password(password: str) -> None:
    settings = AuthSettings(
        signing_key=SigningKey.generate().to_pem(),
        bootstrap_admin_email="ops@example.com",
        bootstrap_admin_password=password,
    )
    with pytest.raises(MissingSecretError, match="BOOTSTRAP_ADMIN_PASSWORD"):
        settings.check_for(Environment.DEV)


def test_bootstrap_names_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOTSTRAP_ADMIN_EMAIL", "ops@example.com")
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "a long enough secret")
    settings = AuthSettings()
    assert settings.bootstrap_admin_email == "ops@example.com"
    assert settings.bootstrap_admin_password is not None


def test_signing_keys_must_be_rsa_2048_or_more() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match="RSA"):
        SigningKey.from_pem(ec_pem)
