"""Unique Candidate Identifiers (UCI), as docs/architecture.md §6 defines them.

A UCI is 13 characters: centre number (5 digits), ``0`` or a letter, year (2 digits),
serial (4 digits), then a check letter computed from the first 12 (the "stem").
Everything here is pure; callers trim text and handle blanks themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CHECK_LETTERS", "centre_of", "check_letter", "complete", "uci_problem"]

CHECK_LETTERS = "ABCDEFGHKLMRTVWXY"
_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STEM_LENGTH = 12
_WEIGHTS = tuple(range(16, 4, -1))  # 16, 15, ..., 5


def _is_stem(stem: str) -> bool:
    """True if `stem` is 5 digits, ``0`` or an uppercase letter, 2 digits, 4 digits (ASCII only)."""
    if len(stem) != _STEM_LENGTH:
        return False
    return (
        all(c in _DIGITS for c in stem[:5])
        and (stem[5] == "0" or stem[5] in _LETTERS)
        and all(c in _DIGITS for c in stem[6:])
    )


def check_letter(stem: str) -> str:
    """Return the check letter (one of ``CHECK_LETTERS``) for a 12-character UCI stem.

    Each character is weighted 16, 15, ..., 5 (a digit counts as its value, a letter as its
    alphabet position, A = 1); the sum mod 17 indexes ``CHECK_LETTERS``.
    Raises ValueError if `stem` is not of the 12-character stem structure.
    """
    if not _is_stem(stem):
        raise ValueError("not a 12-character UCI stem")
    total = 0
    for weight, char in zip(_WEIGHTS, stem, strict=False):
        value = int(char) if char in _DIGITS else _LETTERS.index(char) + 1
        total += weight * value
    return CHECK_LETTERS[total % 17]


def uci_problem(value: str) -> str | None:
    """Return None if trimmed text `value` is an acceptable UCI, else a stable reason string.

    Reasons: ``"length"`` (not 12 or 13 characters), ``"structure"`` (not 5 digits,
    ``0`` or A-Z, 2 digits, 4 digits, optional uppercase letter), ``"check"`` (the 13th
    character is not the stem's check letter). A 12-character value of the right structure
    has no check letter to test and returns None, as the brief specifies.
    """
    if len(value) not in (_STEM_LENGTH, _STEM_LENGTH + 1):
        return "length"
    stem, suffix = value[:_STEM_LENGTH], value[_STEM_LENGTH:]
    if not _is_stem(stem) or (suffix and suffix not in _LETTERS):
        return "structure"
    if suffix and suffix != check_letter(stem):
        return "check"
    return None


def complete(stem: str) -> str:
    """Return the 13-character UCI for a 12-character stem; ValueError if the stem is malformed."""
    return stem + check_letter(stem)


def centre_of(uci: str) -> str:
    """Return the centre number of a UCI: its first five characters (no validation)."""
    return uci[:5]


def check_letters_valid(values: pd.Series) -> pd.Series:
    """Vectorised check-letter test for UCIs already known to be 13 well-formed characters.

    Takes a Series of such UCIs; returns a bool Series, True where the 13th character is the check
    letter of the first twelve (the same answer as `uci_problem(v) is None`, at numpy speed).
    """
    import numpy as np
    import pandas as pd

    if values.empty:
        return pd.Series(dtype=bool, index=values.index)
    codes = np.frombuffer("".join(values.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 13)
    # Digits count as their value, letters as their alphabet position (A = 1).
    worth = np.where(codes >= 65, codes.astype(np.int64) - 64, codes.astype(np.int64) - 48)[:, :12]
    remainder = (worth * np.array(_WEIGHTS, dtype=np.int64)).sum(axis=1) % 17
    expected = np.frombuffer(CHECK_LETTERS.encode("ascii"), dtype=np.uint8)[remainder]
    return pd.Series(expected == codes[:, 12], index=values.index)
