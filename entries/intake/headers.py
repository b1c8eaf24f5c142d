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
