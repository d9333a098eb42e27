"""Choosing a response's media type from the request's Accept header (RFC 9110, 12.5.1).

Each offered type gets the q-value of the most specific range that matches it (`text/csv`
before `text/*` before `*/*`); q=0 means "not this one". The offer with the highest q wins;
a tie goes to the more specific match, then to the server's order of preference. No Accept
header (or one with nothing parseable in it) accepts anything: the first offer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import PlatformError

# qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class NotAcceptable(PlatformError):
    status = 406
    code = "not_acceptable"
    title = "None of the media types this resource offers is acceptable"


@dataclass(frozen=True, slots=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, media_type: str) -> bool:
        type_, _, subtype = media_type.partition("/")
        return self.type in ("*", type_) and self.subtype in ("*", subtype)


def _media_range(part: str) -> MediaRange | None:
    """One element of the header; None when it is not a well-formed media range."""
    media, *parameters = (piece.strip() for piece in part.split(";"))
    type_, slash, subtype = media.lower().partition("/")
    if not slash or not _TOKEN.fullmatch(type_) or not _TOKEN.fullmatch(subtype):
        return None
    if type_ == "*" and subtype != "*":
        return None
    q = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            if not _QVALUE.fullmatch(value):
                return None
            q = float(value)
            break  # what follows q are accept-extensions, not media type parameters
    return MediaRange(type_, subtype, q)


def parse_accept(header: str | None) -> list[MediaRange]:
    if not header:
        return []
    ranges = (_media_range(part) for part in header.split(",") if part.strip())
    return [media_range for media_range in ranges if media_range is not None]


def negotiate(header: str | None, offers: Sequence[str]) -> str | None:
    """The offer (lower-case `type/subtype`, in the server's order of preference) to answer
    with, or None when the header accepts none of them."""
    ranges = parse_accept(header)
    if not ranges:
        return offers[0]
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for preference, offer in enumerate(offers):
        matching = [r for r in ranges if r.matches(offer)]
        if not matching:
            continue
        most_specific = max(matching, key=lambda r: r.specificity)
        if most_specific.q <= 0:
            continue
        rank = (most_specific.q, most_specific.specificity, -preference)
        if best is None or rank > best:
            best, chosen = rank, offer
    return chosen
