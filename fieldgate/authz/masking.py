"""Mask strategies: deterministic, total transformations applied to one value at a time.

A plan resolves a field's strategy once with :func:`mask_function`; the function it
returns is then called for every masked value of a response, so each mask is a plain
function over precompiled patterns, with no dispatch on the strategy name per value.

| strategy  | example in                | out                  | when nothing can be kept   |
| --------- | ------------------------- | -------------------- | -------------------------- |
| PHONE     | 13812345678               | 138****5678          | `***` (7 digits or fewer)  |
| ID_NUMBER | 110101199003071234        | 110***********1234   | `***` (not 18 or 15 long)  |
| BANK_CARD | 6222021234567890123       | ************0123     | 16 `*` (not 8-19 digits)   |
| NAME      | 张三丰                    | 张**                 | `*` (one character)        |
| EMAIL     | alice@163.com             | a***@163.com         | `***` (no local@domain)    |
| ADDRESS   | 北京市海淀区中关村大街1号 | 北京市海淀区****     | `****` (no province/city)  |
| IP        | 203.0.113.42              | 203.0.*.*            | `*.*.*.*` (unparseable)    |
| DATE_YEAR | 1990-03-07                | 1990-01-01           | `****-01-01` (malformed)   |
| DATE_MONTH| 2026-03-07T10:20:00       | 2026-03-01T00:00:00  | `****-**-01` (malformed)   |
| REGION_PROVINCE | 广东省深圳市        | 广东省               | `****` (no province)       |
| PSEUDONYM | u_1001                    | p_ + 20 hex digits   | (always a token)           |
| REDACT    | any free text             | ***                  | `***`                      |

What each keeps:
- PHONE: first 3 and last 4 ASCII digits, one `*` per hidden digit; `+86`/`0086`/`86`
  before a mobile number is written `+86 `.
- ID_NUMBER: 18 characters: first 3, 11 `*`, last 4; 15 digits (old format): first 3,
  9 `*`, last 3. The birth date (digits 7-14, or 7-12) is always hidden.
- BANK_CARD: a fixed 12 `*` and the last 4 digits: the card's length is hidden too.
- NAME: the first character, one `*` per remaining character.
- EMAIL: the first character of the local part, always `***`, then `@domain`.
- ADDRESS: province, city and district (administrative suffixes), then `****`.
- IP: IPv4 first two octets; IPv6 first two groups then `:*:*:*:*:*:*`.
- DATE_YEAR: 1 January of the same year; date, datetime or ISO string, as given.
- DATE_MONTH: the first day of the same month, midnight; date, datetime or ISO string.
- REGION_PROVINCE: the province-level division alone, in its official full name (广东 and
  广东省 both give 广东省; 北京 gives 北京市), so that equal provinces compare equal.
- PSEUDONYM: keyed HMAC-SHA256 (80 bits): same key and input, same token; no way back.

Every mask accepts any string (empty, malformed, non-ASCII, very long) and never raises.
Surrounding whitespace is ignored (PSEUDONYM hashes the value exactly as given). Only
the visible parts named above are ever copied from the input: a value too short to hide
anything is masked completely. The functions of :func:`mask_function` pass ``None``
through unchanged.

The strategies stay in one module, over 300 lines, because they are one concept: the
table above is their specification, and each mask is a short function beside the others
(the address patterns are most of the length). The PSEUDONYM token, keyed and with its
own key rules, is :mod:`fieldgate.authz.pseudonyms`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from socket import AF_INET6, inet_pton
from typing import Any, Final

from fieldgate.authz.pseudonyms import make_pseudonymizer
from fieldgate.errors import PolicyError

MaskFunction = Callable[[Any], Any]
"""What a plan stores per masked field: value in, masked value out (``None`` stays ``None``)."""


class MaskStrategy(StrEnum):
    """The named mask strategies of the classification (DESIGN.md "Mask strategies")."""

    PHONE = "PHONE"
    ID_NUMBER = "ID_NUMBER"
    BANK_CARD = "BANK_CARD"
    NAME = "NAME"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    IP = "IP"
    DATE_YEAR = "DATE_YEAR"
    DATE_MONTH = "DATE_MONTH"
    REGION_PROVINCE = "REGION_PROVINCE"
    PSEUDONYM = "PSEUDONYM"
    REDACT = "REDACT"


REDACTED: Final = "***"
DATE_SENTINEL: Final = "****-01-01"
MONTH_SENTINEL: Final = "****-**-01"

# Only ASCII digits count: other digits (fullwidth, Arabic-Indic, ...) are dropped, never shown.
_NON_DIGITS: Final = re.compile(r"[^0-9]+")
_SEPARATORS: Final = re.compile(r"[\s-]+")


def mask_phone(value: str) -> str:
    """Mask a phone number: ``13812345678`` → ``138****5678``.

    Only the ASCII digits are kept, separators dropped. A leading ``+86``, ``0086`` or
    ``86`` before an 11-digit mobile number (``1…``) is written ``+86 `` and the mobile
    number masked; other country codes count as digits of the number. The first 3 and
    last 4 digits stay, each hidden digit becomes one ``*``; with 7 digits or fewer
    nothing can be hidden, so the result is ``***``.
    """
    # Fast path for the stored form: ASCII digits only, nothing to drop.
    digits = value if value.isascii() and value.isdigit() else _NON_DIGITS.sub("", value)
    count = len(digits)
    prefix = ""
    if count == 13 and digits.startswith("861"):
        prefix, digits, count = "+86 ", digits[2:], 11
    elif count == 15 and digits.startswith("00861"):
        prefix, digits, count = "+86 ", digits[4:], 11
    if count <= 7:
        return REDACTED
    return f"{prefix}{digits[:3]}{'*' * (count - 7)}{digits[-4:]}"


_ID_18: Final = re.compile(r"[0-9]{17}[0-9Xx]")
_ID_15: Final = re.compile(r"[0-9]{15}")


def mask_id_number(value: str) -> str:
    """Mask a mainland ID number, always hiding the birth date.

    Whitespace and dashes are dropped first. 18 characters (17 digits and a digit or
    ``X``): first 3, 11 ``*``, last 4 (``110***********1234``), so digits 4–14
    (district and birth date) are hidden; a lowercase ``x`` is shown as ``X``.
    15 digits (the old format, birth date at digits 7–12): first 3, 9 ``*``, last 3.
    Anything else is not an ID number whose parts are known: ``***``.
    """
    compact = value if value.isascii() and value.isalnum() else _SEPARATORS.sub("", value)
    if len(compact) == 18 and _ID_18.fullmatch(compact):
        return f"{compact[:3]}***********{compact[14:].upper()}"
    if len(compact) == 15 and _ID_15.fullmatch(compact):
        return f"{compact[:3]}*********{compact[12:]}"
    return REDACTED


_CARD: Final = re.compile(r"[0-9]{8,19}")
_CARD_HIDDEN: Final = "*" * 12


def mask_bank_card(value: str) -> str:
    """Mask a card number: ``6222021234567890123`` → ``************0123``.

    Whitespace and dashes are dropped first. 8 to 19 digits (ISO/IEC 7812 lengths):
    a fixed 12 ``*`` and the last 4 digits, so the card's length is not revealed
    either. Anything else: 16 ``*``.
    """
    if _CARD.fullmatch(value):
        return _CARD_HIDDEN + value[-4:]
    compact = _SEPARATORS.sub("", value)
    if _CARD.fullmatch(compact):
        return _CARD_HIDDEN + compact[-4:]
    return "*" * 16


def mask_name(value: str) -> str:
    """Mask a personal name: ``张三丰`` → ``张**``, ``Alice Lee`` → ``A********``.

    Surrounding whitespace is dropped; the first character stays and every remaining
    character (spaces included) becomes one ``*``. A name of one character, or none,
    becomes ``*``.
    """
    name = value.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


# The local part runs to the last "@"; the domain has no whitespace and no "@".
_EMAIL: Final = re.compile(r"\s*(\S+)@([^\s@]+)\s*")


def mask_email(value: str) -> str:
    """Mask an e-mail address: ``alice@163.com`` → ``a***@163.com``.

    The first character of the local part, always three ``*`` (hiding the local part's
    length), then ``@`` and the domain. A one-character local part becomes
    ``***@domain``. Without the ``local@domain`` shape: ``***``.
    """
    match = _EMAIL.fullmatch(value)
    if match is None:
        return REDACTED
    local, domain = match.groups()
    if len(local) == 1:
        return f"***@{domain}"
    return f"{local[0]}***@{domain}"


# Province-level divisions, full official names before short forms (alternation order).
_MUNICIPALITIES: Final = ("北京", "上海", "天津", "重庆")
_PROVINCES: Final = (
    "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东",
    "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
    "台湾",
)  # fmt: skip
_AUTONOMOUS_REGIONS: Final = {
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}
_SPECIAL_REGIONS: Final = ("香港", "澳门")


def _alternation(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


_PROVINCE_NAMES: Final = _alternation(
    [f"{p}省" for p in _PROVINCES]
    + list(_PROVINCES)
    + list(_AUTONOMOUS_REGIONS.values())
    + [f"{r}自治区" for r in _AUTONOMOUS_REGIONS]
    + list(_AUTONOMOUS_REGIONS)
    + [f"{s}特别行政区" for s in _SPECIAL_REGIONS]
    + list(_SPECIAL_REGIONS)
)
# A name character: a Han ideograph that is not itself an administrative suffix, so
# that one level never swallows the next. Bounded lengths keep free text from passing
# for a place name.
_ADMINISTRATIVE_SUFFIXES: Final = "省市区县旗盟"


def _han_except(excluded: str) -> str:
    """A character class of Han ideographs (CJK and Extension A) without ``excluded``."""
    ranges: list[str] = []
    for first, last in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF)):
        start = first
        for cut in sorted(ord(c) for c in excluded if first <= ord(c) <= last):
            if start < cut:
                ranges.append(f"{chr(start)}-{chr(cut - 1)}")
            start = cut + 1
        ranges.append(f"{chr(start)}-{chr(last)}")
    return f"[{''.join(ranges)}]"


_NAME_CHAR: Final = _han_except(_ADMINISTRATIVE_SUFFIXES)
_CITY: Final = rf"{_NAME_CHAR}{{1,5}}?(?:市|地区|盟)|{_NAME_CHAR}{{1,10}}?自治州"
# A county-level city has a name of two characters or more (昆山市); single-character
# names exist only for districts and counties (城区, 萧县).
_DISTRICT: Final = (
    rf"{_NAME_CHAR}{{1,6}}?(?:区|县|旗)|{_NAME_CHAR}{{2,6}}?市|{_NAME_CHAR}{{1,12}}?自治[县旗]"
)
# Municipalities have districts directly under them, with no city level. A short
# province name followed by 市 is a city of the same name (吉林市).
_ADDRESS_PREFIX: Final = re.compile(
    rf"\s*(?:(?P<municipality>(?:{_alternation(list(_MUNICIPALITIES))})市?)"
    rf"|(?P<province>{_PROVINCE_NAMES})(?!市))?"
    rf"\s*(?(municipality)|(?P<city>{_CITY})?)"
    rf"\s*(?P<district>{_DISTRICT})?"
)
_ADDRESS_HIDDEN: Final = "****"


def mask_address(value: str) -> str:
    """Mask a postal address: ``北京市海淀区中关村大街1号`` → ``北京市海淀区****``.

    Keeps the administrative prefix and replaces the rest with ``****``: the
    province (a province-level division, with or without its 省 / 自治区 /
    特别行政区 suffix, or a municipality 北京 / 上海 / 天津 / 重庆, with or
    without 市), then the city (a name ending in 市 / 自治州 / 地区 / 盟; none
    under a municipality), then the district (ending in 区 / 县 / 市 / 旗, or
    自治县 / 自治旗), each optional, spaces between them dropped. The address must
    start with a province, municipality or city; otherwise the result is ``****``.
    The part kept is recognised from administrative suffixes, not a gazetteer below
    province level.
    """
    match = _ADDRESS_PREFIX.match(value)
    if match is None:
        return _ADDRESS_HIDDEN
    municipality, province, city, district = match.group(
        "municipality", "province", "city", "district"
    )
    if not (municipality or province or city):
        return _ADDRESS_HIDDEN
    return f"{municipality or province or ''}{city or ''}{district or ''}{_ADDRESS_HIDDEN}"


def _official_names() -> dict[str, str]:
    names = {f"{m}{suffix}": f"{m}市" for m in _MUNICIPALITIES for suffix in ("", "市")}
    names |= {f"{p}{suffix}": f"{p}省" for p in _PROVINCES for suffix in ("", "省")}
    for short, full in _AUTONOMOUS_REGIONS.items():
        names |= {short: full, f"{short}自治区": full, full: full}
    for special in _SPECIAL_REGIONS:
        full = f"{special}特别行政区"
        names |= {special: full, full: full}
    return names


_OFFICIAL_NAMES: Final = _official_names()


def mask_region_province(value: str) -> str:
    """Keep only the province: ``广东省深圳市`` → ``广东省``, ``北京市海淀区`` → ``北京市``.

    The province-level division the value starts with, as for ADDRESS, written in its
    official full name; a value that does not start with one: ``****``.
    """
    match = _ADDRESS_PREFIX.match(value)
    if match is None:
        return _ADDRESS_HIDDEN
    named = match.group("municipality") or match.group("province")
    return _OFFICIAL_NAMES.get(named or "", _ADDRESS_HIDDEN)


_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4: Final = re.compile(rf"\s*({_OCTET})\.({_OCTET})\.{_OCTET}\.{_OCTET}\s*")
_IP_HIDDEN: Final = "*.*.*.*"


def mask_ip(value: str) -> str:
    """Mask an IP address: ``203.0.113.42`` → ``203.0.*.*``.

    IPv4 (dotted decimal, no leading zeros): the first two octets, then ``.*.*``.
    IPv6 (any valid notation, a ``%zone`` ignored): the first two groups in short hex, then
    ``:*:*:*:*:*:*`` (``2001:db8::1`` → ``2001:db8:*:*:*:*:*:*``), the /32 prefix that
    names a provider, not a host. Anything else: ``*.*.*.*``.
    """
    match = _IPV4.fullmatch(value)
    if match is not None:
        return f"{match[1]}.{match[2]}.*.*"
    if ":" in value:
        return _mask_ipv6(value.strip())
    return _IP_HIDDEN


def _mask_ipv6(value: str) -> str:
    address, percent, zone = value.partition("%")
    if percent and not zone:
        return _IP_HIDDEN
    try:
        # inet_pton parses in C, about fifteen times faster than ipaddress.IPv6Address.
        packed = inet_pton(AF_INET6, address)
    except (OSError, ValueError):  # ValueError: NUL or a lone surrogate in the text
        return _IP_HIDDEN
    first, second = int.from_bytes(packed[0:2]), int.from_bytes(packed[2:4])
    return f"{first:x}:{second:x}:*:*:*:*:*:*"


_ISO_DATE: Final = re.compile(
    r"\s*([0-9]{4})-(0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:([T ])(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
    r"(Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?\s*"
)


def mask_date_year(value: date | datetime | str) -> date | str:
    """Keep only the year: ``1990-03-07`` → ``1990-01-01``, keeping the type given.

    A ``date`` gives ``date(year, 1, 1)``; a ``datetime`` gives midnight of 1 January of
    its year, same time zone. An ISO string ``YYYY-MM-DD`` (month 01–12, day 01–31)
    gives ``YYYY-01-01``; with a time part it gives ``YYYY-01-01T00:00:00`` (same
    separator and UTC offset). Any other value gives ``****-01-01``, which reveals
    nothing.
    """
    if isinstance(value, datetime):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0, fold=0)
    if isinstance(value, date):
        return value.replace(month=1, day=1)
    if not isinstance(value, str):
        return DATE_SENTINEL
    match = _ISO_DATE.fullmatch(value)
    if match is None:
        return DATE_SENTINEL
    year, _month, separator, offset = match.groups()
    if separator is None:
        return f"{year}-01-01"
    return f"{year}-01-01{separator}00:00:00{offset or ''}"


def mask_date_month(value: date | datetime | str) -> date | str:
    """Keep the year and month: ``2026-03-07T10:20:00`` → ``2026-03-01T00:00:00``.

    As DATE_YEAR, keeping the month: a ``date`` gives the first of its month, a
    ``datetime`` midnight of the first (same time zone), an ISO string ``YYYY-MM-01``
    (with a time part ``YYYY-MM-01T00:00:00``, same separator and offset); any other
    value gives ``****-**-01``.
    """
    if isinstance(value, datetime):
        return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0, fold=0)
    if isinstance(value, date):
        return value.replace(day=1)
    if not isinstance(value, str):
        return MONTH_SENTINEL
    match = _ISO_DATE.fullmatch(value)
    if match is None:
        return MONTH_SENTINEL
    year, month, separator, offset = match.groups()
    if separator is None:
        return f"{year}-{month}-01"
    return f"{year}-{month}-01{separator}00:00:00{offset or ''}"


def mask_redact(value: object) -> str:
    """Replace any value with ``***``."""
    return REDACTED


_STRING_MASKS: Final[dict[MaskStrategy, Callable[[str], str]]] = {
    MaskStrategy.PHONE: mask_phone,
    MaskStrategy.ID_NUMBER: mask_id_number,
    MaskStrategy.BANK_CARD: mask_bank_card,
    MaskStrategy.NAME: mask_name,
    MaskStrategy.EMAIL: mask_email,
    MaskStrategy.ADDRESS: mask_address,
    MaskStrategy.IP: mask_ip,
    MaskStrategy.REGION_PROVINCE: mask_region_province,
}


def mask_function(strategy: MaskStrategy, *, pseudonym_key: bytes) -> MaskFunction:
    """Resolve ``strategy`` once (per plan) to the function applied to every value.

    The returned function passes ``None`` through unchanged (a null discloses nothing
    the field's decision does not). String strategies and PSEUDONYM mask any other
    value as its ``str()``, so an integer id still gets a pseudonym; DATE_YEAR takes a
    ``date``, ``datetime`` or string; REDACT gives ``***`` for any value.
    ``pseudonym_key`` is used, and checked, only for PSEUDONYM. An unknown strategy
    raises :class:`PolicyError`.
    """
    if strategy == MaskStrategy.REDACT:
        return _passing_none(mask_redact)
    if strategy == MaskStrategy.DATE_YEAR:
        return _passing_none(mask_date_year)
    if strategy == MaskStrategy.DATE_MONTH:
        return _passing_none(mask_date_month)
    if strategy == MaskStrategy.PSEUDONYM:
        return _on_strings(make_pseudonymizer(pseudonym_key))
    mask = _STRING_MASKS.get(strategy)
    if mask is None:
        raise PolicyError(f"unknown mask strategy {strategy!r}")
    return _on_strings(mask)


def mask_functions(*, pseudonym_key: bytes) -> dict[MaskStrategy, MaskFunction]:
    """Every strategy resolved once, so that resolving one is a dictionary lookup.

    Raises :class:`ConfigurationError` when ``pseudonym_key`` is too short.
    """
    return {
        strategy: mask_function(strategy, pseudonym_key=pseudonym_key) for strategy in MaskStrategy
    }


def _passing_none(mask: Callable[[Any], Any]) -> MaskFunction:
    def masked(value: Any) -> Any:
        return None if value is None else mask(value)

    return masked


def _on_strings(mask: Callable[[str], str]) -> MaskFunction:
    def masked(value: Any) -> Any:
        if value is None:
            return None
        return mask(value if isinstance(value, str) else str(value))

    return masked
