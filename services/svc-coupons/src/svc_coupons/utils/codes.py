"""Coupon codes: 12 characters from an alphabet nobody misreads, drawn from `secrets`.

31 symbols (no 0/O, 1/I/L) to the power of 12 is about 2^59: unguessable, and with the
unique index a collision is so rare that regenerating on one costs nothing in practice.
"""

from __future__ import annotations

import secrets
import string

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12

# Bytes below 248 (= 8 * 31) map onto the alphabet evenly; the rest are dropped, so every
# symbol is equally likely. bytes.translate does the mapping in C, which matters at 100k.
_USABLE = len(ALPHABET) * (256 // len(ALPHABET))
_TO_SYMBOL = bytes(ord(ALPHABET[b % len(ALPHABET)]) if b < _USABLE else 0 for b in range(256))
_UNUSABLE = bytes(range(_USABLE, 256))
# ASCII letters only, and by table: str.upper() follows Unicode, where look-alikes become
# code symbols (U+017F LONG S is "S", U+FB00 LIGATURE FF is "FF"). Anything else is left as
# typed, outside the alphabet, and so not a code.
_AS_STORED = str.maketrans(string.ascii_lowercase, string.ascii_uppercase, " -\t")


def _symbols(count: int) -> str:
    out = bytearray()
    while len(out) < count:
        # About 3% of bytes are dropped: ask for a little more than needed.
        raw = secrets.token_bytes((count - len(out)) * 17 // 16 + 16)
        out += raw.translate(_TO_SYMBOL, _UNUSABLE)
    return out[:count].decode("ascii")


def new_code() -> str:
    return _symbols(CODE_LENGTH)


def new_codes(count: int) -> list[str]:
    """`count` fresh codes; distinct from each other (a repeat within the batch is redrawn)."""
    symbols = _symbols(count * CODE_LENGTH)
    codes = [symbols[i : i + CODE_LENGTH] for i in range(0, len(symbols), CODE_LENGTH)]
    distinct = set(codes)
    while len(distinct) < count:
        distinct.add(new_code())
    return codes if len(distinct) == len(codes) else list(distinct)


def normalise_code(raw: str) -> str:
    """As customers type codes: either ASCII case, with spaces and dashes."""
    return raw.translate(_AS_STORED)


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(symbol in ALPHABET for symbol in code)
