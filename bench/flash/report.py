"""The flash bench's table, in markdown (bench/README.md keeps one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .run import Row

README = Path(__file__).resolve().parents[1] / "README.md"
# The flash section's latest run, between these two lines (--readme rewrites it).
BEGIN, END = (
    "<!-- make bench-flash --readme: from here -->",
    "<!-- make bench-flash --readme: to here -->",
)

HEADER = (
    "| design | clients | RTT ms | hot claims/s | hot p50 / p99 ms | with Idempotency-Key "
    "claims/s | spread over 64 claims/s | hot / spread | sold-out answers/s | sold-out / "
    "claims | bystander p99 ms alone (lookup / claim) | during the sale | during / alone "
    "| beside the same load spread | sale / spread "
    "| issued = claims = rows | claims past lock_timeout |"
)


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def markdown(rows: Sequence[Row]) -> str:
    lines = [HEADER, "|" + " --- |" * HEADER.count(" | ") + " --- |"]
    for row in rows:
        keyed = f"{row.with_key.rate:,.0f}" if row.with_key else "-"
        alone, sale, spread = row.bystanders_alone, row.bystanders_sale, row.bystanders_spread
        sold_out, versus = "no statement", "-"
        if row.sold_out is not None and row.sold_out_vs_hot is not None:
            sold_out, versus = f"{row.sold_out.rate:,.0f}", f"{row.sold_out_vs_hot:.1f}x"
        lines.append(
            f"| {row.design} | {row.clients} | {row.rtt_ms:g} | {row.hot.rate:,.0f} "
            f"| {_ms(row.hot.p50)} / {_ms(row.hot.p99)} | {keyed} | {row.spread.rate:,.0f} "
            f"| {row.hot_vs_spread:.2f}x | {sold_out} | {versus} "
            f"| {_ms(alone['lookup'])} / {_ms(alone['claim'])} "
            f"| {_ms(sale['lookup'])} / {_ms(sale['claim'])} | {row.bystander_slowdown:.1f}x "
            f"| {_ms(spread['lookup'])} / {_ms(spread['claim'])} "
            f"| {row.hot_campaign_slowdown:.1f}x "
            f"| {row.hot_issued:,} | {row.lock_timeouts} |"
        )
    return "\n".join(lines)


def client_note(rows: Sequence[Row]) -> str:
    busiest = max(row.client_cpu_share for row in rows)
    verdict = "not the bottleneck" if busiest < 0.9 else "SATURATED: the figures are its own"
    return f"pgbench's busiest run used {busiest:.0%} of a core: {verdict}"


def write_into_readme(readme: Path, heading: str, table: str) -> None:
    """Replace what stands between BEGIN and END in `readme` with the run's heading and table."""
    text = readme.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no {BEGIN!r} ... {END!r} section to write into")
    body = f"{BEGIN}\n{heading}\n\n{table}\n{END}"
    readme.write_text(text[:start] + body + text[end + len(END) :])
