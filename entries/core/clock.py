"""The one reading of the wall clock, for the store's audit times (never for report cells).

Times are stored as naive UTC: DuckDB's TIMESTAMP has no zone, and every writer must agree.
"""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current time in UTC, without a zone (what every `*_at` column holds)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    """Today's date where the operator is: the default received-on date of an upload."""
    return dt.date.today()
