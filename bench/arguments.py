"""Argument types shared by the benchmarks' command lines."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(minimum: int) -> Callable[[str], int]:
    """An ``argparse`` type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    parse.__name__ = f"at least {minimum}"
    return parse


count = at_least(1)
"""A count of rounds, seconds, connections or workers: at least 1."""
seconds = at_least(0)
"""A number of seconds that may be 0."""
