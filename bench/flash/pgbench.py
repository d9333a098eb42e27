"""pgbench as the load generator: scripts made of the platform's own statements, run and read.

A platform statement has `$n` parameters; a pgbench script has `:variables` and SQL. `bind`
puts an SQL expression in the place of each parameter (every one of them, or it refuses), so
the statement's text is the repository's, whatever it becomes. `Script` strings statements
together, each followed by `\\sleep :rtt us`: the client's round trip before its next
statement reaches the server (the load's `rtt` variable, in microseconds).

`run_pgbench` runs one pgbench (C, its own threads: the load generator is not the bottleneck,
and its CPU per transaction is measured and shown) and reads its per-transaction log for
the latencies (pgbench prints no percentiles).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PARAMETER = re.compile(r"\$(\d+)(?!\d)")
RTT_VARIABLE = "rtt"
THREADS = 2  # pgbench's own threads (-j): one per core of the machine this is tuned for
ABORTED = re.compile(r"client \d+ script \d+ aborted in command \d+ query \d+: (.*)")
LOCK_TIMEOUT = "canceling statement due to lock timeout"
# The COMMIT that ends a message's implicit transaction (Script.self_committing) warns
# "there is no transaction in progress", once per claim: pgbench's sessions hear errors only.
QUIET_SESSIONS = "-c client_min_messages=error"


class PgbenchError(RuntimeError):
    """pgbench failed, or a script could not be made: the run's figures are void."""


def pgbench_binary() -> str:
    """The pgbench the embedded PostgreSQL ships (pgserver's pginstall/bin), else PATH's."""
    import pgserver  # a dependency of the workspace: its PostgreSQL binaries, pgbench among them

    shipped = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    if shipped.exists():
        return str(shipped)
    found = shutil.which("pgbench")
    if found is None:
        raise PgbenchError("no pgbench: neither pgserver's pginstall/bin nor PATH has one")
    return found


def parameters(statement: str) -> set[int]:
    return {int(number) for number in PARAMETER.findall(statement)}


def bind(statement: str, values: Mapping[int, str]) -> str:
    """The statement with `$n` replaced by the SQL expression `values[n]`, parenthesised.
    Every parameter must have a value and every value a parameter: a statement that gained
    or lost one fails here, not silently in the figures."""
    used = parameters(statement)
    missing, unused = sorted(used - values.keys()), sorted(values.keys() - used)
    if missing or unused:
        raise PgbenchError(f"parameters without a value {missing}, values without one {unused}")
    return PARAMETER.sub(lambda match: f"({values[int(match.group(1))]})", statement)


@dataclass
class Script:
    """A pgbench script: `\\set` lines, then statements each followed by a round trip."""

    lines: list[str] = field(default_factory=list)

    def set(self, variable: str, expression: str) -> Script:
        self.lines.append(f"\\set {variable} {expression}")
        return self

    def statement(self, sql: str) -> Script:
        """One statement, then the client's round trip before its next one."""
        self.lines.append(f"{self._one(sql)};")
        self.lines.append(f"\\sleep :{RTT_VARIABLE} us")
        return self

    def self_committing(self, sql: str, then: str, into: str) -> Script:
        """A statement that commits by itself, then the client's round trip. pgbench can
        only send statements, so the statement, a COMMIT and `then` (a SELECT, one row) go
        in one message: the COMMIT ends the message's implicit transaction right after the
        statement, as the statement's own commit does (no round trip, no other statement
        under its locks), and `then` runs after it. Every column of the statement's outcome
        row and of `then` is read into the variable `into` + its name (`\\aset`):
        `then` is there to say what the outcome cannot to pgbench, whose expressions cannot
        read an outcome column that was NULL."""
        statement, after = (self._one(text) for text in (sql, then))
        self.lines.append(f"{statement} \\;")
        self.lines.append("COMMIT \\;")
        self.lines.append(f"{after} \\aset {into}")
        self.lines.append(f"\\sleep :{RTT_VARIABLE} us")
        return self

    def meta(self, command: str) -> Script:
        """A pgbench meta-command (`\\if ...`, `\\endif`): no round trip."""
        if not command.startswith("\\"):
            raise PgbenchError(f"not a meta-command: {command}")
        self.lines.append(command)
        return self

    @staticmethod
    def _one(sql: str) -> str:
        text = sql.strip().rstrip(";").strip()
        if ";" in text:
            raise PgbenchError(f"one statement at a time: {text[:80]}...")
        return text

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class Load:
    """One pgbench process: its scripts (by name) and how hard it pushes."""

    scripts: Mapping[str, Script]
    clients: int
    seconds: float
    variables: Mapping[str, int | str]
    rate: float | None = None  # transactions/s over all clients (-R); None: as fast as it can


@dataclass
class PgbenchRun:
    processed: int  # transactions completed, every script
    per_script: dict[str, list[float]]  # latencies in ms, by script name
    seconds: float  # the run's measured time (pgbench's own: after connecting)
    cpu_seconds: float  # pgbench's own CPU (user + system)
    output: str
    lock_timeouts: int = 0  # clients ended by a statement that waited past lock_timeout

    def count(self, script: str) -> int:
        return len(self.per_script[script])

    def rate(self, script: str) -> float:
        return self.count(script) / self.seconds

    def percentile(self, script: str, share: float) -> float:
        return percentile(self.per_script[script], share)

    @property
    def cpu_ms_per_transaction(self) -> float:
        return 1000 * self.cpu_seconds / max(self.processed, 1)

    @property
    def cpu_share(self) -> float:
        """pgbench's CPU as a share of one core over the run."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


class Pgbench:
    """Runs loads against one database (a libpq connection string)."""

    def __init__(self, conninfo: str, workdir: Path) -> None:
        self.binary = pgbench_binary()
        self.conninfo = conninfo
        self.workdir = workdir

    def start(self, load: Load) -> Started:
        run_dir = Path(tempfile.mkdtemp(prefix="pgbench-", dir=self.workdir))
        names = list(load.scripts)
        args = [self.binary, "--no-vacuum", "-c", str(load.clients)]
        args += ["-j", str(min(THREADS, load.clients)), "-T", str(max(1, round(load.seconds)))]
        for name in names:
            path = run_dir / f"{name}.sql"
            path.write_text(load.scripts[name].text())
            args += ["-f", str(path)]
        for variable, value in load.variables.items():
            args += ["-D", f"{variable}={value}"]
        if load.rate is not None:
            args += ["-R", f"{load.rate:g}"]
        args += ["-l", f"--log-prefix={run_dir / 'log'}", self.conninfo]
        return Started(args, run_dir, names)


class Started:
    """A pgbench process under way; `finish` waits for it and reads what it wrote."""

    def __init__(self, args: list[str], run_dir: Path, names: list[str]) -> None:
        self.run_dir = run_dir
        self.names = names
        self.output_path = run_dir / "output.txt"
        options = " ".join(filter(None, (os.environ.get("PGOPTIONS"), QUIET_SESSIONS)))
        with self.output_path.open("wb") as output:
            # Only our own arguments: the binary, files we wrote, numbers and the conninfo.
            self.process = subprocess.Popen(  # noqa: S603
                args,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=run_dir,
                env={**os.environ, "PGOPTIONS": options},
            )
        self.began = time.monotonic()

    def finish(self) -> PgbenchRun:
        status, usage = _wait(self.process)
        output = self.output_path.read_text(errors="replace")
        lock_timeouts = lock_timeouts_of(status, output)
        processed = _number(output, r"number of transactions actually processed: (\d+)")
        failed = _number(output, r"number of failed transactions: (\d+)", default=0)
        if failed:
            raise PgbenchError(f"pgbench: {failed} failed transactions:\n{output[-3000:]}")
        seconds = _seconds(output) or (time.monotonic() - self.began)
        per_script = _latencies(self.run_dir, self.names)
        logged = sum(len(v) for v in per_script.values())
        if logged != processed:
            raise PgbenchError(f"pgbench logged {logged} transactions and reported {processed}")
        shutil.rmtree(self.run_dir, ignore_errors=True)
        return PgbenchRun(processed, per_script, seconds, usage, output, lock_timeouts)

    def stop(self) -> None:
        """Only this pgbench, by its own handle (a run interrupted half-way)."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def lock_timeouts_of(status: int, output: str) -> int:
    """How many clients a lock timeout ended. A claim that waited longer than the role's
    lock_timeout is one the platform answers 503: counted, and its client stops (pgbench
    ends a client at its first error). Any other error fails the run."""
    aborted = ABORTED.findall(output)
    lock_timeouts = sum(1 for reason in aborted if LOCK_TIMEOUT in reason)
    if status != 0 and (lock_timeouts == 0 or lock_timeouts < len(aborted)):
        raise PgbenchError(f"pgbench exited with {status}:\n{output[-3000:]}")
    return lock_timeouts


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Wait for this child alone, with its own resource usage (wait4: not the sum of every
    child's, which RUSAGE_CHILDREN would give while two pgbench run at once)."""
    _, raw, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(raw)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _number(output: str, pattern: str, default: int | None = None) -> int:
    match = re.search(pattern, output)
    if match is None:
        if default is not None:
            return default
        raise PgbenchError(f"pgbench's output has no {pattern!r}:\n{output[-3000:]}")
    return int(match.group(1))


def _seconds(output: str) -> float | None:
    """The run's time as pgbench measured it: transactions / tps (initial connections out)."""
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if processed is None or tps is None or float(tps.group(1)) == 0:
        return None
    return int(processed.group(1)) / float(tps.group(1))


def _latencies(run_dir: Path, names: Sequence[str]) -> dict[str, list[float]]:
    """Per-transaction log lines: client, transaction, latency (us), script number, ..."""
    found: dict[str, list[float]] = {name: [] for name in names}
    for path in run_dir.glob("log.*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            found[names[int(fields[3])]].append(int(fields[2]) / 1000)
    return found
