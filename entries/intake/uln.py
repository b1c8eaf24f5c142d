"""Unique Learner Numbers (ULN), as docs/architecture.md §6 defines them.

A ULN is 10 digits whose last is a check digit. Unknown ULNs must be left blank, so
placeholder values (``9999999999``, ``TBC``, ...) are errors. Everything here is pure;
callers trim text and handle blanks themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["is_placeholder", "uln_problem"]

_DIGITS = "0123456789"
_LENGTH = 10
_WEIGHTS = tuple(range(10, 1, -1))  # 10, 9, ..., 2 on digits 1-9
_PLACEHOLDER_WORDS = frozenset(
    {
        "TBC",
        "TBA",
        "TBD",
        "N/A",
        "NA",
        "N.A.",
        "N/K",
        "NK",
        "UNKNOWN",
        "NONE",
        "NIL",
        "NULL",
        "-",
        "--",
        "---",
        "?",
        "??",
        "X",
        "XX",
        "XXX",
        "0",
        "NO ULN",
        "PENDING",
    }
)
_PLACEHOLDER_SEQUENCES = frozenset({"1234567890", "0123456789", "9876543210"})


def _is_digits(value: str) -> bool:
    """True if `value` is non-empty and only ASCII digits (``str.isdigit`` accepts others)."""
    return bool(value) and all(c in _DIGITS for c in value)


def is_placeholder(value: str) -> bool:
    """True if trimmed text `value` is a stand-in for an unknown ULN rather than an attempt at one.

    Covers placeholder words compared case-insensitively (``TBC``, ``N/A``, ``UNKNOWN``,
    ``NONE``, ``-``, ...), one digit repeated ten times, and ``1234567890``-style runs.
    """
    if value.upper() in _PLACEHOLDER_WORDS:
        return True
    if len(value) == _LENGTH and _is_digits(value):
        return len(set(value)) == 1 or value in _PLACEHOLDER_SEQUENCES
    return False


def uln_problem(value: str) -> str | None:
    """Return None if trimmed text `value` is a valid ULN, else a stable reason string.

    Reasons, tested in this order: ``"placeholder"`` (see `is_placeholder`), ``"length"``
    (not exactly 10 ASCII digits), ``"check"`` (weights 10..2 on digits 1-9, sum mod 11;
    a remainder of 0 is never valid, otherwise the 10th digit must be 10 - remainder).
    """
    if is_placeholder(value):
        return "placeholder"
    if len(value) != _LENGTH or not _is_digits(value):
        return "length"
    remainder = sum(w * int(c) for w, c in zip(_WEIGHTS, value, strict=False)) % 11
    if remainder == 0 or int(value[9]) != 10 - remainder:
        return "check"
    return None


def check_digits_valid(values: pd.Series) -> pd.Series:
    """Vectorised checksum test for ULNs already known to be 10 ASCII digits.

    Returns a bool Series, True where the check digit is right (remainder 0 is never right).
    """
    import numpy as np
    import pandas as pd

    if values.empty:
        return pd.Series(dtype=bool, index=values.index)
    digits = (
        np.frombuffer("".join(values.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 10).astype(np.int64) - 48
    )
    remainder = (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
    return pd.Series((remainder != 0) & (digits[:, 9] == 10 - remainder), index=values.index)


_REPEATED = "|".join(d * _LENGTH for d in _DIGITS)


def placeholder_mask(values: pd.Series) -> pd.Series:
    """Vectorised `is_placeholder` over trimmed text: a bool Series."""
    return (
        values.str.upper().isin(_PLACEHOLDER_WORDS)
        | values.str.fullmatch(_REPEATED)
        | values.isin(_PLACEHOLDER_SEQUENCES)
    )
