"""Verified access tokens are remembered for a while, never past their expiry."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from core.auth import tokens as token_module
from core.auth.keys import PublicKeySet
from core.auth.tokens import REMEMBER_SECONDS, TokenVerifier
from core.config import Environment, PlatformSettings
from core.errors import Unauthenticated
from devstack.testing.tokens import TestTokens


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(tokens: TestTokens, clock: Clock) -> TokenVerifier:
    settings = PlatformSettings(
        environment=Environment.TEST, jwt_jwks=json.dumps(tokens.keys.jwks())
    )
    return TokenVerifier(
        keys=PublicKeySet(settings), issuer=tokens.issuer, audience=tokens.audience, clock=clock
    )


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each token whose signature was checked, in order."""
    checked: list[str] = []
    decode: Callable[..., Any] = token_module.jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(token_module.jwt, "decode", counting)
    return checked


def test_a_verified_token_is_checked_once(
    verifier: TokenVerifier, tokens: TestTokens, decodes: list[str]
) -> None:
    token = tokens.token()
    first, again = verifier.verify(token), verifier.verify(token)
    assert first == again
    assert decodes == [token]


def test_it_is_checked_again_after_a_minute(
    verifier: TokenVerifier, tokens: TestTokens, decodes: list[str], clock: Clock
) -> None:
    token = tokens.token(ttl=3600)
    verifier.verify(token)
    clock.now += REMEMBER_SECONDS - 1
    verifier.verify(token)
    clock.now += 2
    verifier.verify(token)
    assert decodes == [token, token]


def test_never_past_its_expiry(
    verifier: TokenVerifier, tokens: TestTokens, decodes: list[str], clock: Clock
) -> None:
    token = tokens.token(ttl=5)
    verifier.verify(token)
    # Past exp and the clock skew allowed: remembered no longer, so checked (and refused,
    # once the real clock gets there too).
    clock.now += 5 + token_module.CLOCK_SKEW_SECONDS + 1
    verifier.verify(token)
    assert decodes == [token, token]


def test_refused_tokens_are_not_remembered(
    verifier: TokenVerifier, tokens: TestTokens, decodes: list[str]
) -> None:
    other_issuer = TestTokens(tokens.keys, issuer="https://elsewhere.example")
    forged = other_issuer.token()
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    assert decodes == [forged, forged]


def test_the_memory_is_bounded(
    verifier: TokenVerifier,
    tokens: TestTokens,
    decodes: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(token_module, "REMEMBERED_TOKENS", 2)
    first, second, third = tokens.token(), tokens.token(), tokens.token()
    for token in (first, second, third, third, second, first):
        verifier.verify(token)
    # The oldest was let go to make room for the third, and checked again.
    assert decodes == [first, second, third, first]
