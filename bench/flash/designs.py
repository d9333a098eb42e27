"""Designs of the claim path: what a campaign needs set up, and the per-claim script.

A design is a small object: SQL run once per campaign block (counter shards, a pool of
coupons...) and the pgbench script of one claim, built from statement constants with each
`$n` bound to the claim's values (`claim_values`), a round trip after each statement. Two
are measured side by side:

- `TODAY`: today's statements frozen in `today.py`, the baseline;
- `PLATFORM_NOW`: whatever svc_coupons.repositories holds at run time.

Wiring in a new claim path (the unit taken from counter shards or a pool, the statement its
own transaction with the idempotency record in it) is a new `Design`: its set-up SQL, and a
`claim` that strings the new statements together with `Script`. For a claim statement that
commits by itself, with the unit from a campaign's counter shards (names as that branch
gives them):

    def claim(idempotency: bool) -> Script:
        return claim_script().statement(
            bind(campaign_statements.SELECT_CAMPAIGN, {1: CAMPAIGN})
        ).statement(bind(coupon_statements.CLAIM, issue_values(CLAIM_ARGUMENTS)))

    PLATFORM_NOW = Design(
        "platform now",
        claim,
        sold_out=None,  # answered from what the service knows, no statement
        campaign_setup=lambda first, count: [SHARDS_FOR_BLOCK.format(first, count)],
    )

`issue_values` binds the arguments by name (CLAIM_VALUES) and the event after them; a value
the new statement takes that no claim had yet (a shard number, the idempotency key) goes
into CLAIM_VALUES as an SQL expression over the script's variables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from core.events.outbox import OUTBOX_COLUMNS
from svc_coupons.repositories import campaigns as campaign_statements
from svc_coupons.repositories import coupons as coupon_statements

from . import today
from .idempotency import key_statements
from .pgbench import Script, bind

# pgbench variables every claim script uses: the campaign block (-D first, count) and the
# claim's own random number, from which its customer, coupon id, code and event derive.
CLAIM_NUMBER = "random(1, 9223372036854775806)"
PER_CUSTOMER_LIMIT = 1


def campaign_id(index: int) -> UUID:
    """Campaign number `index`'s id, the same as CAMPAIGN's SQL makes of it."""
    return UUID(hashlib.md5(f"flash-campaign-{index}".encode(), usedforsecurity=False).hexdigest())


MERCHANT_ID = UUID(hashlib.md5(b"flash-merchant", usedforsecurity=False).hexdigest())

# The values of one claim, as SQL over the script's variables (`campaign`, `claim`).
CAMPAIGN = "md5('flash-campaign-' || :campaign)::uuid"
CUSTOMER = "md5('customer-' || :claim)::uuid"
COUPON = "md5('coupon-' || :claim)::uuid"
CLAIM_VALUES: Mapping[str, str] = {
    "campaign": CAMPAIGN,
    "coupon_id": COUPON,
    "owner_user_id": CUSTOMER,
    "code": "upper(substr(md5('code-' || :claim), 1, 16))",
    "limit": str(PER_CUSTOMER_LIMIT),
    "now": "now()",
    "merchant": f"'{MERCHANT_ID}'::uuid",
    "expires_at": "now() + interval '30 days'",
}
# The claim's event, by outbox column (core.events.outbox: the order `announce` binds them).
EVENT_VALUES: Mapping[str, str] = {
    "id": "md5('event-' || :claim)::uuid",
    "type": "'coupon.claimed'",
    "entity_type": "'coupon'",
    "entity_id": f"({COUPON})::text",
    "actor": f"({CUSTOMER})::text",
    "occurred_at": "now()",
    "data": (
        f"jsonb_build_object('campaign_id', ({CAMPAIGN})::text, 'merchant_id', "
        f"'{MERCHANT_ID}', 'owner_user_id', ({CUSTOMER})::text)"
    ),
    "correlation_id": "md5('request-' || :claim)",
    "entity_version": "NULL",
}
# CouponRepository.issue's arguments before the event's, in the order it passes them.
ISSUE_ARGUMENTS = (
    "campaign",
    "coupon_id",
    "owner_user_id",
    "code",
    "limit",
    "now",
    "merchant",
    "expires_at",
)


def outbox_columns() -> list[str]:
    return [name.strip() for name in OUTBOX_COLUMNS.strip("()").split(",")]


def issue_values(arguments: Sequence[str] = ISSUE_ARGUMENTS) -> dict[int, str]:
    """`$n` -> SQL for a statement taking `arguments`, then one event (`announce`)."""
    values = {number: CLAIM_VALUES[name] for number, name in enumerate(arguments, start=1)}
    after = len(arguments)
    for offset, column in enumerate(outbox_columns(), start=1):
        values[after + offset] = EVENT_VALUES[column]
    return values


def key_claim_statements() -> tuple[str, str]:
    """core.idempotency's statements for this claim's key: claiming it, storing the answer."""
    statements = key_statements(
        caller=f"({CUSTOMER})::text",
        key="'flash-' || :claim",
        token="md5('token-' || :claim)::uuid",
    )
    return statements.claim, statements.complete


@dataclass(frozen=True)
class Design:
    """One way of taking a campaign's unit, as the bench runs it."""

    name: str
    # A claim's script; True: the request carries an Idempotency-Key.
    claim: Callable[[bool], Script]
    # The database side of a claim on a sold-out campaign (what the platform's sold-out
    # answer costs the database); None: the design answers it without the database.
    sold_out: Callable[[], Script] | None
    # Statements run once a block of campaigns exists (their ids: campaign_id(first..)).
    campaign_setup: Callable[[int, int], Sequence[str]] = field(default=lambda first, count: ())


def claim_script() -> Script:
    return Script().set("campaign", ":first + random(0, :count - 1)").set("claim", CLAIM_NUMBER)


def transaction_claim(issue: str, select_campaign: str) -> Callable[[bool], Script]:
    """Today's shape: the campaign read on the read pool; BEGIN; the claim statement, which
    locks the campaign row; [the key's answer stored]; COMMIT."""

    def claim(idempotency: bool) -> Script:
        script = claim_script()
        if idempotency:
            key_claim, key_complete = key_claim_statements()
            script.statement("BEGIN").statement(key_claim).statement("COMMIT")
        script.statement(bind(select_campaign, {1: CAMPAIGN}))
        script.statement("BEGIN").statement(bind(issue, issue_values()))
        if idempotency:
            script.statement(key_complete)
        return script.statement("COMMIT")

    return claim


def read_then_refuse(select_campaign: str) -> Callable[[], Script]:
    """Today's sold-out answer: the campaign read, its remaining count 0, a 409 without a
    transaction."""

    def sold_out() -> Script:
        return claim_script().statement(bind(select_campaign, {1: CAMPAIGN}))

    return sold_out


TODAY = Design(
    name="today (frozen)",
    claim=transaction_claim(today.ISSUE, today.SELECT_CAMPAIGN),
    sold_out=read_then_refuse(today.SELECT_CAMPAIGN),
)
PLATFORM_NOW = Design(
    name="platform now",
    claim=transaction_claim(coupon_statements.ISSUE, campaign_statements.SELECT_CAMPAIGN),
    sold_out=read_then_refuse(campaign_statements.SELECT_CAMPAIGN),
)
DESIGNS = {"today": TODAY, "now": PLATFORM_NOW}


def same_statements() -> bool:
    """Whether the platform's claim statements are still today's (then the two designs are
    one: the table says so)."""
    return (
        coupon_statements.ISSUE == today.ISSUE
        and campaign_statements.SELECT_CAMPAIGN == today.SELECT_CAMPAIGN
    )
