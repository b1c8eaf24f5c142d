"""Claim numbers: the short reference an accepted submission is quoted by.

The guide asks centres to quote "your centre number, entry code and claim number in all
communications". A claim number is `C`, seven digits drawn from the store's sequence, and a check
letter (the UCI's alphabet, weights 8 down to 2, mod 17), so a mistyped digit is caught before a
search: `C0000042` + check letter.
"""

from __future__ import annotations

import re

_LETTERS = "ABCDEFGHKLMRTVWXY"
_SHAPE = re.compile(r"C([0-9]{7})([A-Z])")


def check_letter(digits: str) -> str:
    """The check letter of seven digits."""
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    return _LETTERS[total % 17]


def claim_number(n: int) -> str:
    """The claim number for the `n`th accepted submission (1 <= n < 10,000,000)."""
    if not 1 <= n < 10_000_000:
        raise ValueError(f"claim sequence {n} is out of range")
    digits = f"{n:07d}"
    return f"C{digits}{check_letter(digits)}"


def parse_claim_number(text: str) -> str | None:
    """The claim number `text` spells (any case, spaces ignored), or None when it is not one or
    its check letter is wrong."""
    value = re.sub(r"\s", "", text).upper()
    found = _SHAPE.fullmatch(value)
    if found is None or check_letter(found.group(1)) != found.group(2):
        return None
    return value
