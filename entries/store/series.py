"""Examination series: which one an upload is for, and whether it is still open."""

from __future__ import annotations

import datetime as dt

import duckdb

from entries.checks.reference import Reference
from entries.core.errors import UsageError


def default_series(con: duckdb.DuckDBPyConnection, received_on: dt.date) -> str:
    """The first series whose late entry deadline has not passed on `received_on`."""
    found = con.execute(
        "SELECT series FROM ref_series WHERE late_entry_deadline >= ? ORDER BY series LIMIT 1", [received_on]
    ).fetchall()
    if not found:
        raise UsageError(f"no series is open for entries received on {received_on.isoformat()}; give --series")
    return found[0][0]


def known_series(con: duckdb.DuckDBPyConnection, series: str) -> str:
    """`series` if the reference data has it; else a usage error listing the known ones."""
    names = [r[0] for r in con.execute("SELECT series FROM ref_series ORDER BY series").fetchall()]
    if series not in names:
        raise UsageError(f"unknown series {series!r}; known series: {', '.join(names)}")
    return series


def series_for(reference: Reference, received_on: dt.date, stated: str | None = None) -> str:
    """The series an upload is for: the one stated (checked against the reference data), else the
    default rule of `default_series`, read from a reference snapshot (no store needed)."""
    mem = reference.session()
    return known_series(mem, stated) if stated else default_series(mem, received_on)
