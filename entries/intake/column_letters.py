"""Spreadsheet column letters and 0-based column indexes, both ways (`A` is 0, `AA` is 26)."""

from __future__ import annotations


def column_index(letters: str) -> int:
    """`A` -> 0, `Z` -> 25, `AA` -> 26."""
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number - 1


def column_letters(index: int) -> str:
    """0 -> `A`, 26 -> `AA`."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
