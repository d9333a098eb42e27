"""The benchmark scripts import as `make bench` and `make bench-lambda` run them, and the
names other work builds on stay where they are."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("script", ["coupons_bench", "lambda_bench"])
def test_the_bench_scripts_import(script: str) -> None:
    module = importlib.import_module(script)
    assert callable(module.main)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("hotpaths.servers", "start_platform"),
        ("hotpaths.harness", "Bench"),
        ("hotpaths.harness", "result_of"),
        ("hotpaths.scenarios.reads", "scenario_lookup"),
        ("hotpaths.scenarios.writes", "scenario_claim"),
    ],
)
def test_the_hot_path_bench_keeps_its_parts_by_name(module: str, name: str) -> None:
    assert callable(getattr(importlib.import_module(module), name))
