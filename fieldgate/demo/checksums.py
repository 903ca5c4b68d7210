"""Check characters of the identifiers the demo data makes (pure functions, no randomness).

- Luhn (ISO/IEC 7812): bank card numbers and IMEIs.
- ISO 7064 MOD 11-2: the last character of a resident ID number (GB 11643).
- GB 11714: the organisation code inside a unified social credit code.
- GB 32100: the last character of a unified social credit code.
"""

from __future__ import annotations

# GB 32100 uses 31 characters: digits and capitals without I, O, S, V and Z.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS = "10X98765432"


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload`` + digit pass the Luhn test."""
    total = 0
    # Counting from the right of the payload, every first digit is doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    """True when ``number`` is all digits, at least two, and its last digit checks."""
    if len(number) < 2 or not number.isascii() or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def mod11_2_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 17 digits: ``0``-``9`` or ``X``."""
    total = sum(int(char) * weight for char, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    # GB 11714 values letters over the full alphabet: A=10 ... Z=35.
    total = sum(
        int(char, 36) * weight for char, weight in zip(first8, _ORG_CODE_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]
