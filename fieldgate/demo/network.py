"""Network identifiers of devices: MAC addresses and public IPv4 addresses in China."""

from __future__ import annotations

import ipaddress
import random
import re

# /8 blocks allocated to Chinese networks (China Telecom, China Unicom, China Mobile, CERNET).
CHINA_IPV4_BLOCKS: tuple[int, ...] = (
    36, 39, 42, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118,
    119, 120, 121, 122, 123, 124, 125, 175, 180, 182, 183, 202, 210, 211, 218, 219, 220,
    221, 222, 223,
)  # fmt: skip

_MAC = re.compile(r"[0-9A-F]{2}(:[0-9A-F]{2}){5}")


def make_mac(rng: random.Random) -> str:
    """A randomised, locally administered unicast MAC, as current phones present to Wi-Fi."""
    octets = [rng.randrange(256) for _ in range(6)]
    octets[0] = (octets[0] & 0b1111_1100) | 0b10  # locally administered, unicast
    return ":".join(f"{octet:02X}" for octet in octets)


def is_valid_mac(mac: str) -> bool:
    """True for six upper-case hex octets separated by colons, unicast."""
    return _MAC.fullmatch(mac) is not None and int(mac[:2], 16) & 1 == 0


def make_ipv4(rng: random.Random) -> str:
    """A public IPv4 address in a block allocated to a Chinese network."""
    while True:
        address = ipaddress.IPv4Address(
            (rng.choice(CHINA_IPV4_BLOCKS) << 24) | rng.randrange(1, 1 << 24)
        )
        if address.is_global and address.packed[3] not in (0, 255):
            return str(address)


def is_valid_ipv4(ip: str) -> bool:
    """True for a dotted-quad IPv4 address that is globally routable."""
    try:
        return ipaddress.IPv4Address(ip).is_global
    except ValueError:
        return False
