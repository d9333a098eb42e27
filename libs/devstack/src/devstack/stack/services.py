"""Where each service of the route table lives in this checkout, and its app factory."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.routing import SERVICES, ServiceRoutes

REPO_ROOT = Path(__file__).resolve().parents[5]


def service_dir(service: ServiceRoutes) -> Path:
    return REPO_ROOT / "services" / service.directory


def all_service_dirs() -> list[Path]:
    return [service_dir(service) for service in SERVICES]


def app_factory(service: ServiceRoutes) -> Callable[..., Any]:
    module = importlib.import_module(f"{service.package}.app")
    factory: Callable[..., Any] = module.create_app
    return factory


def by_name(name: str) -> ServiceRoutes:
    for service in SERVICES:
        if service.name == name or service.directory == name:
            return service
    known = ", ".join(s.name for s in SERVICES)
    raise SystemExit(f"unknown service {name!r}; one of: {known}")
