"""What a run prints: each scenario's table, the bulk codes' line, and the summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hotpaths.harness import Figures, Result
from hotpaths.scenarios.codes import CODES_TARGET, CodesResult


def verdict_text(result: Result) -> str:
    if result.saturated:
        return "NO RATIO (wrk saturated its core)"
    if result.met is None:
        return "-"
    return "PASS" if result.met else "MISS"


def print_result(result: Result) -> None:
    columns = list(result.figures)
    print()
    print(f"{result.number}. {result.title}")
    print(f"  {'':<28}" + "".join(f"{c:>10}" for c in columns))
    rows: list[tuple[str, Callable[[Figures], str]]] = [
        (result.unit, lambda f: f"{f.rate:.0f}"),
        ("p50 latency (ms)", lambda f: f"{f.p50:.1f}"),
        ("p99 latency (ms)", lambda f: f"{f.p99:.1f}"),
        ("server CPU/request (ms)", lambda f: f"{f.server_ms:.3f}"),
        ("wrk CPU/request (ms)", lambda f: f"{f.client_ms:.3f}"),
        ("wrk's share of its core", lambda f: f"{f.client_share:.0%}"),
        ("requests answered", lambda f: f"{f.requests}"),
    ]
    for label, show in rows:
        print(f"  {label:<28}" + "".join(f"{show(result.figures[c]):>10}" for c in columns))
    ratios = ", ".join(f"platform/{key} {ratio:.2f}x" for key, ratio in result.ratios.items())
    print(f"  {ratios}; target {result.target}: {verdict_text(result)}")
    for note in result.notes:
        print(f"    {note}")
    print(f"    other processes on the machine used {result.foreign:.0%} of its CPU while timed")
    if result.breakdown:
        print("  where the CPU per request went (py-spy during the rounds):")
        for line in result.breakdown:
            print(f"    {line}")


def print_codes(number: int, codes: CodesResult, count: int, rounds: int) -> None:
    print()
    print(
        f"{number}. Bulk codes: POST /api/v1/campaigns/{{id}}/codes {{count: {count}}} against "
        f"a raw asyncpg COPY of {count} rows (BEGIN, COPY, COMMIT); median of {rounds} rounds"
    )
    verdict = "PASS" if codes.met else "MISS"
    print(
        f"  platform {codes.platform_ms:.0f} ms, raw COPY {codes.copy_ms:.0f} ms: "
        f"{codes.ratio:.2f}x; target <= {CODES_TARGET:.2f}x: {verdict}"
    )
    for note in codes.notes:
        print(f"    {note}")
    print(
        f"    building the {count} rows in Python before the raw COPY (not timed above): "
        f"{codes.build_ms:.0f} ms"
    )
    print(f"    other processes on the machine used {codes.foreign:.0%} of its CPU while timed")


def print_summary(results: Sequence[Result], codes: CodesResult | None) -> None:
    print()
    print("Summary (median rounds; ratios are platform / baseline)")
    head = (
        f"  {'scenario':<16}{'platform':>9}{'bare':>9}{'minimal':>9}{'vs bare':>9}"
        f"{'vs min':>8}{'p50/p99 ms':>14}{'CPU ms':>8}{'wrk':>6}{'others':>8}  result"
    )
    print(head)
    for r in results:
        p = r.figures["platform"]
        bare = r.figures.get("bare")
        minimal = r.figures.get("minimal")
        name = r.title.split(":", 1)[0].split(" (", 1)[0]
        vs_bare = f"{r.ratios['bare']:.2f}x" if "bare" in r.ratios else "-"
        vs_minimal = f"{r.ratios['minimal']:.2f}x" if "minimal" in r.ratios else "-"
        # The load generator's busiest share of its core, on any server of the scenario.
        client = max(f.client_share for f in r.figures.values())
        print(
            f"  {name:<16}{p.rate:>9.0f}"
            f"{(f'{bare.rate:.0f}' if bare else '-'):>9}"
            f"{(f'{minimal.rate:.0f}' if minimal else '-'):>9}"
            f"{vs_bare:>9}{vs_minimal:>8}"
            f"{f'{p.p50:.1f}/{p.p99:.1f}':>14}{p.server_ms:>8.3f}{client:>6.0%}{r.foreign:>8.0%}"
            f"  {verdict_text(r)}"
        )
    if codes is not None:
        print(
            f"  {'Bulk codes':<16}{codes.platform_ms:>7.0f}ms{'':>9}{'':>9}"
            f"{codes.ratio:>8.2f}x (vs raw COPY {codes.copy_ms:.0f} ms){'':>14}"
            f"  {'PASS' if codes.met else 'MISS'}"
        )
    verdicts = [r.met for r in results if r.met is not None]
    if codes is not None:
        verdicts.append(codes.met)
    print(f"targets met: {sum(verdicts)} of {len(verdicts)}")
