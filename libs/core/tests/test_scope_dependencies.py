"""What a route's scope dependencies let through."""

from __future__ import annotations

import pytest

from core.auth import Principal
from core.auth.dependencies import RequireAnyScope, RequireScope
from core.errors import Forbidden


def caller(*scopes: str) -> Principal:
    return Principal(subject="partner-1", client_id="partner-1", scopes=frozenset(scopes))


async def test_any_one_of_the_scopes_is_enough() -> None:
    either = RequireAnyScope("coupons:redeem", "coupons:read")
    assert either.scopes == ("coupons:read", "coupons:redeem")
    assert await either(caller("coupons:read")) == caller("coupons:read")
    assert await either(caller("coupons:redeem", "x")) == caller("coupons:redeem", "x")
    with pytest.raises(Forbidden):
        await either(caller("coupons:write"))


async def test_a_single_scope_must_be_carried() -> None:
    with pytest.raises(Forbidden):
        await RequireScope("merchants:write")(caller("coupons:write"))
    assert await RequireScope("merchants:write")(caller("merchants:write"))


def test_no_scope_at_all_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RequireAnyScope()
