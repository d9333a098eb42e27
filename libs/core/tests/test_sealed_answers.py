"""Stored Idempotency-Key answers are sealed under a key derived from the server secret."""

from __future__ import annotations

import pytest

from core.sealed_answers import AnswerSealer, StoredAnswerUnreadable
from core.server_keys import ServerKeys

ANSWER = b'{"code": "LIVE-CODE-1234"}'


def test_a_sealed_answer_hides_its_content_and_opens_for_its_row_only() -> None:
    sealer = AnswerSealer(ServerKeys(current=b"one secret"))
    sealed = sealer.seal(ANSWER, caller="u1", key="k")
    assert b"LIVE-CODE" not in sealed
    assert sealer.open(sealed, caller="u1", key="k") == ANSWER
    with pytest.raises(StoredAnswerUnreadable):
        sealer.open(sealed, caller="u2", key="k")  # moved to another caller's row
    with pytest.raises(StoredAnswerUnreadable):
        sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), caller="u1", key="k")


def test_a_rotation_still_opens_what_the_previous_secret_sealed() -> None:
    before = AnswerSealer(ServerKeys(current=b"old secret")).seal(ANSWER, caller="u", key="k")
    rotated = AnswerSealer(ServerKeys(current=b"new secret", previous=b"old secret"))
    assert rotated.open(before, caller="u", key="k") == ANSWER
    after = rotated.seal(ANSWER, caller="u", key="k")
    assert AnswerSealer(ServerKeys(current=b"new secret")).open(after, caller="u", key="k")
    with pytest.raises(StoredAnswerUnreadable):
        AnswerSealer(ServerKeys(current=b"new secret")).open(before, caller="u", key="k")


def test_each_purpose_has_its_own_key() -> None:
    keys = ServerKeys(current=b"secret", previous=b"earlier")
    assert keys.key_for("a") != keys.key_for("b")
    assert keys.keys_for("a") == (keys.key_for("a"), ServerKeys(b"earlier").key_for("a"))
    assert len(keys.key_for("a")) == 32
