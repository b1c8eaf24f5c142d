"""What a series identifier looks like: `YYYY-MM`, the year and month of the exams (e.g. `2027-06`).

The one definition of the pattern: schemas, results, invoices and the command line all use it.
Which series exist, and which is open, is reference data (`entries.store.series`).
"""

from __future__ import annotations

import datetime as dt
import re

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
