"""Database failures turned into the errors callers see.

A request whose value PostgreSQL cannot take (a NUL character, a number or date out of
range: SQLSTATE class 22) is bad input, not a server fault; one that breaks an integrity
rule (class 23) lost a race or broke a rule the service should have checked first. A
database that cannot be reached, went away mid-request, or did not answer in time is a
503 `database_unavailable` with Retry-After: the caller may simply try again; so is a
transaction the server ended to settle a deadlock or a serialization conflict. Either way
the unit of work has rolled everything back, so nothing is half written.
"""

from __future__ import annotations

import logging

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import Conflict, InvalidInput, PlatformError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2


class DatabaseUnavailable(PlatformError):
    status = 503
    code = "database_unavailable"
    title = "The database cannot be reached right now; try again shortly"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


# What a database failure arrives as: wrapped by SQLAlchemy, straight from the driver when a
# repository ran its statement on the driver connection (core.database.driver), a pool
# that had no connection to give in time, or the socket's own error when the server could
# not be reached at all (refused, gone, timed out: asyncpg raises those as they are).
DATABASE_ERRORS = (
    DBAPIError,
    AsyncAdapt_asyncpg_dbapi.Error,  # a pool's raw connect, as the adapter raises it
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    PoolTimeout,
    OSError,
)
# SQLSTATE classes of a server that is going away or not there yet: 08 connection
# exceptions, 57P admin or crash shutdown and "cannot connect now" (starting up); and a
# row held longer than the role's lock_timeout (55P03, core.database.session_limits): its
# holder may be a session that froze, which the server ends soon.
_UNAVAILABLE_STATES = ("08", "57P", "55P03")
# SQLSTATEs of a transaction the server ended because it lost a race with another one: a
# deadlock (40P01, the server picks one to end) or a serialization failure (40001). The
# database is up and the request was fine: tried again it may well pass, so the caller
# hears the same retryable 503 as for a row held too long.
_LOST_RACE_STATES = ("40P01", "40001")


def _sqlstate(exc: BaseException) -> str:
    """The first SQLSTATE along the error's chain (`_chain`)."""
    for link in _chain(exc):
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str):
            return state
    return ""


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (`orig`), and their causes: a driver's error reaches us
    raw, wrapped once by the asyncpg adapter, or twice by SQLAlchemy."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(found) < 8:
        current = pending.pop(0)
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        pending += [getattr(current, "orig", None), current.__cause__]
    return found


def is_unavailable(exc: BaseException) -> bool:
    """Whether the database could not be reached, went away, or did not answer in time
    (rather than refusing what was asked of it)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for link in _chain(exc):
        if isinstance(link, PoolTimeout | OSError | asyncpg.InterfaceError):
            return True  # OSError includes asyncio's TimeoutError: no answer within the bound
        if isinstance(link, asyncpg.InternalClientError):
            # The driver's protocol state broke: a connection the server ended at the very
            # moment it was handed out. The pool discards it; the caller may retry.
            return True
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        # The asyncpg adapter's own InterfaceError ("connection is closed").
        if type(link).__name__ == "InterfaceError":
            return True
    return False


def caller_error(exc: BaseException) -> PlatformError | None:
    """The error a caller sees for a database failure; None when it is none of those
    (a bug, to be answered 500 and logged)."""
    if not isinstance(exc, DATABASE_ERRORS):
        return None
    if is_unavailable(exc):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return DatabaseUnavailable()
    state = _sqlstate(exc)
    if state in _LOST_RACE_STATES:
        # Worth a look when frequent: statements taking the same rows in different orders.
        logger.warning("transaction ended by a concurrent one (SQLSTATE %s)", state)
        return DatabaseUnavailable()
    if state.startswith("22"):
        return InvalidInput(
            "A value cannot be stored: out of range, or containing a character such as NUL"
        )
    if state.startswith("23"):
        # Worth a look: a rule the service did not check before writing, or a lost race.
        logger.warning("integrity rule refused a write (SQLSTATE %s)", state)
        return Conflict("The change conflicts with the current state; reload and retry")
    return None
