"""The benchmarks are scripts under bench/, importing each other as top-level modules."""

import sys

from devstack.stack.services import REPO_ROOT

BENCH_DIR = str(REPO_ROOT / "bench")
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)
