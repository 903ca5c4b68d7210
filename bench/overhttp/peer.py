"""The GraphQL Yoga + graphql-shield peer: its data, its process, and the answer check."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bench.overhttp.loadgen import PEERS_DIR
from bench.overhttp.servers import Server, free_port, start
from fieldgate.identity.signing_key import DEVELOPMENT_KEY_NAME

PEER_SERVER = PEERS_DIR / "yoga" / "server.mjs"


def export_orders(answer: Mapping[str, Any], path: Path) -> int:
    """Write the orders of an unmasked big-support answer (disclosure off) for the peer.

    The peer serves the very rows fieldgate read from the database, in the same order.
    """
    orders = [edge["node"] for edge in answer["data"]["orders"]["edges"]]
    path.write_text(json.dumps({"orders": orders}, ensure_ascii=False))
    return len(orders)


def start_peer(data: Path, key_dir: Path, log: Path) -> Server:
    """``node yoga/server.mjs`` on a free loopback port."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        PEER_PORT=str(port),
        PEER_DATA=str(data),
        PEER_SIGNING_KEY=str(key_dir / DEVELOPMENT_KEY_NAME),
        NODE_ENV="production",
    )
    return start("peer", ["node", str(PEER_SERVER)], env, log, port)


def compare_answers(fieldgate: Mapping[str, Any], peer: Mapping[str, Any]) -> dict[str, Any]:
    """How far the peer's answer is from fieldgate's: values that differ, error counts."""
    differing = sorted(
        {
            path
            for path, ours, theirs in _leaves(fieldgate.get("data"), peer.get("data"))
            if ours != theirs
        }
    )
    return {
        "same_data": not differing,
        "differing_fields": differing[:10],
        "fieldgate_errors": len(fieldgate.get("errors") or ()),
        "peer_errors": len(peer.get("errors") or ()),
    }


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
