"""Password sign-ins: how many guesses an attacker gets, and why the owner still gets in.

Every attempt is counted as a failure before its password is checked (one atomic increment
per counter), and given back when the password was right: twenty guesses sent at once are
twenty counts, and only those within the ceiling reach the password hash. Three ceilings,
each per window:

- an account from one address (low): an attacker's guesses use up only the attacker's own
  address; the owner, elsewhere, is not locked out;
- an account from all the addresses it has not been signed in from lately (higher): many
  addresses together still get a bounded number of guesses at one account;
- an address across the accounts not signed in from it lately: spraying one password over
  many accounts from one address is bounded too.

An address the account was signed in from (within `familiar` marks' lifetime) meets only
the first ceiling: however many addresses guess at an account, its owner still gets in from
where they usually do. Unknown accounts are counted like known ones, so the answers do not
tell which exist.

When the counters cannot be reached, no password is checked (SignInUnavailable, 503):
a guess that is not counted is a guess without a bound, and an attacker who can slow the
counters' store (or hammer one counter into throttling) must not thereby lift the limit.
Signed-in users keep their sessions through refresh tokens, which need no counter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from svc_auth.services.errors import LoginThrottled, SignInUnavailable
from svc_auth.services.ports import Counter, CountersUnavailable, Marks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInLimits:
    from_one_address: int
    per_account: int
    per_address: int


@dataclass(frozen=True)
class SignInAttempt:
    account: str
    address: str
    familiar: bool

    @property
    def pair(self) -> str:
        return f"pair#{self.account}#{self.address}"

    @property
    def account_key(self) -> str:
        return f"account#{self.account}"

    @property
    def address_key(self) -> str:
        return f"address#{self.address}"


class SignInGuard:
    def __init__(self, *, failures: Counter, familiar: Marks, limits: SignInLimits) -> None:
        self._failures = failures
        self._familiar = familiar
        self._limits = limits

    async def admit(self, *, account: str, address: str) -> SignInAttempt:
        """Count the attempt before its password is checked: LoginThrottled past a ceiling,
        SignInUnavailable when it cannot be counted."""
        attempt = SignInAttempt(account, address, familiar=False)
        try:
            (count, seconds_left), familiar = await asyncio.gather(
                self._failures.add(attempt.pair), self._familiar.has(attempt.pair)
            )
            if count > self._limits.from_one_address:
                raise LoginThrottled(
                    "Too many failed sign-ins for this account from this address; try again later",
                    retry_after=max(seconds_left, 1),
                )
            if familiar:
                return SignInAttempt(account, address, familiar=True)
            # The address first: attempts it is refused do not count against accounts.
            await self._count(
                attempt.address_key,
                self._limits.per_address,
                "Too many failed sign-ins from this address; try again later",
            )
            await self._count(
                attempt.account_key,
                self._limits.per_account,
                "Too many failed sign-ins for this account; try again later",
            )
        except CountersUnavailable as exc:
            logger.warning("sign-in attempts cannot be counted, sign-in refused: %s", exc)
            raise SignInUnavailable("Sign-in is unavailable for a moment; try again") from None
        return attempt

    async def _count(self, key: str, ceiling: int, refusal: str) -> None:
        count, seconds_left = await self._failures.add(key)
        if count > ceiling:
            raise LoginThrottled(refusal, retry_after=max(seconds_left, 1))

    async def succeeded(self, attempt: SignInAttempt) -> None:
        """The password was right: the attempt was no failure, earlier failures from this
        address are forgiven, and the address is now familiar to the account."""
        writes: list[Awaitable[object]] = [
            self._failures.reset(attempt.pair),
            self._familiar.put(attempt.pair),
        ]
        if not attempt.familiar:
            writes += [
                self._failures.add(attempt.address_key, -1),
                self._failures.add(attempt.account_key, -1),
            ]
        for outcome in await asyncio.gather(*writes, return_exceptions=True):
            if isinstance(outcome, CountersUnavailable):
                # The sign-in stands: its password was checked. The attempt stays counted.
                logger.warning("a successful sign-in was not recorded: %s", outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
