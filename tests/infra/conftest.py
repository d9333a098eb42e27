"""The Lambda bundles and the synthesized CDK app, built once per test session.

Building the bundles here is what puts `make package` inside `make test`; synthesis runs
offline, with cdk.json's context, as the CDK CLI would run it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk.cx_api import CloudAssembly

from core.routing import SERVICES
from infra.app import PlatformApp, build, cdk_json_context
from infra.bundle import Bundle, build_all
from infra.config import PORTALS, STAGES, StageConfig, stage_config

_built: list[Bundle] = []


@pytest.fixture(scope="session")
def lambda_bundles() -> dict[str, Bundle]:
    """`make package`: every service's arm64 Python 3.12 bundle under build/lambda/."""
    if not _built:
        _built.extend(build_all(SERVICES))
    return {bundle.service.name: bundle for bundle in _built}


def deployable(stage: StageConfig) -> StageConfig:
    """The stage with the settings an operator replaces before its first deploy (prod's
    portal origins and admin e-mail) filled in, so that it synthesizes."""
    if not stage.refuses_placeholders:
        return stage
    return replace(
        stage,
        portal_origins=tuple(f"https://{portal}.coupons.acme-retail.com" for portal in PORTALS),
        bootstrap_admin_email="platform-admin@acme-retail.com",
    )


@pytest.fixture(scope="session")
def deployable_stage() -> Callable[[StageConfig], StageConfig]:
    return deployable


@dataclass(frozen=True)
class Synthesized:
    platform: PlatformApp
    assembly: CloudAssembly
    outdir: Path


@pytest.fixture(scope="session", params=sorted(STAGES))
def synthesized(
    request: pytest.FixtureRequest,
    lambda_bundles: dict[str, Bundle],
    tmp_path_factory: pytest.TempPathFactory,
) -> Synthesized:
    stage = deployable(stage_config(request.param))
    outdir = tmp_path_factory.mktemp(f"cdk.out.{stage.name}")
    app = App(outdir=str(outdir), context={**cdk_json_context(), "stage": stage.name})
    platform = build(app, stage=stage, bundles={name: b.path for name, b in lambda_bundles.items()})
    return Synthesized(platform, app.synth(), outdir)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The bundle sizes, as `make package` prints them, at the end of the run."""
    if _built:
        terminalreporter.section("Lambda bundles")
        for bundle in _built:
            terminalreporter.write_line(bundle.describe())
