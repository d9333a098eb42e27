"""`make package`: one folder per service for Lambda, and a smoke test of one bundle."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.routing import SERVICES
from core.web.docs import SWAGGER_UI_ASSETS, SWAGGER_UI_VERSION
from devstack.testing.lambda_harness import http_event
from infra import bundle as bundle_module
from infra.bundle import (
    LAMBDA,
    PROVIDED_BY_RUNTIME,
    REPO_ROOT,
    Bundle,
    BytecodeUnavailable,
    _bundle_requirements,
    _install_wheels,
    build_bundle,
    host_target,
    python_for,
    service_dir,
    uv_executable,
)
from infra.constructs.database_role import BOOTSTRAP_HANDLER

pytestmark = pytest.mark.slow

ELF_MACHINE_AARCH64 = 183
SWAGGER_UI_BUDGET_BYTES = 2 * 1024 * 1024
"""What the docs page may add to a bundle: its script, stylesheet and icon (1.7 MB), not
the dist's source maps and other builds (11 MB)."""


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def _installed(bundle: Path) -> dict[str, str]:
    versions = {}
    for dist_info in bundle.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        versions[re.sub(r"[-_.]+", "-", name).lower()] = version
    return versions


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_lambda_bundle_holds_the_handler_its_code_and_arm64_wheels(
    service: object, lambda_bundles: dict[str, Bundle]
) -> None:
    bundle = lambda_bundles[service.name]  # type: ignore[attr-defined]
    root = bundle.path
    assert (root / "main.py").read_text() == (service_dir(bundle.service) / "main.py").read_text()
    assert (root / "core" / "aws_lambda" / "handler.py").is_file()
    assert (root / bundle.service.package / "app.py").is_file()
    # The service's migrations, moved aside from the alembic library's own package.
    assert (root / "migrations" / "env.py").is_file()
    assert (root / "alembic" / "__init__.py").is_file()
    assert "script_location = %(here)s/migrations" in (root / "alembic.ini").read_text()

    extensions = list(root.rglob("*.so"))
    assert extensions
    assert {_elf_machine(so) for so in extensions} == {ELF_MACHINE_AARCH64}
    assert not [so for so in extensions if "cpython" in so.name and "cpython-312" not in so.name]

    # Bytecode for the runtime's Python whenever one is installed here (make package says
    # loudly when not): without it every cold start compiles every module.
    assert bundle.bytecode == (python_for(LAMBDA.python_version) is not None)
    if bundle.bytecode:
        compiled = root / "core" / "aws_lambda" / "__pycache__" / "handler.cpython-312.pyc"
        assert compiled.is_file()

    # Swagger UI's page and what it loads, and nothing else of the package's dist.
    (dist,) = root.glob("swagger_ui_bundle/vendor/swagger-ui-*")
    assert sorted(path.name for path in dist.iterdir()) == sorted(SWAGGER_UI_ASSETS)
    assert not (root / "jinja2").exists()
    dist_bytes = sum(path.stat().st_size for path in dist.iterdir())
    assert dist_bytes <= SWAGGER_UI_BUDGET_BYTES, f"Swagger UI: {dist_bytes} bytes"

    installed = _installed(root)
    for package in PROVIDED_BY_RUNTIME:
        assert package not in installed
        assert not (root / package).exists()
    requirements = (service_dir(bundle.service) / "requirements.txt").read_text().splitlines()
    for line in requirements:
        name, version = line.split(";")[0].strip().split("==")
        if name not in bundle.excluded:
            assert installed.get(name) == version, f"{name}=={version} missing from the bundle"


def test_a_deploy_refuses_bundles_without_bytecode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bundle_module, "python_for", lambda version: None)
    with pytest.raises(BytecodeUnavailable, match=r"NO\s+bytecode"):
        build_bundle(SERVICES[0], out=tmp_path / "bundle", require_bytecode=True)
    assert not (tmp_path / "bundle").exists()
    assert bundle_module.main(["--require-bytecode", SERVICES[0].name]) == 1
    assert "local smoke" in capsys.readouterr().err


SMOKE = r"""
import json, sys
bundle = sys.argv[1]
sys.path.insert(0, bundle)

class Context:
    aws_request_id = "smoke-request"

    def get_remaining_time_in_millis(self):  # what the migrate action bounds itself by
        return 60_000

import main
results = [main.handler(event, Context()) for event in json.load(sys.stdin)]
# The database bootstrap's handler (another entry point of the same bundle) resolves.
import importlib
module, function = sys.argv[2].rsplit(".", 1)
assert callable(getattr(importlib.import_module(module), function))
stdlib = sys.base_prefix
foreign = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith(bundle)
    and (not module.__file__.startswith(stdlib) or "site-packages" in module.__file__)
)
print(json.dumps({"results": results, "foreign": foreign, "boto3": "boto3" in sys.modules}))
"""


def test_a_bundle_built_for_this_machine_runs_alone_in_a_clean_interpreter(
    tmp_path: Path, migrated_engine: object, database_url: str
) -> None:
    """Catches what only a real bundle shows: a wheel missing from requirements.txt, a file
    left behind, an import the bundle cannot satisfy. Built for this machine's own Python
    and CPU, since the arm64 3.12 one cannot run here."""
    service = SERVICES[0]
    bundle = build_bundle(service, host_target(), out=tmp_path / service.directory)
    health = f"/api/v1/{service.name}/health"
    events = [
        http_event("GET", health),
        http_event("GET", f"/api/v1/{service.name}/no-such-thing"),
        {"action": "migrate"},
        http_event("GET", f"/api/v1/{service.name}/docs"),
        http_event(
            "GET", f"/api/v1/{service.name}/docs/assets/{SWAGGER_UI_VERSION}/swagger-ui-bundle.js"
        ),
    ]
    environment = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "LOCAL_STATE_DIR": str(tmp_path / "state"),
    }
    # -I: no user site, no PYTHON* variables, no script directory; -S: no site-packages.
    # The bundle is all there is beside the standard library.
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-S", "-c", SMOKE, str(bundle.path), BOOTSTRAP_HANDLER],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    health_response, missing, migrated, docs, script = outcome["results"]
    assert health_response["statusCode"] == 200
    assert json.loads(health_response["body"]) == {"status": "ok", "service": service.name}
    assert health_response["headers"]["x-request-id"] == "smoke-request"
    assert missing["statusCode"] == 404
    assert missing["headers"]["content-type"] == "application/problem+json"
    assert migrated == {"migrated": service.name}
    # Swagger UI from the bundle's own copy of the dist, through API Gateway's encoding.
    assert docs["statusCode"] == 200
    assert "/docs/assets/" in docs["body"]
    assert script["statusCode"] == 200
    assert script["headers"]["content-type"] == SWAGGER_UI_ASSETS["swagger-ui-bundle.js"]
    body = script["body"]
    if script["isBase64Encoded"]:
        body = base64.b64decode(body).decode()
    assert "SwaggerUIBundle" in body
    assert outcome["foreign"] == []
    # Requests need no boto3 at import: the runtime's copy is loaded only where used.
    assert outcome["boto3"] is False


def _lock_hashes() -> dict[tuple[str, str], set[str]]:
    """(name, version) -> the hashes uv.lock records for that package's files."""
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    hashes: dict[tuple[str, str], set[str]] = {}
    for package in lock["package"]:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        key = (package["name"], package.get("version", ""))
        hashes[key] = {file["hash"] for file in files if "hash" in file}
    return hashes


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_bundles_install_what_uv_lock_pinned_and_hashed(service: object) -> None:
    """What a bundle installs is exactly requirements.txt less the runtime's packages, each
    pinned with the hashes of the files uv.lock recorded."""
    requirements, excluded = _bundle_requirements(service, uv_executable())  # type: ignore[arg-type]
    pinned: dict[tuple[str, str], set[str]] = {}
    current: tuple[str, str] | None = None
    for line in requirements:
        text = line.strip().rstrip("\\").strip()
        if text.startswith("--hash="):
            assert current is not None, line
            pinned[current].add(text.removeprefix("--hash="))
        elif text:
            name, version = text.split(";")[0].strip().split("==")
            current = (name, version)
            pinned[current] = set()
    lock = _lock_hashes()
    for package, hashes in pinned.items():
        assert hashes, f"{package} has no hash"
        assert hashes <= lock[package], package
    listed = {
        line.split(";")[0].strip().split("==")[0]
        for line in (service_dir(service) / "requirements.txt").read_text().splitlines()  # type: ignore[arg-type]
    }
    assert {name for name, _ in pinned} == listed - set(excluded)
    assert set(PROVIDED_BY_RUNTIME) <= set(excluded)


def test_a_wheel_without_a_locked_hash_is_refused(tmp_path: Path) -> None:
    """Hash checking is required, not only applied to the lines that carry a hash."""
    unhashed = ["idna==3.20"]
    with pytest.raises(subprocess.CalledProcessError):
        _install_wheels(unhashed, LAMBDA, tmp_path / "bundle", uv_executable())
    assert not list((tmp_path / "bundle").glob("idna*"))
