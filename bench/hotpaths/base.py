"""What every part of the hot-path bench shares: where things live, the error that voids
a run, progress lines."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from devstack.stack.services import REPO_ROOT

BENCH_DIR = Path(__file__).resolve().parent.parent  # bench/: the baselines live there
STATE_ROOT = REPO_ROOT / ".local" / "bench-state"
PGDATA_DIR = REPO_ROOT / ".local" / "bench-pgdata"
LOOPBACK = "127.0.0.1"


class BenchError(RuntimeError):
    """An unexpected answer, a wrong count or a failed set-up: the run's figures are void."""


STARTED = time.monotonic()


def progress(message: str) -> None:
    print(f"  {time.monotonic() - STARTED:5.1f}s {message}", file=sys.stderr, flush=True)
