"""A stage that serves real portals (prod) does not synthesize while its portal origins or
its bootstrap admin's e-mail are the placeholders under a reserved domain."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aws_cdk import App

from infra import app as cdk_app
from infra.app import build, cdk_json_context
from infra.config import PORTALS, PlaceholderSettings, is_reserved_host, stage_config


def test_prod_as_configured_does_not_synthesize() -> None:
    prod = stage_config("prod")
    with pytest.raises(PlaceholderSettings) as raised:
        build(App(context={**cdk_json_context(), "stage": "prod"}), stage=prod)
    assert raised.value.placeholders == [
        *(f"portal origin https://{portal}.coupon-exchange.example" for portal in PORTALS),
        "bootstrap admin e-mail platform-admin@coupon-exchange.example",
    ]
    assert "infra/src/infra/config.py" in str(raised.value)


def test_the_app_exits_naming_what_to_replace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What `make synth STAGE=prod` and the CDK CLI run."""
    monkeypatch.setenv("CDK_CONTEXT_JSON", '{"stage": "prod"}')
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    with pytest.raises(SystemExit, match=r"stage prod still has placeholder settings \(portal"):
        cdk_app.main()


def test_one_placeholder_left_is_enough_to_refuse() -> None:
    prod = stage_config("prod")
    origins_only = replace(prod, portal_origins=("https://merchant.coupons.acme-retail.com",))
    with pytest.raises(PlaceholderSettings, match="bootstrap admin e-mail"):
        origins_only.require_real_settings()
    email_only = replace(prod, bootstrap_admin_email="ops@acme-retail.com")
    with pytest.raises(PlaceholderSettings, match="portal origin"):
        email_only.require_real_settings()
    replace(origins_only, bootstrap_admin_email="ops@acme-retail.com").require_real_settings()


def test_dev_keeps_its_local_portals_and_example_admin() -> None:
    dev = stage_config("dev")
    assert dev.placeholder_settings()  # localhost and .example: fine for dev
    dev.require_real_settings()


@pytest.mark.parametrize(
    ("host", "reserved"),
    [
        ("merchant.coupon-exchange.example", True),
        ("example.com", True),
        ("mail.example.org", True),
        ("portal.test", True),
        ("localhost", True),
        ("Portal.Example.", True),
        ("coupon-exchange.com", False),
        ("example.com.evil.io", False),
        ("notexample.com", False),
    ],
)
def test_reserved_hosts(host: str, reserved: bool) -> None:
    assert is_reserved_host(host) is reserved
