"""The entries template's columns and the MIS spellings accepted for them.

Headers are matched ignoring case, spaces and punctuation. The alias list is data
(`header_aliases.csv` beside this module) so operations staff can add an MIS's spelling without
touching code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TEMPLATE_COLUMNS: tuple[str, ...] = (
    "Centre Number",
    "Candidate Number",
    "UCI",
    "ULN",
    "Surname",
    "Forenames",
    "Sex",
    "Date of Birth",
    "Entry Code",
    "Unit 1",
    "Unit 2",
    "Unit 3",
    "Unit 4",
    "Unit 5",
    "Unit 6",
    "Candidate Group",
    "Series",
)
UNIT_COLUMNS: tuple[str, ...] = tuple(c for c in TEMPLATE_COLUMNS if c.startswith("Unit "))
# A file without these cannot be processed; the others may be absent (left blank).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "Centre Number",
    "Candidate Number",
    "Surname",
    "Forenames",
    "Sex",
    "Date of Birth",
    "Entry Code",
)
ALIASES_PATH = Path(__file__).with_name("header_aliases.csv")
# The longest text a cell of each column may hold. Codes are bounded by their own form rules in
# schemas/upload.py (CEN_01, CAN_01, UCI_02, ULN_01, SEX_01, DOB_01, ENT_02, UNI_01), names by the
# schema's CELL_06; no cell may hold more than Excel's own limit, which intake checks (CELL_06).
MAX_CELL_TEXT = 32_767
NAME_COLUMNS: tuple[str, ...] = ("Surname", "Forenames")
# Cell text shaped like an entry's value (a number, a date, a UCI, a single letter such as a sex): a
# first row of these is data, not a header. No message quotes a heading, whatever its shape.
_VALUE_SHAPE = re.compile(
    r"[+-]?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?"  # numbers, codes, serials
    r"|\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # dates
    r"|[0-9]{5}[0A-Za-z][0-9]{6}[A-Za-z]?"  # UCIs and their stems
    r"|[A-Za-z]"  # M, F and other one-letter values
)


def header_key(label: str) -> str:
    """The comparison key of a header: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", label.casefold())


@cache
def aliases() -> dict[str, str]:
    """Header key -> template column, from the alias file."""
    mapping: dict[str, str] = {}
    with ALIASES_PATH.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if rec["column"] not in TEMPLATE_COLUMNS:
                raise ValueError(f"header alias for unknown column {rec['column']!r}")
            key = header_key(rec["alias"])
            if mapping.setdefault(key, rec["column"]) != rec["column"]:
                raise ValueError(f"header alias {rec['alias']!r} names two columns")
    return mapping


@dataclass(frozen=True)
class HeaderMatch:
    """How a file's header row maps onto the template."""

    columns: dict[str, int]  # template column -> position in the file
    missing: tuple[str, ...]  # required columns not found
    unknown: tuple[tuple[int, str], ...]  # (position, label) not recognised
    repeated: tuple[tuple[int, str], ...]  # (position, template column) seen a second time


def match_headers(
    labels: list[str], known: dict[str, str] | None = None, required: tuple[str, ...] = REQUIRED_COLUMNS
) -> HeaderMatch:
    """Map header labels (in file order) to columns: the template's by default, or another file's
    through `known` (header key -> column) and its `required` columns."""
    known = aliases() if known is None else known
    columns: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    repeated: list[tuple[int, str]] = []
    for position, label in enumerate(labels):
        if not label.strip():
            continue
        column = known.get(header_key(label))
        if column is None:
            unknown.append((position, label))
        elif column in columns:
            repeated.append((position, column))
        else:
            columns[column] = position
    missing = tuple(c for c in required if c not in columns)
    return HeaderMatch(columns=columns, missing=missing, unknown=tuple(unknown), repeated=tuple(repeated))


def looks_like_value(text: str) -> bool:
    """True for cell text shaped like an entry's value rather than a column name."""
    return bool(_VALUE_SHAPE.fullmatch(text.strip()))


def looks_like_data(labels: list[str], match: HeaderMatch) -> bool:
    """True when a row taken as the header is more like an entry: at least two value-shaped cells,
    and more of them than cells naming a template column."""
    shaped = sum(1 for label in labels if label.strip() and looks_like_value(label))
    return shaped >= 2 and shaped > len(match.columns)
