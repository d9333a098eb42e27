"""make lint-migrations: Squawk over each migration newer than the baseline, as the runner
sends it (devstack.stack.migration_lint)."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from core.routing import SERVICES
from devstack.stack.migration_lint import (
    BASELINE,
    SQUAWK_CONFIG,
    LintError,
    applied_heads,
    main,
    problems,
)
from devstack.stack.services import service_dir
from infra.postgres_version import RDS_POSTGRES_MAJOR_VERSION

SHOP = {"shop": "0001"}


def migration(upgrade: str, *, revision: str = "0002", down: str = "0001", head: str = "") -> str:
    """A migration of the shop service whose upgrade() is `upgrade` (indented lines)."""
    return (
        f'"""A migration of the lint tests."""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n{head}\n\n"
        f"def upgrade() -> None:\n{upgrade}\n"
    )


def rules(found: list[str]) -> set[str]:
    return {match[1] for line in found if (match := re.match(r"\S+\.py: ([a-z-]+): ", line))}


LOCKS_WRITES = {
    "an index built in the open": (
        '    op.create_index("ix_orders_total", "orders", ["total"], schema="shop")',
        "require-concurrent-index-creation",
    ),
    "a check constraint that scans at once": (
        '    op.create_check_constraint("ck_total", "orders", "total >= 0", schema="shop")',
        "constraint-missing-not-valid",
    ),
    "a foreign key that scans at once": (
        '    op.create_foreign_key("fk_c", "orders", "customers", ["customer_id"], ["id"],'
        ' source_schema="shop", referent_schema="shop")',
        "adding-foreign-key-constraint",
    ),
    "NOT VALID and VALIDATE in one transaction": (
        '    op.create_check_constraint("ck_total", "orders", "total >= 0", schema="shop",'
        " postgresql_not_valid=True)\n"
        '    op.execute("ALTER TABLE shop.orders VALIDATE CONSTRAINT ck_total")',
        "constraint-missing-not-valid",
    ),
    "a concurrent build in the migration's transaction": (
        '    op.create_index("ix_orders_total", "orders", ["total"], schema="shop",'
        " postgresql_concurrently=True, if_not_exists=True)",
        "ban-concurrent-index-creation-in-transaction",
    ),
    "DDL committed before the migration is recorded, not safe to run again": (
        '    op.add_column("orders", sa.Column("note", sa.Text()), schema="shop")\n'
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_orders_total", "orders", ["total"], schema="shop",'
        " postgresql_concurrently=True, if_not_exists=True)",
        "prefer-robust-stmts",
    ),
    "a required column on a table with rows": (
        '    op.add_column("orders", sa.Column("note", sa.Text(), nullable=False), schema="shop")',
        "adding-required-field",
    ),
    "NOT NULL that scans under ACCESS EXCLUSIVE": (
        '    op.alter_column("orders", "legacy_code", nullable=False, schema="shop")',
        "adding-not-nullable-field",
    ),
    "a table outside the service's schema": (
        '    op.execute("CREATE TABLE notes (id uuid PRIMARY KEY)")',
        "require-table-schema",
    ),
}


@pytest.mark.parametrize(("upgrade", "rule"), LOCKS_WRITES.values(), ids=LOCKS_WRITES.keys())
def test_a_migration_that_would_stop_traffic_fails(
    shop_service: Any, upgrade: str, rule: str
) -> None:
    service = shop_service(written={"0002_change.py": migration(upgrade)})

    found, checked = problems({"shop": service}, SHOP)

    assert checked == 1
    assert rule in rules(found), found
    assert all(line.startswith(f"{service}/alembic/versions/0002_change.py: ") for line in found)


def test_a_migration_run_without_the_runners_timeouts_fails(shop_service: Any) -> None:
    """The timeouts come from the runner (core.database.migrations), in the SQL itself: an
    env.py that migrates without it gets a finding for every service."""
    service = shop_service(
        written={
            "0002_change.py": migration(
                '    op.add_column("orders", sa.Column("n", sa.Text()), schema="shop")'
            )
        }
    )
    (service / "alembic" / "env.py").write_text(
        "from alembic import context\n\n"
        "context.configure(url='postgresql://', literal_binds=True, version_table_schema='shop',"
        " transaction_per_migration=True)\n"
        "context.run_migrations()\n"
    )

    found, _ = problems({"shop": service}, SHOP)

    assert rules(found) == {"require-lock-timeout", "require-statement-timeout"}


def test_an_expand_contract_change_passes(shop_service: Any) -> None:
    service = shop_service(*shop_service.expand_contract)

    assert problems({"shop": service}, SHOP) == ([], 5)


def test_a_rule_broken_on_purpose_is_acknowledged_in_the_migration(shop_service: Any) -> None:
    drop = '    op.drop_column("orders", "legacy_code", schema="shop")'
    acknowledged = 'squawk_ignore = {"ban-drop-column": "no release since 0001 reads it"}'
    service = shop_service(written={"0002_drop.py": migration(drop, head=acknowledged)})
    assert problems({"shop": service}, SHOP) == ([], 1)

    unneeded = 'squawk_ignore = {"ban-drop-column": "why", "ban-drop-table": "why"}'
    (service / "alembic" / "versions" / "0002_drop.py").write_text(migration(drop, head=unneeded))
    (found,) = problems({"shop": service}, SHOP)[0]
    assert "squawk_ignore names ban-drop-table, which its SQL does not break" in found

    no_reason = 'squawk_ignore = {"ban-drop-column": " "}'
    (service / "alembic" / "versions" / "0002_drop.py").write_text(migration(drop, head=no_reason))
    found_without_reason = problems({"shop": service}, SHOP)[0]
    assert "maps each rule it breaks on purpose to why" in found_without_reason[0]
    assert rules(found_without_reason) == {"ban-drop-column"}


def test_applied_migrations_are_not_checked(shop_service: Any) -> None:
    bad = '    op.create_index("ix_orders_total", "orders", ["total"], schema="shop")'
    service = shop_service(written={"0002_change.py": migration(bad)})

    assert problems({"shop": service}, {"shop": "0002"}) == ([], 0)
    # Without a baseline, a service's whole history is checked: a new service's.
    assert rules(problems({"shop": service}, {})[0]) == {"require-concurrent-index-creation"}
    with pytest.raises(LintError, match="'0007' is not in its history"):
        problems({"shop": service}, {"shop": "0007"})
    with pytest.raises(LintError, match="names no service: ghost"):
        problems({"shop": service}, {"shop": "0002", "ghost": "0001"})


def test_the_services_migrations_after_the_baseline_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main() == 0
    assert "problem(s)" in capsys.readouterr().out
    # Services made later are not in it: their migrations are all checked.
    assert set(applied_heads()) <= {service.name for service in SERVICES}


@pytest.mark.parametrize(
    ("upgrade", "passes"),
    [
        ('    op.create_index("ix_c", "coupons", ["status"], schema="coupons")', False),
        (
            "    with op.get_context().autocommit_block():\n"
            '        op.create_index("ix_c", "coupons", ["status"], schema="coupons",'
            " postgresql_concurrently=True, if_not_exists=True)",
            True,
        ),
    ],
    ids=["index built in the open", "index built concurrently"],
)
def test_a_new_revision_of_a_service_is_checked_through_its_own_env(
    tmp_path: Path, upgrade: str, passes: bool
) -> None:
    coupons = next(service for service in SERVICES if service.name == "coupons")
    copy = tmp_path / "svc-coupons"
    shutil.copytree(
        service_dir(coupons) / "alembic",
        copy / "alembic",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(service_dir(coupons) / "alembic.ini", copy / "alembic.ini")
    # The newest revision today, applied or not: the new one follows it, and only it is new.
    head = ScriptDirectory.from_config(Config(str(copy / "alembic.ini"))).get_current_head()
    assert head is not None
    (copy / "alembic" / "versions" / "9000_next.py").write_text(
        migration(upgrade, revision="9000", down=head)
    )

    found, checked = problems({"coupons": copy}, {"coupons": head})

    assert checked == 1
    assert (found == []) is passes, found


def test_the_rules_read_the_postgresql_version_rds_runs() -> None:
    config = tomllib.loads(SQUAWK_CONFIG.read_text())
    assert int(config["pg_version"].split(".")[0]) == RDS_POSTGRES_MAJOR_VERSION
    assert BASELINE.exists()
