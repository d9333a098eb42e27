"""What every session of a service's database role is bounded by, whoever opened it.

The client's own timeouts (`command_timeout`) end a wait in the client, not on the server:
a Lambda frozen or killed mid-transaction behind the proxy leaves its session open and its
row locks held. Set on the role (ALTER ROLE ... SET), these hold for every session it
opens: a statement waiting for a lock gives up after `lock_timeout` (55P03, answered 503 by
core.database.errors), and a transaction left idle is ended by the server after
`idle_in_transaction_session_timeout`, its locks with it.

Deployed, the role bootstrap sets them (core.aws_lambda.database_role); locally,
`make run` and `make migrate` set them on DATABASE_URL's role in DATABASE_URL's database
(devstack.stack.bring_up), the role being perhaps a server's superuser that other databases share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SESSION_LIMITS: Mapping[str, str] = {
    # Longer than any wait for a lock the code means to take (a campaign row during a
    # flash sale's commit), far shorter than a request's timeout.
    "lock_timeout": "5s",
    # Longer than any pause our own transactions make between statements.
    "idle_in_transaction_session_timeout": "30s",
}


async def set_session_limits(
    connection: Any,
    quoted_role: str,
    limits: Mapping[str, str] = SESSION_LIMITS,
    *,
    only_in_this_database: bool = False,
) -> None:
    """`ALTER ROLE quoted_role SET` each limit (asyncpg connection); new sessions get them.
    `quoted_role` is an identifier already quoted, or CURRENT_USER. `only_in_this_database`:
    for the sessions the role opens in the connection's database alone (a role shared
    with other databases on the server, as a local one may be)."""
    scope = ""
    if only_in_this_database:
        scope = " IN DATABASE " + await connection.fetchval(
            "SELECT quote_ident(current_database())"
        )
    for name, value in limits.items():
        if not name.replace("_", "").isalpha():
            raise ValueError(f"not a setting's name: {name!r}")
        quoted_value = await connection.fetchval("SELECT quote_literal($1)", value)
        await connection.execute(f"ALTER ROLE {quoted_role}{scope} SET {name} = {quoted_value}")
