"""make bench-flash in a tiny mode: the platform's claim under pgbench, counted exactly."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from flash.designs import (
    CAMPAIGN,
    ISSUE_ARGUMENTS,
    KEY_ANSWER_VALUES,
    MERCHANT_ID,
    NO_KEY_VALUES,
    PLATFORM_NOW,
    TODAY,
    issue_values,
)
from flash.exactness import NotExact, check_exact
from flash.pgbench import Load, Pgbench, PgbenchError, bind, lock_timeouts_of
from flash.report import BEGIN, END, markdown, write_into_readme
from flash.run import Latency, Row, Runner, Settings, measure
from flash.server import Database, create_database, drop_database
from flash.today import ISSUE as FROZEN_ISSUE
from flash.world import Counts

from svc_coupons.repositories.campaigns import SELECT_CAMPAIGN
from svc_coupons.repositories.coupons import ISSUE, ISSUE_WAITING

HELD_SECONDS = 0.5  # every shard locked by another transaction, well under lock_timeout
TINY = Settings(clients=(4,), rtts_ms=(0.0,), seconds=1, bystander_clients=2, bystander_rate=50)


@pytest.fixture
async def flash_database(database_url: str) -> AsyncIterator[Database]:
    database = await create_database(database_url)
    yield database
    await drop_database(database)


def test_a_statement_is_bound_whole_or_not_at_all() -> None:
    assert bind("SELECT $1, $2, $10", {1: "a", 2: "b", 10: "c"}) == "SELECT (a), (b), (c)"
    with pytest.raises(PgbenchError, match=r"without a value \[2\]"):
        bind("SELECT $1, $2", {1: "a"})
    with pytest.raises(PgbenchError, match=r"without one \[3\]"):
        bind("SELECT $1", {1: "a", 3: "c"})


def test_the_exactness_check_refuses_every_disagreement() -> None:
    assert "issued 5" in check_exact("sale", 5, Counts(issued=5, rows=5, events=5))
    for successes, counts in [
        (6, Counts(5, 5, 5)),
        (5, Counts(6, 5, 5)),
        (5, Counts(5, 4, 5)),
        (5, Counts(5, 5, 6)),
    ]:
        with pytest.raises(NotExact):
            check_exact("sale", successes, counts)


def test_both_designs_run_the_claim_statement_through_pgbench_variables() -> None:
    for design in (TODAY, PLATFORM_NOW):
        for key in (False, True):
            text = design.claim(key).text()
            assert not re.search(r"\$\d", text), "every parameter bound"
            assert "INSERT INTO coupons.customer_claims" in text
            assert ("INSERT INTO coupons.idempotency_keys" in text) is key
    # The baseline is the statement the platform had when it was frozen, bound the same way.
    assert "WITH slot AS (" in FROZEN_ISSUE


def test_the_platform_design_runs_the_repository_statements_each_committing_itself() -> None:
    values = issue_values(ISSUE_ARGUMENTS, NO_KEY_VALUES)
    issue, waiting = bind(ISSUE, values).strip(), bind(ISSUE_WAITING, values).strip()
    plain = PLATFORM_NOW.claim(False).text()
    # No transaction of the bench's own: the statement, its commit, and the check after it
    # in one message; ISSUE_WAITING only under pgbench's \if on ISSUE's outcome.
    assert "BEGIN" not in plain
    assert f"{issue} \\;\nCOMMIT \\;\n" in plain
    assert plain.index(issue) < plain.index("\\if") < plain.index(waiting)
    assert ":claimed_stock_left" in plain.split(waiting)[0].splitlines()[-1]
    assert plain.count(bind(SELECT_CAMPAIGN, {1: CAMPAIGN})) == 2  # before; when refused
    # With a key: the key claimed in its own transaction, its token bound in the claim.
    keyed = PLATFORM_NOW.claim(True).text()
    token = bind(ISSUE, issue_values(ISSUE_ARGUMENTS, KEY_ANSWER_VALUES)).strip()
    assert keyed.index("INSERT INTO coupons.idempotency_keys") < keyed.index(token)
    assert "COMMIT" not in keyed.split("INSERT INTO coupons.idempotency_keys")[0]
    # Its units are counted where the claim takes them.
    assert "coupons.campaign_units" in PLATFORM_NOW.count_issued
    assert "issued_count" in TODAY.count_issued


@pytest.mark.integration
async def test_a_tiny_flash_sale_is_measured_with_exact_counts(flash_database: Database) -> None:
    rows, checks = await measure(flash_database.url, [PLATFORM_NOW], TINY)

    (row,) = rows
    assert row.hot.rate > 0
    assert row.spread.rate > 0
    assert row.sold_out is not None
    assert row.sold_out.rate > 0
    assert row.with_key is not None
    assert row.with_key.rate > 0
    assert row.hot_issued > 0
    assert set(row.bystanders_sale) == set(row.bystanders_spread) == {"lookup", "claim"}
    # bystanders alone, sale and the bystanders beside it, sale with a key, spread and the
    # bystanders beside it
    assert len(checks) == 6
    assert all("= successful claims = coupon rows = events" in line for line in checks)
    assert f"| {row.hot_issued:,} |" in markdown(rows)


@pytest.mark.integration
async def test_a_count_that_disagrees_fails_the_run(
    flash_database: Database, tmp_path: object
) -> None:
    db = await asyncpg.connect(flash_database.url)
    try:
        runner = Runner(db, Pgbench(flash_database.url, tmp_path), TINY)  # type: ignore[arg-type]
        run, block = await runner.claims(PLATFORM_NOW, 2, 0.0, 1)
        successes = run.count("claim")
        assert successes > 0
        await runner.exact("sale", successes, block)

        with pytest.raises(NotExact, match="successful claims"):
            await runner.exact("sale", successes + 1, block)
        # A unit taken from a shard that no coupon came of (a claim path that lost one).
        shard = "UPDATE coupons.campaign_units SET taken = taken + $2 WHERE campaign_id = $1"
        await db.execute(f"{shard} AND shard = 0", block.ids[0], 1)
        with pytest.raises(NotExact, match=f"{successes + 1} units issued"):
            await runner.exact("sale", successes, block)
        await db.execute(f"{shard} AND shard = 0", block.ids[0], -1)
        # A coupon row no claim made (a claim path that inserted twice, say).
        await db.execute(
            "INSERT INTO coupons.coupons (campaign_id, merchant_id, code, status, created_at)"
            " VALUES ($1, $2, $3, 'unassigned', now())",
            block.ids[0],
            MERCHANT_ID,
            uuid.uuid4().hex[:16].upper(),
        )
        with pytest.raises(NotExact, match=f"{successes + 1} coupon rows"):
            await runner.exact("sale", successes, block)
    finally:
        await db.close()


def test_the_table_is_written_between_its_markers_and_nowhere_else(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Bench\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n")
    write_into_readme(readme, "Run of today.", "| a |\n| --- |")
    assert readme.read_text() == (
        f"# Bench\n\nbefore\n{BEGIN}\nRun of today.\n\n| a |\n| --- |\n{END}\nafter\n"
    )
    readme.write_text("# Bench without a flash section\n")
    with pytest.raises(ValueError, match="no"):
        write_into_readme(readme, "Run of today.", "| a |")
    assert readme.read_text() == "# Bench without a flash section\n"


def test_a_design_without_a_sold_out_statement_says_so_in_the_table() -> None:
    latency = Latency(rate=100.0, p50=1.0, p99=2.0)
    row = Row(
        design="answers sold-out from memory",
        clients=64,
        rtt_ms=1.0,
        hot=latency,
        hot_issued=500,
        spread=Latency(rate=200.0, p50=1.0, p99=2.0),
        with_key=None,
        sold_out=None,
        bystanders_alone={"lookup": 1.0, "claim": 2.0},
        bystanders_sale={"lookup": 2.0, "claim": 3.0},
        bystanders_spread={"lookup": 4.0, "claim": 2.0},
        client_cpu_share=0.1,
    )
    line = markdown([row]).splitlines()[-1]
    assert "| 0.50x | no statement | - |" in line
    # During / alone: the worse of lookup (2x) and claim (1.5x); sale / spread: the worse of
    # lookup (0.5x) and claim (1.5x).
    assert "| 2.0x | 4.0 / 2.0 | 1.5x | 500 |" in line


def test_only_lock_timeouts_end_clients_without_failing_the_run() -> None:
    timeout = (
        "pgbench: error: client {n} script 0 aborted in command 6 query 0: ERROR:  "
        "canceling statement due to lock timeout\n"
    )
    other = (
        "pgbench: error: client 9 script 0 aborted in command 6 query 0: ERROR:  "
        'duplicate key value violates unique constraint "coupons_code_key"\n'
    )
    assert lock_timeouts_of(0, "tps = 10\n") == 0
    assert lock_timeouts_of(2, timeout.format(n=1) + timeout.format(n=2)) == 2
    with pytest.raises(PgbenchError, match="exited with 2"):
        lock_timeouts_of(2, timeout.format(n=1) + other)
    with pytest.raises(PgbenchError, match="exited with 1"):
        lock_timeouts_of(1, "pgbench: error: connection to server failed\n")


@pytest.mark.integration
async def test_a_claim_that_finds_every_shard_locked_waits_for_one(
    flash_database: Database, tmp_path: Path
) -> None:
    """ISSUE skips locked shards; the script's \\if sends ISSUE_WAITING when units were left,
    so no claim is refused while a unit remains (each transaction of an unlimited campaign
    is one coupon)."""
    db = await asyncpg.connect(flash_database.url)
    holder = await asyncpg.connect(flash_database.url)
    try:
        runner = Runner(db, Pgbench(flash_database.url, tmp_path), TINY)
        block = await runner.world.campaigns(PLATFORM_NOW, 1)
        held = holder.transaction()
        await held.start()
        await holder.execute(
            "SELECT FROM coupons.campaign_units WHERE campaign_id = $1 FOR UPDATE", block.ids[0]
        )
        load = Load({"claim": PLATFORM_NOW.claim(False)}, 1, 2, runner.variables(0.0, block))
        started = runner.pgbench.start(load)
        await asyncio.sleep(HELD_SECONDS)
        await held.commit()
        run = await asyncio.to_thread(started.finish)
        counts = await runner.world.counts(block)
        assert max(run.per_script["claim"]) >= 0.9 * HELD_SECONDS * 1000  # it waited
        assert run.count("claim") == counts.issued == counts.rows
    finally:
        await holder.close()
        await db.close()
