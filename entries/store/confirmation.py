"""What a submission's confirmation reads from the store: the submission's file key, its header
(centre, order, series, dates, status, claim) and its stored entries with their titles.

One statement each; `entries.reports.confirmation` lays them out. None (or no rows) when there is
no such submission: the report decides what that means.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from entries.store.database import Connection


@dataclass(frozen=True)
class FileKey:
    """What names a submission's reports: the day it was received, its file name and its bytes' hash."""

    received_on: dt.date
    file_name: str
    sha256: str


def file_key(con: Connection, submission_id: int) -> FileKey | None:
    """The submission's file key, or None when there is no such submission."""
    found = con.execute(
        "SELECT received_on, file_name, sha256 FROM submissions WHERE submission_id = ?", [submission_id]
    ).fetchall()
    return FileKey(*found[0]) if found else None


@dataclass(frozen=True)
class Header:
    """A submission as its confirmation's header block shows it (centre_name None for a centre the
    store does not know)."""

    centre: str
    centre_name: str | None
    order_ref: str | None
    series: str | None
    received_on: dt.date
    status: str
    claim_number: str | None


def header(con: Connection, submission_id: int) -> Header | None:
    """The submission's header, or None when there is no such submission."""
    found = con.execute(
        """SELECT s.centre, c.name, s.order_ref, s.series, s.received_on, s.status, s.claim_number
           FROM submissions s LEFT JOIN all_centres c ON c.centre_number = s.centre
           WHERE s.submission_id = ?""",
        [submission_id],
    ).fetchall()
    return Header(*found[0]) if found else None


@dataclass(frozen=True)
class StoredEntry:
    """One stored entry of a submission with its candidate and the titles of its code and unit
    (None where the store has no such candidate, code or unit)."""

    candidate_number: str
    uci: str | None
    surname: str | None
    forenames: str | None
    entry_code: str
    code_title: str | None
    unit_number: int | None
    unit_title: str | None
    kind: str
    fee_pence: int
    late: bool
    series: str


def stored_entries(con: Connection, submission_id: int) -> list[StoredEntry]:
    """The submission's stored entries, sorted by candidate number, entry code and unit."""
    rows = con.execute(
        """SELECT e.candidate_number, ca.uci, ca.surname, ca.forenames, e.entry_code, ec.title,
                  e.unit_number, u.title, e.kind, e.fee_pence, e.late, e.series
           FROM entries e
           LEFT JOIN candidates ca ON ca.candidate_id = e.candidate_id
           LEFT JOIN ref_entry_codes ec ON ec.entry_code = e.entry_code
           LEFT JOIN ref_units u ON u.suite_id = e.suite_id AND u.unit_number = e.unit_number
           WHERE e.submission_id = ?
           ORDER BY e.candidate_number, e.entry_code, coalesce(e.unit_number, 0), e.entry_id""",
        [submission_id],
    ).fetchall()
    return [StoredEntry(*row) for row in rows]
