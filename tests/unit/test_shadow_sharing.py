"""The shadow candidate as Redis keeps it for every instance: what is written is read back
exactly, every setting is told apart, and anything else is refused."""

from __future__ import annotations

import pytest

from fieldgate.authz.policy_loading import load_policy, policy_from_lines
from fieldgate.authz.purposes import load_purposes
from fieldgate.authz.shadow import SharedCandidate
from fieldgate.settings import PACKAGED_POLICY_DIR


def test_a_shared_candidate_reads_back_to_the_same_policy() -> None:
    packaged = load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))
    candidate = policy_from_lines(
        packaged.model_text,
        [*packaged.rule_lines(), "p, support_agent, Order.buyerPhone, *, masked, *, deny"],
        packaged.vocabulary,
        (PACKAGED_POLICY_DIR / "purposes.toml").read_text(encoding="utf-8"),
    )
    first, second = SharedCandidate.of(candidate), SharedCandidate.of(candidate)
    assert first.encode() != second.encode()  # set twice: every instance restarts its counts
    read = SharedCandidate.decode(first.encode().encode())
    assert read == first
    again = policy_from_lines(
        packaged.model_text,
        read.lines,
        packaged.vocabulary,
        (PACKAGED_POLICY_DIR / "purposes.toml").read_text(encoding="utf-8"),
    )
    # the version the setter checked: a reader may skip the schema check
    assert again.version == read.version == candidate.version != packaged.version


@pytest.mark.parametrize(
    "raw", [b"", b"\xff", b"[]", b'"lines"', b'{"lines": "p, a"}', b'{"lines": [1]}']
)
def test_anything_else_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        SharedCandidate.decode(raw)
