"""Database refusals that the caller's data caused, turned into the errors callers see.

A request whose value PostgreSQL cannot take (a NUL character, a number or date out of
range: SQLSTATE class 22) is bad input, not a server fault; one that breaks an integrity
rule (class 23) lost a race or broke a rule the service should have checked first. Either
way the unit of work has rolled everything back, so nothing is half written.
"""

from __future__ import annotations

import logging

import asyncpg
from sqlalchemy.exc import DBAPIError

from core.errors import Conflict, InvalidInput, PlatformError

logger = logging.getLogger(__name__)


# What a refusal arrives as: wrapped by SQLAlchemy, or straight from the driver when a
# repository ran its statement on the driver connection (core.database.driver).
DATABASE_ERRORS = (DBAPIError, asyncpg.PostgresError)


def _sqlstate(exc: BaseException) -> str:
    sources: tuple[object, ...] = (
        (exc.orig, getattr(exc.orig, "__cause__", None)) if isinstance(exc, DBAPIError) else (exc,)
    )
    for source in sources:
        state = getattr(source, "sqlstate", None)
        if isinstance(state, str):
            return state
    return ""


def caller_error(exc: BaseException) -> PlatformError | None:
    if not isinstance(exc, DATABASE_ERRORS):
        return None
    state = _sqlstate(exc)
    if state.startswith("22"):
        return InvalidInput(
            "A value cannot be stored: out of range, or containing a character such as NUL"
        )
    if state.startswith("23"):
        # Worth a look: a rule the service did not check before writing, or a lost race.
        logger.warning("integrity rule refused a write (SQLSTATE %s)", state)
        return Conflict("The change conflicts with the current state; reload and retry")
    return None
