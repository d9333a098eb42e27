"""Fixtures of the tests that run whole stacks (devstack.stack.spawned)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import make_url

from core.routing import SERVICES
from devstack.stack.spawned import SpawnedStack, spawned_stack


@pytest.fixture(scope="package")
def database_server(database_url: str) -> str:
    """The test run's database server: each stack here makes a database of its own on it."""
    return make_url(database_url).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="package")
def stack(database_server: str) -> Iterator[SpawnedStack]:
    """One running stack for the tests that only ask it things (starting one takes tens of
    seconds on a loaded machine); tests that stop a stack start their own."""
    with spawned_stack(database_server) as running:
        # Each GraphQL endpoint is built on its first request (seconds, on a cold process):
        # built here, so that the tests time what they ask.
        for service in SERVICES:
            path = f"{running.base_url}/graphql/{service.name}"
            assert httpx.post(path, json={"query": "{ __typename }"})
        yield running
