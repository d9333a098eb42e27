"""infra.connection_budget: the connections a stage may open against what its proxy lends,
and the timeouts a request meets, each inside the next."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aws_cdk import Duration

from core.routing import SERVICES
from infra.config import STAGES, stage_config
from infra.connection_budget import (
    API_GATEWAY_TIMEOUT,
    CONNECTIONS_PER_ENVIRONMENT,
    ConnectionBudget,
    ConnectionBudgetExceeded,
    TimeoutsDoNotNest,
    check_request_timeouts,
    instance_max_connections,
    required_account_concurrency,
    stage_budget,
)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_todays_stages_fit_in_what_their_proxy_lends(name: str) -> None:
    budget = stage_budget(stage_config(name), services=len(SERVICES))
    budget.check()
    assert budget.demand <= budget.ceiling


def test_prod_figures() -> None:
    budget = stage_budget(stage_config("prod"), services=3)
    assert instance_max_connections("m7g.large") == 901
    assert budget.lendable == 810  # 90% of it
    assert budget.ceiling == 648  # less 20% headroom
    assert budget.serving == 60 * 3 * 3
    assert budget.deploying == 3 * (1 + CONNECTIONS_PER_ENVIRONMENT + 1)
    assert budget.demand == 555


def test_the_reservation_prod_had_is_refused() -> None:
    """200 environments x 3 connections x 3 services: 1,800 against 648."""
    over = replace(stage_config("prod"), function_reserved_concurrency=200)
    with pytest.raises(ConnectionBudgetExceeded, match=r"stage prod: 1815 database connections"):
        stage_budget(over, services=3).check()


def test_an_over_budget_stage_is_refused_with_what_to_change() -> None:
    budget = ConnectionBudget(
        stage="small",
        reserved_concurrency_per_function=10,
        connections_per_environment=3,
        services=3,
        migration_connections_per_service=4,
        bootstrap_connections_per_service=1,
        instance_class="t4g.micro",  # 112 max_connections: 100 lent, 80 after headroom
    )
    with pytest.raises(ConnectionBudgetExceeded) as refused:
        budget.check()
    message = str(refused.value)
    for figure in ("105 database connections", "exceed 80", "90%", "112", "Reserve less"):
        assert figure in message, figure


def test_an_unknown_instance_class_is_refused() -> None:
    with pytest.raises(ConnectionBudgetExceeded, match="INSTANCE_CLASS_MEMORY_GIB"):
        instance_max_connections("x9.huge")


def test_timeouts_nest_inside_the_gateways() -> None:
    for stage in STAGES.values():
        check_request_timeouts(stage.function_timeout)
        assert stage.function_timeout.to_seconds() < API_GATEWAY_TIMEOUT.to_seconds()
    with pytest.raises(TimeoutsDoNotNest, match=r"function's timeout \(60 s\)"):
        check_request_timeouts(Duration.seconds(60))
    with pytest.raises(TimeoutsDoNotNest, match="DATABASE_STATEMENT_TIMEOUT_SECONDS"):
        check_request_timeouts(Duration.seconds(15))


def test_the_account_quota_each_stage_needs() -> None:
    """docs/deploying.md states these: Lambda keeps 100 unreserved executions."""
    assert required_account_concurrency(60, services=3) == 3 * (60 + 1) + 100 == 283
    assert required_account_concurrency(5, services=3) == 118
