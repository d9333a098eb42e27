"""Exact counts: every successful claim is one unit issued, one coupon row, one event."""

from __future__ import annotations

from .world import Counts


class NotExact(RuntimeError):
    """The counts disagree: a claim path that loses or invents coupons; the run is void."""


def check_exact(label: str, successes: int, counts: Counts) -> str:
    """The line that says the counts agree, or NotExact saying how they do not."""
    if successes == counts.issued == counts.rows == counts.events:
        return f"{label}: issued {counts.issued} = successful claims = coupon rows = events"
    raise NotExact(
        f"{label}: {successes} successful claims, {counts.issued} units issued, "
        f"{counts.rows} coupon rows, {counts.events} coupon.claimed events"
    )
