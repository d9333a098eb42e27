"""Failed sign-ins (svc_auth.services.sign_in): an attacker's guesses cost the attacker's own
address, not the owner's way in; many addresses, or one address spraying many accounts,
get a bounded number of guesses; guesses sent at once are counted exactly."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import PlatformSettings
from core.database import Database
from devstack.testing.api import DEFAULT_PASSWORD, AuthApi
from devstack.testing.tokens import TestTokens
from svc_auth.app import create_app
from svc_auth.config import AuthSettings

pytestmark = pytest.mark.usefixtures("one_counting_window")

FROM_ONE_ADDRESS, PER_ACCOUNT, PER_ADDRESS = 3, 7, 8
OWNER_HOME, OWNER_TRAVELLING = "198.51.100.7", "198.51.100.99"


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
        login_max_failures=FROM_ONE_ADDRESS,
        login_account_max_failures=PER_ACCOUNT,
        login_address_max_failures=PER_ADDRESS,
    )


Sign_in = Callable[..., Any]


@pytest.fixture
def sign_in(auth_app: FastAPI) -> Sign_in:
    """A password grant from `address`: its status code."""

    async def attempt(address: str, email: str, password: str = DEFAULT_PASSWORD) -> int:
        transport = httpx.ASGITransport(app=auth_app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answer = await AuthApi(http).token(
                grant_type="password",
                username=email,
                password=password,
                client_id="customer-portal",
            )
        return answer.status_code

    return attempt


@pytest.fixture
async def owner(accounts: AuthApi, sign_in: Sign_in) -> str:
    """An account whose owner has signed in from home before."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    await accounts.register(email)
    assert await sign_in(OWNER_HOME, email) == 200
    return email


async def guesses(sign_in: Sign_in, address: str, email: str, count: int) -> list[int]:
    return [await sign_in(address, email, "a wrong guess") for _ in range(count)]


async def test_an_attacker_elsewhere_cannot_lock_the_owner_out(
    sign_in: Sign_in, owner: str
) -> None:
    attacker = "203.0.113.9"
    assert await guesses(sign_in, attacker, owner, FROM_ONE_ADDRESS + 2) == [400] * 3 + [429] * 2
    # Refused before any password is checked, even the right one.
    assert await sign_in(attacker, owner) == 429
    assert await sign_in(OWNER_HOME, owner) == 200
    assert await sign_in(OWNER_TRAVELLING, owner) == 200


async def test_many_addresses_get_a_bounded_number_of_guesses_at_one_account(
    sign_in: Sign_in, owner: str
) -> None:
    answers: list[int] = []
    for n in range(1, 6):
        answers += await guesses(sign_in, f"203.0.113.{n}", owner, FROM_ONE_ADDRESS)
    assert Counter(answers) == {400: PER_ACCOUNT, 429: 5 * FROM_ONE_ADDRESS - PER_ACCOUNT}
    # The owner gets in from where they signed in before; from a new address the account
    # waits out the window, as the attackers do.
    assert await sign_in(OWNER_HOME, owner) == 200
    assert await sign_in(OWNER_TRAVELLING, owner) == 429


async def test_a_spray_across_accounts_is_stopped_per_address(
    sign_in: Sign_in, owner: str, accounts: AuthApi
) -> None:
    sprayer = OWNER_HOME  # one address, shared with an owner (an office, a carrier's NAT)
    victims = [f"victim-{n}@example.com" for n in range(PER_ADDRESS + 4)]
    await accounts.register(victims[-1])
    answers = [await sign_in(sprayer, victim, "Summer2026!") for victim in victims]
    assert answers == [400] * PER_ADDRESS + [429] * 4
    # Another address is counted on its own; the owner who signs in from the sprayer's
    # address still gets in; the victim registered does too, from elsewhere.
    assert await sign_in("203.0.113.50", "someone@example.com", "Summer2026!") == 400
    assert await sign_in(sprayer, owner) == 200
    assert await sign_in(OWNER_TRAVELLING, victims[-1]) == 200


# -- concurrency: many requests at once, each on its own connection --------------------------


@pytest.fixture
async def racing_app(
    migrated_engine: AsyncEngine,
    platform_settings: PlatformSettings,
    auth_settings: AuthSettings,
    tokens: TestTokens,
    aws: Any,
) -> AsyncIterator[FastAPI]:
    """The app on a Database of its own (a pool, real commits): a failed sign-in writes
    nothing to PostgreSQL, so there is nothing to clean up."""
    settings = platform_settings.model_copy(
        update={"database_pool_size": 10, "database_max_overflow": 10}
    )
    database = Database(settings)
    app = create_app(auth_settings, settings, database=database, keys=tokens.keys)
    # DynamoDB reads and writes an item atomically; moto, called from several threads at
    # once, does not. Given that guarantee, whatever is counted wrong is the service's doing.
    client, one_at_a_time = app.state.runtime.dynamo(), threading.Lock()
    for operation in ("get_item", "put_item", "update_item", "delete_item"):
        setattr(client, operation, atomically(getattr(client, operation), one_at_a_time))
    yield app
    await database.dispose()


def atomically(call: Callable[..., Any], lock: threading.Lock) -> Callable[..., Any]:
    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return call(*args, **kwargs)

    return one_at_a_time


async def test_guesses_sent_at_once_are_counted_exactly(racing_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=racing_app, client=("203.0.113.77", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answers = await asyncio.gather(
            *(
                AuthApi(http).token(
                    grant_type="password",
                    username="somebody@example.com",
                    password=f"guess {n}",
                    client_id="customer-portal",
                )
                for n in range(20)
            )
        )
    assert Counter(a.status_code for a in answers) == {400: FROM_ONE_ADDRESS, 429: 17}
