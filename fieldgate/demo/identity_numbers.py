"""Chinese identifiers: resident ID numbers, mobile numbers, bank cards, IMEIs, credit codes.

Each identifier has a generator that takes a ``random.Random`` (so that a seed fixes it)
and a validator that checks the format and the check character.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime

from fieldgate.demo.checksums import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    is_luhn_valid,
    luhn_check_digit,
    mod11_2_check_char,
    org_code_check_char,
)
from fieldgate.demo.places import PROVINCE_CODES

# Mobile network prefixes of China Mobile, China Unicom, China Telecom and China Broadnet.
MOBILE_PREFIXES: tuple[str, ...] = (
    *(f"13{d}" for d in range(10)),
    "145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "166", "170", "171", "173", "175", "176", "177", "178",
    *(f"18{d}" for d in range(10)),
    "191", "198", "199",
)  # fmt: skip
_MOBILE_PREFIX_SET = frozenset(MOBILE_PREFIXES)

# UnionPay debit BINs of large banks and the length of their card numbers.
BANK_CARD_BINS: dict[str, int] = {
    "622202": 19,  # Industrial and Commercial Bank of China
    "621700": 19,  # China Construction Bank
    "622700": 19,  # China Construction Bank
    "622848": 19,  # Agricultural Bank of China
    "621661": 19,  # Bank of China
    "622262": 19,  # Bank of Communications
    "621483": 16,  # China Merchants Bank
    "622588": 16,  # China Merchants Bank
    "622609": 16,  # China Everbright Bank
}

_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_CREDIT_CODE = re.compile(f"[1-9A-HNY][1-9][0-9]{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def make_id_number(rng: random.Random, area_code: str, birth_date: date, male: bool) -> str:
    """A GB 11643 resident ID number: area, birth date, sequence of the right parity, check."""
    sequence = rng.randrange(1 if male else 2, 1000, 2)  # odd for men, even for women
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + mod11_2_check_char(first17)


def id_number_birth_date(id_number: str) -> date | None:
    """The birth date an ID number encodes, or None when it is not a real date."""
    try:
        return datetime.strptime(id_number[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def id_number_is_male(id_number: str) -> bool:
    """The sex an ID number encodes: an odd sequence number is a man's."""
    return int(id_number[16]) % 2 == 1


def is_valid_id_number(id_number: str) -> bool:
    """True for 18 characters with a known province, a real birth date and a correct check."""
    return (
        _ID_NUMBER.fullmatch(id_number) is not None
        and id_number[:2] in PROVINCE_CODES
        and id_number_birth_date(id_number) is not None
        and mod11_2_check_char(id_number[:17]) == id_number[17]
    )


def make_mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a real network prefix."""
    return rng.choice(MOBILE_PREFIXES) + _digits(rng, 8)


def is_valid_mobile(phone: str) -> bool:
    """True for 11 ASCII digits that start with a real mobile network prefix."""
    return (
        len(phone) == 11 and phone.isascii() and phone.isdigit() and phone[:3] in _MOBILE_PREFIX_SET
    )


def make_bank_card(rng: random.Random) -> str:
    """A Luhn-valid UnionPay card number on a real BIN, 16 or 19 digits."""
    bin_prefix = rng.choice(sorted(BANK_CARD_BINS))
    payload = bin_prefix + _digits(rng, BANK_CARD_BINS[bin_prefix] - len(bin_prefix) - 1)
    return payload + luhn_check_digit(payload)


def is_valid_bank_card(card: str) -> bool:
    """True for a Luhn-valid 16- or 19-digit number starting with ``62`` (UnionPay)."""
    return len(card) in (16, 19) and card.startswith("62") and is_luhn_valid(card)


def make_imei(rng: random.Random, reporting_body: str = "86") -> str:
    """A 15-digit Luhn-valid IMEI; ``reporting_body`` starts the type allocation code.

    ``86`` is China's reporting body; ``35`` is the one most Apple devices carry.
    """
    payload = reporting_body + _digits(rng, 14 - len(reporting_body))
    return payload + luhn_check_digit(payload)


def is_valid_imei(imei: str) -> bool:
    """True for 15 digits passing the Luhn test."""
    return len(imei) == 15 and is_luhn_valid(imei)


def make_credit_code(rng: random.Random, area_code: str) -> str:
    """A GB 32100 unified social credit code of a company (``91``) registered in ``area_code``."""
    org_body = _digits(rng, 8)
    first17 = f"91{area_code}{org_body}{org_code_check_char(org_body)}"
    return first17 + credit_code_check_char(first17)


def is_valid_credit_code(code: str) -> bool:
    """True for 18 characters of the GB 32100 alphabet whose two check characters match."""
    return (
        _CREDIT_CODE.fullmatch(code) is not None
        and code[2:4] in PROVINCE_CODES
        and org_code_check_char(code[8:16]) == code[16]
        and credit_code_check_char(code[:17]) == code[17]
    )
