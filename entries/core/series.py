"""What a series identifier looks like: `YYYY-MM`, the year and month of the exams (e.g. `2027-06`).

The one definition of the pattern: schemas, results, invoices and the command line all use it.
Which series exist, and which is open, is reference data (`entries.store.series`).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

# Without anchors, for `str.fullmatch`; `SERIES_ANCHORED` for pandera's `str_matches`.
SERIES_PATTERN = r"[0-9]{4}-(0[1-9]|1[0-2])"
SERIES_ANCHORED = rf"^{SERIES_PATTERN}$"
_SERIES = re.compile(SERIES_PATTERN)


def is_series(text: str) -> bool:
    """True when `text` is written as a series identifier (`2027-06`)."""
    return _SERIES.fullmatch(text) is not None


def series_start(series: str) -> dt.date:
    """The first day of the series' month (candidates' ages are taken on this day)."""
    year, month = series.split("-")
    return dt.date(int(year), int(month), 1)


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# `June 2027`, `Jun 2027`, `June-2027`, `jun/2027`: a month's name then a four-digit year.
_NAMED = re.compile(r"([A-Za-z]+)[\s\-/.,]*([0-9]{4})")


def parse_series(text: str) -> str | None:
    """The series identifier a centre's text names, or None when it names none.

    Accepted: `2027-06`, `June 2027`, `Jun 2027` (any case, with a space, hyphen or slash between).
    A two-digit year is refused: `Jun 27` could be a day of June."""
    value = text.strip()
    if is_series(value):
        return value
    named = _NAMED.fullmatch(value)
    if named is None:
        return None
    month = _MONTHS.get(named.group(1).casefold())
    return None if month is None else f"{named.group(2)}-{month:02d}"


def parse_series_cells(cells: pd.Series) -> pd.Series:
    """`parse_series` over a column of text, parsing each distinct value once; None where a cell
    is blank or names no series."""
    distinct = cells.drop_duplicates()
    parsed = {value: parse_series(value) for value in distinct if isinstance(value, str)}
    return cells.map(parsed).astype("object").where(cells.notna(), None)
