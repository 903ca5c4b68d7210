"""The two peers: how each starts, what data it serves, and how its answers are compared.

- ``yoga+shield`` (``bench/peers/yoga``): GraphQL Yoga + graphql-shield as its guide
  shows it, one process, serving the support query's orders from memory (exported from
  fieldgate's unmasked answer); one error per denied value.
- ``yoga+shield+jit`` (``bench/peers/yoga-jit``): the same with graphql-jit, two
  node:cluster processes, reading fieldgate's SQLite file per request and checking the
  token's ``issued_tokens`` row; one error per denied field, as fieldgate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.overhttp.loadgen import PEERS_DIR
from bench.overhttp.servers import Server, free_port, start
from bench.overhttp.workloads import JIT_PEER, SHIELD_PEER
from fieldgate.identity.signing_key import DEVELOPMENT_KEY_NAME

PEER_SERVER = PEERS_DIR / "yoga" / "server.mjs"
JIT_PEER_SERVER = PEERS_DIR / "yoga-jit" / "server.mjs"
JIT_PEER_WORKERS = 2
SAME_ERRORS = {JIT_PEER: True, SHIELD_PEER: False}
"""Whether the peer answers fieldgate's errors (one per denied field) or its own."""


def export_orders(answer: Mapping[str, Any], path: Path) -> int:
    """Write the orders of an unmasked big-support answer (disclosure off) for the peer.

    The peer serves the very rows fieldgate read from the database, in the same order.
    """
    orders = [edge["node"] for edge in answer["data"]["orders"]["edges"]]
    path.write_text(json.dumps({"orders": orders}, ensure_ascii=False))
    return len(orders)


def _environment(key_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PEER_PORT=str(port),
        PEER_SIGNING_KEY=str(key_dir / DEVELOPMENT_KEY_NAME),
        NODE_ENV="production",
        **extra,
    )
    return env


def start_peer(data: Path, key_dir: Path, log: Path) -> Server:
    """``node yoga/server.mjs`` on a free loopback port."""
    port = free_port()
    env = _environment(key_dir, port, PEER_DATA=str(data))
    return start(SHIELD_PEER, ["node", str(PEER_SERVER)], env, log, port)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def start_jit_peer(database: Path, key_dir: Path, log: Path) -> Server:
    """``node yoga-jit/server.mjs``: its workers on one free loopback port."""
    port = free_port()
    env = _environment(
        key_dir, port, PEER_DATABASE=str(database), PEER_WORKERS=str(JIT_PEER_WORKERS)
    )
    return start(JIT_PEER, ["node", str(JIT_PEER_SERVER)], env, log, port)


def compare_answers(
    fieldgate: Mapping[str, Any],
    peer: Mapping[str, Any],
    unstable: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """How far the peer's answer is from fieldgate's: values that differ (but the
    ``unstable`` field paths), error counts, and whether the error entries are equal."""
    differing = sorted(
        {
            path
            for path, ours, theirs in _leaves(fieldgate.get("data"), peer.get("data"))
            if ours != theirs and path not in unstable
        }
    )
    return {
        "same_data": not differing,
        "differing_fields": differing[:10],
        "fieldgate_errors": len(fieldgate.get("errors") or ()),
        "peer_errors": len(peer.get("errors") or ()),
        "same_errors": (fieldgate.get("errors") or []) == (peer.get("errors") or []),
    }


def answers_match(peer: str, check: Mapping[str, Any]) -> bool:
    """Whether ``peer`` answered what fieldgate did: the same data, and the same errors
    when it makes fieldgate's (one per denied field)."""
    return bool(check["same_data"]) and (not SAME_ERRORS[peer] or bool(check["same_errors"]))


def _leaves(ours: Any, theirs: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """``(field path without list indexes, ours, theirs)`` for every scalar position."""
    if isinstance(ours, Mapping):
        other = theirs if isinstance(theirs, Mapping) else {}
        for key in ours.keys() | other.keys():
            yield from _leaves(ours.get(key), other.get(key), f"{path}.{key}" if path else key)
    elif isinstance(ours, list):
        other_list = theirs if isinstance(theirs, list) else []
        if len(ours) != len(other_list):
            yield path, len(ours), len(other_list)
        for mine, yours in zip(ours, other_list, strict=False):
            yield from _leaves(mine, yours, path)
    else:
        yield path, ours, theirs
