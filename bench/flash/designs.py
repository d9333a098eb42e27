"""Designs of the claim path: what a campaign needs set up, the per-claim script, and how
its issued units are counted.

A design is a small object: statements run once per new campaign (its counter shards...),
the pgbench script of one claim, built from statement constants with each `$n` bound to the
claim's values (`claim_values`), a round trip after each statement, and the statement that
counts what a block of campaigns issued. Two are measured side by side:

- `TODAY`: today's statements frozen in `today.py`, the baseline: BEGIN, the claim
  statement (the campaign row locked from here), COMMIT, a round trip under the lock;
- `PLATFORM_NOW`: whatever svc_coupons.repositories holds at run time: the claim statement
  takes a unit from one of the campaign's counter shards and commits by itself (no BEGIN),
  ISSUE_WAITING after it when ISSUE found every shard with stock locked, as
  CouponRepository.issue and the issuing service do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from core.events.outbox import OUTBOX_COLUMNS
from svc_coupons.repositories import campaign_units as unit_statements
from svc_coupons.repositories import campaigns as campaign_statements
from svc_coupons.repositories import coupons as coupon_statements

from . import today
from .idempotency import RESPONSE_BYTES, key_statements
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
# A claim's Idempotency-Key: the caller, the key and the claim token core.idempotency draws.
KEY_CALLER = f"({CUSTOMER})::text"
KEY = "'flash-' || :claim"
KEY_TOKEN = "md5('token-' || :claim)::uuid"
# What the claim statement stores for the key (CouponRepository.issue's $9-$14, from
# core.idempotency's StatementAnswer.parameters): caller, key, token, the answer's status,
# its sealed body (about a claim answer's size) and media type; NULL each without a key.
KEY_ANSWER_VALUES = (
    KEY_CALLER,
    KEY,
    KEY_TOKEN,
    "201",
    f"decode(repeat('00', {RESPONSE_BYTES}), 'hex')",
    "'application/json'",
)
NO_KEY_VALUES = ("NULL",) * len(KEY_ANSWER_VALUES)
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


def issue_values(
    arguments: Sequence[str] = ISSUE_ARGUMENTS, then: Sequence[str] = ()
) -> dict[int, str]:
    """`$n` -> SQL for a statement taking `arguments`, then the SQL values `then`, then one
    event (`announce`)."""
    values = {number: CLAIM_VALUES[name] for number, name in enumerate(arguments, start=1)}
    for number, value in enumerate(then, start=len(values) + 1):
        values[number] = value
    after = len(values)
    for offset, column in enumerate(outbox_columns(), start=1):
        values[after + offset] = EVENT_VALUES[column]
    return values


def key_claim_statements() -> tuple[str, str]:
    """core.idempotency's statements for this claim's key: claiming it, storing the answer."""
    statements = key_statements(caller=KEY_CALLER, key=KEY, token=KEY_TOKEN)
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
    # What counts the units issued by the campaigns `$1::uuid[]`, summed.
    count_issued: str
    # Statements (and their arguments) that finish a new active campaign of `total` units
    # (None: unlimited), `issued` of them already taken: (campaign id, total, issued).
    campaign_setup: Callable[[UUID, int | None, int], Sequence[tuple[str, tuple[object, ...]]]]


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


def issued_count_setup(
    campaign: UUID, total: int | None, issued: int
) -> list[tuple[str, tuple[object, ...]]]:
    """Today's campaign: its units issued are its row's issued_count."""
    if not issued:
        return []
    return [("UPDATE coupons.campaigns SET issued_count = $2 WHERE id = $1", (campaign, issued))]


TODAY = Design(
    name="today (frozen)",
    claim=transaction_claim(today.ISSUE, today.SELECT_CAMPAIGN),
    sold_out=read_then_refuse(today.SELECT_CAMPAIGN),
    count_issued=(
        "SELECT coalesce(sum(issued_count), 0) FROM coupons.campaigns WHERE id = ANY($1::uuid[])"
    ),
    campaign_setup=issued_count_setup,
)


# The claim statement's outcome, read into pgbench variables with this prefix (`\aset`).
OUTCOME = "claimed_"


def statement_claim(
    issue: str, issue_waiting: str, issue_waiting_in_order: str, select_campaign: str
) -> Callable[[bool], Script]:
    """The platform's claim (issuing service `_issue`, CouponRepository.issue): the campaign
    read without a transaction; the claim statement, committed by itself; ISSUE_WAITING when
    it took no unit while units were left (every shard with stock locked that instant), and
    ISSUE_WAITING_IN_ORDER when that one came back without a unit; the campaign read
    again when the claim was refused for stock (`_why_not_taken`). With an
    Idempotency-Key, the key is claimed first as core.idempotency claims it (a transaction of
    its own) and its answer rides in the claim statement."""

    def claim(idempotency: bool) -> Script:
        script = claim_script()
        if idempotency:
            key_claim, _ = key_claim_statements()
            script.statement("BEGIN").statement(key_claim).statement("COMMIT")
        key_values = KEY_ANSWER_VALUES if idempotency else NO_KEY_VALUES
        values = issue_values(ISSUE_ARGUMENTS, key_values)
        read_campaign = bind(select_campaign, {1: CAMPAIGN})
        issued = f"SELECT EXISTS (SELECT FROM coupons.coupons WHERE id = {COUPON}) AS issued"  # noqa: S608 (our own expression)
        script.statement(read_campaign)
        script.self_committing(bind(issue, values), issued, OUTCOME)
        # Lazily evaluated, left to right: stock_left is NULL (an empty variable, which
        # pgbench cannot evaluate) exactly when a coupon was issued.
        refused = f"not :{OUTCOME}issued and :{OUTCOME}key_held and :{OUTCOME}slot_free"
        for waiting in (issue_waiting, issue_waiting_in_order):
            script.meta(f"\\if {refused} and :{OUTCOME}stock_left")
            script.self_committing(bind(waiting, values), issued, OUTCOME)
            script.meta("\\endif")
        script.meta(f"\\if {refused}")
        script.statement(read_campaign)
        return script.meta("\\endif")

    return claim


def shards_setup(
    campaign: UUID, total: int | None, issued: int
) -> list[tuple[str, tuple[object, ...]]]:
    """The platform's campaign: its counter shards made (closed), opened as its activation
    opens them, and `issued` units taken as codes take them."""
    statements: list[tuple[str, tuple[object, ...]]] = [
        (unit_statements.ADD_UNITS, (campaign, total)),
        (unit_statements.OPEN_UNITS, (campaign, True)),
    ]
    if issued:
        statements.append((campaign_statements.TAKE_UNITS, (campaign, issued, ["active"])))
    return statements


PLATFORM_NOW = Design(
    name="platform now",
    claim=statement_claim(
        coupon_statements.ISSUE,
        coupon_statements.ISSUE_WAITING,
        coupon_statements.ISSUE_WAITING_IN_ORDER,
        campaign_statements.SELECT_CAMPAIGN,
    ),
    # On a sold-out campaign the service answers from the campaign's read (its shards
    # summed), before any claim statement.
    sold_out=read_then_refuse(campaign_statements.SELECT_CAMPAIGN),
    count_issued=(
        "SELECT coalesce(sum(taken), 0) FROM coupons.campaign_units"
        " WHERE campaign_id = ANY($1::uuid[])"
    ),
    campaign_setup=shards_setup,
)
DESIGNS = {"today": TODAY, "now": PLATFORM_NOW}


def same_statements() -> bool:
    """Whether the platform's claim statements are still today's (then the two designs are
    one: the table says so)."""
    return (
        coupon_statements.ISSUE == today.ISSUE
        and campaign_statements.SELECT_CAMPAIGN == today.SELECT_CAMPAIGN
    )
