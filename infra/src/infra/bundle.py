"""Lambda bundles without Docker: one folder per service, ready for `Code.from_asset`.

A bundle holds the service's `main.py` (the handler), its package, its Alembic scripts,
`core`, and the wheels of its locked requirements (those of its `requirements.txt`) for
the target platform, installed by uv from PyPI binaries only (`--only-binary :all:`):
nothing is compiled, so no Docker image of the Lambda platform is needed. Each wheel must
match a hash uv.lock recorded (`--require-hashes`).

boto3 and botocore, and what only they need (s3transfer, jmespath, urllib3), are left out:
the Lambda Python runtime provides them, they are most of the size a bundle would have
(botocore alone is over 20 MB unzipped, against a 30 MB target), and a bundled urllib3
would shadow the one the runtime's botocore was built with. Our code calls only long-stable
APIs (DynamoDB items, EventBridge PutEvents, Secrets Manager GetSecretValue), and imports
boto3 only where it uses it.

`python -m infra.bundle` builds every service of the route table for Lambda (arm64,
Python 3.12) under `build/lambda/`, and prints each bundle's unzipped size. It ships
bytecode compiled by a local Python 3.12 whenever there is one, and says loudly when there
is none: such a bundle compiles every module at each cold start, which is fine for a local
smoke test and too slow to deploy (`--require-bytecode`, as CI deploys, refuses to build it).

Every subprocess here (uv, strip, Python) runs with arguments built from the repository's
own files, hence the S603 waivers.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.routing import SERVICES, ServiceRoutes
from core.web.docs import SWAGGER_UI_ASSETS

REPO_ROOT = Path(__file__).resolve().parents[3]
BUILD_DIR = REPO_ROOT / "build" / "lambda"
WHEEL_CACHE = REPO_ROOT / ".local" / "cache" / "uv"
CORE_PACKAGE = REPO_ROOT / "libs" / "core" / "src" / "core"
SIZE_TARGET_BYTES = 30 * 1024 * 1024
MIGRATIONS_DIR = "migrations"

PROVIDED_BY_RUNTIME = ("boto3", "botocore")
"""In the Lambda Python runtime already; pruned with whatever only they depend on."""

# Never loaded at run time: the build machine's caches, type stubs, and the C, C++ and
# Cython sources some wheels carry beside their compiled extensions.
_NOT_SHIPPED = (
    "__pycache__",
    "*.pyc",
    "*.pyi",
    "py.typed",
    "*.pyx",
    "*.pxd",
    "*.c",
    "*.cpp",
    "*.h",
    "*.hpp",
)

# Installed as dependencies but never imported by our code paths; each is only reached
# through an option or a fallback we do not use.
_UNUSED_AT_RUNTIME = (
    # python-jose's fallback backends, used only without `cryptography`; dropping ecdsa
    # also removes its unfixed timing side channel (CVE-2024-23342) from the bundle.
    "ecdsa",
    "rsa",
    "pyasn1",
    # email-validator's DNS deliverability check, imported only when enabled (it is not).
    "dns",
    # SQLAlchemy's test harness, and the dialects of databases other than PostgreSQL.
    "sqlalchemy/testing",
    "sqlalchemy/dialects/mysql",
    "sqlalchemy/dialects/mssql",
    "sqlalchemy/dialects/oracle",
    "sqlalchemy/dialects/sqlite",
    # swagger-ui-bundle-v2's template helper; core.web.docs reads the dist's files only.
    "jinja2",
)


@dataclass(frozen=True)
class Target:
    """Where a bundle will run: the wheels' platform and Python version."""

    python_version: str
    python_platform: str  # as uv spells it: aarch64-manylinux_2_28, x86_64-manylinux_2_28

    @property
    def name(self) -> str:
        return f"py{self.python_version}-{self.python_platform}"


LAMBDA = Target(python_version="3.12", python_platform="aarch64-manylinux_2_28")
"""The functions' runtime: python3.12 on arm64 (Amazon Linux 2023, glibc 2.34)."""


def host_target() -> Target:
    """This machine's own Python and CPU: a bundle the tests can import and run."""
    return Target(
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        python_platform=f"{platform.machine()}-manylinux_2_28",
    )


@dataclass(frozen=True)
class Bundle:
    service: ServiceRoutes
    target: Target
    path: Path
    excluded: tuple[str, ...]
    bytecode: bool
    stripped: bool

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def describe(self) -> str:
        size = self.size_bytes
        verdict = "ok" if size <= SIZE_TARGET_BYTES else "OVER the 30 MB target"
        where = (
            self.path.relative_to(REPO_ROOT) if self.path.is_relative_to(REPO_ROOT) else self.path
        )
        return (
            f"{self.service.directory}: {size / 1024 / 1024:.1f} MB unzipped ({verdict}), "
            f"{self.target.name}, bytecode {'compiled' if self.bytecode else 'not compiled'}, "
            f"extensions {'stripped' if self.stripped else 'NOT stripped (no llvm-strip)'}, "
            f"{where}"
        )


def service_dir(service: ServiceRoutes) -> Path:
    return REPO_ROOT / "services" / service.directory


def uv_executable() -> str:
    candidates = [os.environ.get("UV"), str(REPO_ROOT / ".local" / "uv" / "bin" / "uv")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("uv")
    if found is None:
        raise RuntimeError("uv not found: run `make package` (it bootstraps uv) or set UV")
    return found


def _requirement_name(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return _normalise(match.group(0)) if match else None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked_requirements(service: ServiceRoutes, uv: str) -> list[str]:
    """The service's requirements from uv.lock, each with the hashes the lock recorded for
    its files, without the runtime's packages and what only they depend on."""
    prune = [arg for package in PROVIDED_BY_RUNTIME for arg in ("--prune", package)]
    exported = subprocess.run(  # noqa: S603
        [
            uv,
            "export",
            "--frozen",
            "--package",
            service.directory,
            "--no-dev",
            "--no-emit-workspace",
            "--no-header",
            "--no-annotate",
            *prune,
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return exported.splitlines()


def _bundle_requirements(service: ServiceRoutes, uv: str) -> tuple[list[str], tuple[str, ...]]:
    """Lines of the hash-checked requirements file to install, and the names of
    requirements.txt left to the runtime."""
    install = _locked_requirements(service, uv)
    kept = {name for line in install if (name := _requirement_name(line))}
    listed = (service_dir(service) / "requirements.txt").read_text().splitlines()
    excluded = {name for line in listed if (name := _requirement_name(line)) and name not in kept}
    return install, tuple(sorted(excluded))


def _install_wheels(requirements: Sequence[str], target: Target, into: Path, uv: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(requirements) + "\n")
        requirements_file = handle.name
    try:
        subprocess.run(  # noqa: S603
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                sys.executable,
                "--target",
                str(into),
                "--python-platform",
                target.python_platform,
                "--python-version",
                target.python_version,
                "--only-binary",
                ":all:",
                # The lock pins the whole closure; the runtime's packages stay out.
                "--no-deps",
                # Every file installed is the one uv.lock recorded: a registry or mirror
                # serving anything else fails the build.
                "--require-hashes",
                "--no-compile",
                "--link-mode",
                "copy",
                "--cache-dir",
                str(WHEEL_CACHE),
                "-r",
                requirements_file,
            ],
            cwd=REPO_ROOT,
            check=True,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
    finally:
        Path(requirements_file).unlink()


def _copy_code(service: ServiceRoutes, into: Path) -> None:
    ignore = shutil.ignore_patterns(*_NOT_SHIPPED)
    source = service_dir(service)
    shutil.copytree(CORE_PACKAGE, into / "core", ignore=ignore)
    shutil.copytree(source / "src" / service.package, into / service.package, ignore=ignore)
    # The migration trigger runs Alembic with the bundle's root as the service directory.
    # The scripts cannot stay in `alembic/` there: that folder would shadow the alembic
    # library installed beside it, so they move to `migrations/` and the ini follows.
    shutil.copytree(source / "alembic", into / MIGRATIONS_DIR, ignore=ignore)
    ini = (source / "alembic.ini").read_text()
    ini, found = re.subn(
        r"(?m)^script_location\s*=.*$", f"script_location = %(here)s/{MIGRATIONS_DIR}", ini
    )
    if found != 1:
        raise RuntimeError(f"{source / 'alembic.ini'}: expected one script_location line")
    (into / "alembic.ini").write_text(ini)
    shutil.copy2(source / "main.py", into / "main.py")


def _prune_swagger_ui(root: Path) -> None:
    """Of Swagger UI's dist (11 MB with its source maps and other builds), only the files
    the docs page loads (core.web.docs.SWAGGER_UI_ASSETS)."""
    for dist in root.glob("swagger_ui_bundle/vendor/swagger-ui-*"):
        for path in dist.iterdir():
            if path.name not in SWAGGER_UI_ASSETS:
                path.unlink()


def _prune(root: Path) -> None:
    for relative in _UNUSED_AT_RUNTIME:
        shutil.rmtree(root / relative, ignore_errors=True)
    _prune_swagger_ui(root)
    for pattern in _NOT_SHIPPED:
        for path in list(root.rglob(pattern)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()


def strip_tool(target: Target) -> str | None:
    """A `strip` that reads the target's ELF files: llvm-strip reads every architecture."""
    machine = target.python_platform.split("-", 1)[0]
    names = ["llvm-strip", *(f"llvm-strip-{v}" for v in range(21, 13, -1))]
    names.append(f"{machine}-linux-gnu-strip")
    if machine == platform.machine():
        names.append("strip")
    return next((found for name in names if (found := shutil.which(name))), None)


def _strip_extensions(root: Path, strip: str) -> None:
    """Drop the symbol and debug tables of compiled extensions, keeping what loading needs.

    Many wheels ship them unstripped (asyncpg's protocol module is 9 MB with its debug
    information, 1 MB without); --strip-unneeded is what distributions do to shared
    libraries: the dynamic symbols the interpreter looks up stay.
    """
    extensions = [str(path) for path in root.rglob("*.so")]
    if extensions:
        subprocess.run([strip, "--strip-unneeded", *extensions], check=True)  # noqa: S603


def python_for(version: str) -> str | None:
    """An interpreter of exactly `version`, to compile the bundle's bytecode with.

    The Lambda task folder is read-only, so without shipped bytecode every cold start
    compiles every module it imports. LAMBDA_PYTHON names one; else PATH and pyenv are tried.
    """
    candidates: list[str] = []
    if os.environ.get("LAMBDA_PYTHON"):
        candidates.append(os.environ["LAMBDA_PYTHON"])
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        candidates.append(sys.executable)
    candidates.append(f"python{version}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    ]
    for candidate in candidates:
        try:
            answer = subprocess.run(  # noqa: S603
                [
                    candidate,
                    "-c",
                    "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if answer.returncode == 0 and answer.stdout.strip() == version:
            return candidate
    return None


def _compile_bytecode(root: Path, python: str) -> None:
    # unchecked-hash: the asset zip resets file times, and the task folder is read-only, so
    # timestamp-checked bytecode would be recompiled in memory on every cold start.
    subprocess.run(  # noqa: S603
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(root),
        ],
        check=True,
    )


class BytecodeUnavailable(RuntimeError):
    """Bytecode was required, and no interpreter of the target's version is at hand."""


NO_BYTECODE_WARNING = """
WARNING: no Python {version} found (PATH, pyenv, or LAMBDA_PYTHON): the bundles ship NO
bytecode. A function deployed from them compiles every module it imports at each cold
start (about 2 s more here, more on a Lambda's smaller CPU). Use them for local smoke
tests only; deploy bundles built where Python {version} is installed.
"""


def build_bundle(
    service: ServiceRoutes,
    target: Target = LAMBDA,
    *,
    out: Path | None = None,
    bytecode: bool = True,
    require_bytecode: bool = False,
) -> Bundle:
    """Build (or rebuild) one service's bundle; the previous one is replaced only on success.

    `bytecode` ships compiled modules when an interpreter of the target's version is at
    hand (the task folder is read-only, so otherwise each cold start compiles what it
    imports); without one the bundle is built all the same, with a loud warning, unless
    `require_bytecode`.
    """
    python = python_for(target.python_version) if bytecode else None
    if bytecode and python is None:
        if require_bytecode:
            raise BytecodeUnavailable(NO_BYTECODE_WARNING.format(version=target.python_version))
        sys.stderr.write(NO_BYTECODE_WARNING.format(version=target.python_version))
    uv = uv_executable()
    out = out or BUILD_DIR / service.directory
    staging = out.with_name(f".{out.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        requirements, excluded = _bundle_requirements(service, uv)
        _install_wheels(requirements, target, staging, uv)
        _prune(staging)
        strip = strip_tool(target)
        if strip is not None:
            _strip_extensions(staging, strip)
        _copy_code(service, staging)
        if python is not None:
            _compile_bytecode(staging, python)
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Bundle(
        service, target, out, excluded, bytecode=python is not None, stripped=strip is not None
    )


def build_all(
    services: Iterable[ServiceRoutes] = SERVICES,
    target: Target = LAMBDA,
    *,
    bytecode: bool = True,
    require_bytecode: bool = False,
) -> list[Bundle]:
    return [
        build_bundle(service, target, bytecode=bytecode, require_bytecode=require_bytecode)
        for service in services
    ]


def bundle_path(service: ServiceRoutes) -> Path:
    """Where `make package` leaves a service's Lambda bundle (what the CDK app deploys)."""
    return BUILD_DIR / service.directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", help="service names or directories (default: all)")
    parser.add_argument(
        "--no-bytecode",
        dest="bytecode",
        action="store_false",
        help="ship no compiled modules even when Python 3.12 is here (local smoke tests)",
    )
    parser.add_argument(
        "--require-bytecode",
        action="store_true",
        help="fail rather than build bundles without bytecode (what a deploy needs)",
    )
    args = parser.parse_args(argv)
    wanted = set(args.services)
    chosen = [s for s in SERVICES if not wanted or s.name in wanted or s.directory in wanted]
    if wanted and not chosen:
        parser.error(f"unknown service(s) {sorted(wanted)}; known: {[s.name for s in SERVICES]}")
    if args.require_bytecode and not args.bytecode:
        parser.error("--require-bytecode and --no-bytecode contradict each other")
    try:
        bundles = build_all(chosen, bytecode=args.bytecode, require_bytecode=args.require_bytecode)
    except BytecodeUnavailable as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    for bundle in bundles:
        sys.stdout.write(bundle.describe() + "\n")
        if bundle.excluded:
            sys.stdout.write(f"  left to the Lambda runtime: {', '.join(bundle.excluded)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
