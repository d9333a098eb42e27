"""Ownership is compared through `is_same_party`: an unknown id (a client token's user, a
pending gift's recipient) names nobody, so it never matches another unknown id."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

from core.auth import Principal, is_same_party

REPOSITORY = Path(__file__).resolve().parents[3]
# `x == principal.user_id`, `principal.user_id != x`, `principal.user_id in (...)`: each
# lets a client token (user_id None) match any id that is None too.
RAW_COMPARISON = re.compile(
    r"(==|!=)\s*principal\.user_id\b|principal\.user_id\s*(==|!=|in\b|not\s+in\b)"
)


def test_unknown_ids_name_nobody() -> None:
    someone = uuid4()
    assert is_same_party(someone, someone)
    assert not is_same_party(someone, uuid4())
    assert not is_same_party(None, None)
    assert not is_same_party(someone, None)
    assert not is_same_party(None, someone)


def test_a_client_token_is_no_user() -> None:
    client = Principal(subject="partner-1", client_id="partner-1")
    user_id = uuid4()
    user = Principal(subject=str(user_id), client_id="customer-portal")
    assert client.user_id is None
    assert not client.is_user(None)
    assert not client.is_user(user_id, None)
    assert user.is_user(None, user_id)
    assert not user.is_user(None, uuid4())


def test_no_source_compares_the_callers_user_id_by_hand() -> None:
    sources = [
        *REPOSITORY.glob("services/*/src/**/*.py"),
        *REPOSITORY.glob("libs/*/src/**/*.py"),
    ]
    assert sources
    offending = [
        f"{path.relative_to(REPOSITORY)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if RAW_COMPARISON.search(line)
    ]
    assert offending == []
