"""Coupon codes: alphabet, length, randomness, normalisation."""

from __future__ import annotations

from collections import Counter

import pytest

from svc_coupons.utils.codes import (
    ALPHABET,
    CODE_LENGTH,
    is_well_formed,
    new_code,
    new_codes,
    normalise_code,
)


def test_alphabet_has_no_lookalikes() -> None:
    assert not set(ALPHABET) & set("0O1IL")
    assert ALPHABET.upper() == ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert CODE_LENGTH >= 10


def test_codes_are_well_formed_and_distinct() -> None:
    codes = new_codes(20_000)
    assert len(codes) == len(set(codes)) == 20_000
    assert all(is_well_formed(code) for code in codes)
    assert is_well_formed(new_code())


def test_every_symbol_is_about_equally_likely() -> None:
    counts = Counter("".join(new_codes(10_000)))
    expected = 10_000 * CODE_LENGTH / len(ALPHABET)
    assert set(counts) == set(ALPHABET)
    assert all(abs(count - expected) < expected * 0.1 for count in counts.values())


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("abcd-efgh-jkmn", "ABCDEFGHJKMN"),
        (" ABCD EFGH JKMN ", "ABCDEFGHJKMN"),
        ("AbCd\tEfGh-jKmN", "ABCDEFGHJKMN"),
    ],
)
def test_normalise(typed: str, normalised: str) -> None:
    assert normalise_code(typed) == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "\u017fSSSFFFF2345",  # LONG S, upper-cased by Unicode: S
        "\ufb00SSSSFF2345",  # LIGATURE FF: FF, one character typed for two
        "SSSSFFFF234\u212a",  # KELVIN SIGN, lower-cased by Unicode: k
        "SSSSFFFF2345\u0307",  # a combining dot
        "\uff33SSSFFFF2345",  # FULLWIDTH S
        "SSSSFFFF2345\u00a0",  # NO-BREAK SPACE
    ],
)
def test_look_alikes_are_not_code_symbols(typed: str) -> None:
    assert not is_well_formed(normalise_code(typed))


@pytest.mark.parametrize(
    "code", ["ABCDEFGHJKM", "ABCDEFGHJKMNP", "ABCDEFGHJKM0", "abcdefghjkmn", ""]
)
def test_malformed(code: str) -> None:
    assert not is_well_formed(code)
