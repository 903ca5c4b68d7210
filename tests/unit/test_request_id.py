"""The request id is a plain token of the caller's, or a new one."""

from __future__ import annotations

import pytest

from fieldgate.observability.request_id import request_id_of


def test_a_plain_token_is_kept() -> None:
    assert request_id_of("abc-123_X.y") == "abc-123_X.y"
    assert request_id_of("a" * 64) == "a" * 64


@pytest.mark.parametrize(
    "bad", [None, "", "a" * 65, "has space", "ünïcode", "a\nb", "abc:123", "a/b", "a;b"]
)
def test_anything_else_gets_a_new_id(bad: str | None) -> None:
    generated = request_id_of(bad)
    assert generated != bad and len(generated) == 32
    assert request_id_of(bad) != generated  # random, not derived from the header
