"""Examination series: which one an upload is for, and whether it is still open."""

from __future__ import annotations

import datetime as dt

import duckdb

from entries.checks.reference import Reference
from entries.core.errors import UsageError
from entries.core.series import parse_series


def default_series(con: duckdb.DuckDBPyConnection, received_on: dt.date) -> str:
    """The first series whose standard entry deadline has not passed on `received_on`.

    Never the late window of an earlier series: a late fee is charged only for a series the centre
    stated (a Series column, a series folder, --series), so the default is never a guess at money.
    While an earlier series is in its late window the default is still this one, but rows left to
    it are refused (SER_03, `entries.checks.validate.late_window_issues`): the centre must choose."""
    found = con.execute(
        "SELECT series FROM ref_series WHERE entry_deadline >= ? ORDER BY series LIMIT 1", [received_on]
    ).fetchall()
    if not found:
        raise UsageError(f"no series takes entries at the standard fee on {received_on.isoformat()}; give --series")
    return found[0][0]


def open_series(con: duckdb.DuckDBPyConnection, received_on: dt.date) -> list[tuple[str, str, bool]]:
    """(series, title, late) for every series still taking entries on `received_on`, in order;
    `late` when only at the late fee."""
    return [(series, title, late) for series, title, _, _, late in taking_entries(con, received_on)]


def taking_entries(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[tuple[str, str, dt.date, dt.date, bool]]:
    """(series, title, entry deadline, late entry deadline, late) for every series still taking
    entries on `on`, in order; `late` when only at the late fee."""
    return [
        (str(series), str(title), deadline, late_deadline, bool(late))
        for series, title, deadline, late_deadline, late in con.execute(
            """SELECT series, title, entry_deadline, late_entry_deadline, entry_deadline < ? FROM ref_series
               WHERE late_entry_deadline >= ? ORDER BY series""",
            [on, on],
        ).fetchall()
    ]


def known_series(con: duckdb.DuckDBPyConnection, series: str) -> str:
    """`series` if the reference data has it; else a usage error listing the known ones."""
    names = [r[0] for r in con.execute("SELECT series FROM ref_series ORDER BY series").fetchall()]
    if series not in names:
        raise UsageError(f"unknown series {series!r}; known series: {', '.join(names)}")
    return series


def series_for(reference: Reference, received_on: dt.date, stated: str | None = None) -> str:
    """The series an upload is for: the one stated (checked against the reference data; `June
    2027` is read as `2027-06`), else the default rule of `default_series`, read from a reference
    snapshot (no store needed)."""
    mem = reference.session()
    if stated:
        return known_series(mem, parse_series(stated) or stated)
    return default_series(mem, received_on)
