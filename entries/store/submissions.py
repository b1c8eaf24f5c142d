"""Submission records: one row per upload, every status change with its time, and its issues.

The content key is the file's SHA-256: `accepted_files` holds each accepted content once, so the
same bytes are never accepted twice, whatever the file is called.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from entries.core import clock
from entries.core.claims import claim_number
from entries.core.rules import Issue
from entries.core.status import Status
from entries.store import numbering


@dataclass(frozen=True)
class NewSubmission:
    """What is known of an upload when it is first recorded."""

    sha256: str
    file_name: str
    centre: str
    received_on: dt.date
    series: str | None = None
    series_source: str | None = None
    order_ref: str | None = None
    file_format: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class Earlier:
    """The submission that accepted a file's bytes before."""

    submission_id: int
    claim_number: str | None
    received_on: dt.date

    @property
    def label(self) -> str:
        """How a message names it: its claim number, else its id."""
        return self.claim_number or f"#{self.submission_id}"


def accepted_submission(con: duckdb.DuckDBPyConnection, sha256: str) -> Earlier | None:
    """The submission that already accepted these bytes, if any."""
    found = con.execute(
        """SELECT a.submission_id, s.claim_number, s.received_on FROM accepted_files a
           JOIN submissions s USING (submission_id) WHERE a.sha256 = ?""",
        [sha256],
    ).fetchall()
    return Earlier(*found[0]) if found else None


def record(
    con: duckdb.DuckDBPyConnection,
    new: NewSubmission,
    status: Status,
    *,
    reason_code: str | None = None,
    reason: str | None = None,
    counts: dict[str, int] | None = None,
    issues: list[Issue] | tuple[Issue, ...] = (),
    duplicate_of: int | None = None,
) -> int:
    """Insert the submission, its first status and its issues; call inside a transaction.

    Returns the new submission id. A `Read and recognised` upload also claims its content key and
    gets its claim number.
    """
    counts = counts or {}
    submission_id = con.execute("SELECT nextval('submission_ids')").fetchall()[0][0]
    claim = None
    if status == Status.READ_AND_RECOGNISED:
        drawn = con.execute("SELECT nextval('claim_numbers')").fetchall()[0][0]
        numbering.note_issued(con, "claim", drawn)  # a restore must never hand it out again
        claim = claim_number(drawn)
    now = clock.now()
    con.execute(
        """INSERT INTO submissions (submission_id, sha256, file_name, file_format, encoding, centre, series,
               order_ref, received_on, status, reason_code, reason, rows, accepted, rejected, held,
               duplicate_of, created_at, series_source, claim_number)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            submission_id,
            new.sha256,
            new.file_name,
            new.file_format,
            new.encoding,
            new.centre,
            new.series,
            new.order_ref,
            new.received_on,
            str(status),
            reason_code,
            reason,
            counts.get("rows", 0),
            counts.get("accepted", 0),
            counts.get("rejected", 0),
            counts.get("held", 0),
            duplicate_of,
            now,
            new.series_source,
            claim,
        ],
    )
    con.execute("INSERT INTO submission_status VALUES (?, 1, ?, ?, ?)", [submission_id, str(status), reason_code, now])
    if status == Status.READ_AND_RECOGNISED:
        con.execute("INSERT INTO accepted_files VALUES (?, ?)", [new.sha256, submission_id])
    if issues:
        found = pd.DataFrame(
            {
                "submission_id": submission_id,
                "row_number": pd.array([i.row for i in issues], dtype="Int64"),
                "column_name": pd.array([i.column for i in issues], dtype="string"),
                "code": [i.code for i in issues],
                "severity": [i.severity for i in issues],
                "message": [i.message for i in issues],
                "fix": [i.fix for i in issues],
            }
        )
        con.register("new_issues", found)
        try:  # one statement for a file's issues, however many (a file may carry 100,000 warnings)
            con.execute(
                "INSERT INTO submission_issues (submission_id, row_number, column_name, code, severity, message, fix) "
                "SELECT submission_id, row_number, column_name, code, severity, message, fix FROM new_issues"
            )
        finally:
            con.unregister("new_issues")
    return submission_id


def claim_of(con: duckdb.DuckDBPyConnection, submission_id: int) -> str | None:
    """The claim number of a submission (None unless it was accepted)."""
    found = con.execute("SELECT claim_number FROM submissions WHERE submission_id = ?", [submission_id]).fetchall()
    return found[0][0] if found else None


def change_status(
    con: duckdb.DuckDBPyConnection,
    submission_id: int,
    status: Status,
    reason_code: str | None = None,
    *,
    reason: str | None = None,
) -> None:
    """Move a submission to `status`, keeping the history of changes; `reason` (non-personal text)
    replaces the stored reason when given."""
    seq = con.execute(
        "SELECT coalesce(max(seq), 0) + 1 FROM submission_status WHERE submission_id = ?", [submission_id]
    ).fetchall()[0][0]
    con.execute(
        "INSERT INTO submission_status VALUES (?, ?, ?, ?, ?)",
        [submission_id, seq, str(status), reason_code, clock.now()],
    )
    if reason is None:
        con.execute("UPDATE submissions SET status = ? WHERE submission_id = ?", [str(status), submission_id])
    else:
        con.execute(
            "UPDATE submissions SET status = ?, reason = ? WHERE submission_id = ?",
            [str(status), reason, submission_id],
        )


def status_history(con: duckdb.DuckDBPyConnection, submission_id: int) -> list[tuple[str, str | None]]:
    """(status, reason code) in the order they happened."""
    return [
        (s, r)
        for s, r in con.execute(
            "SELECT status, reason_code FROM submission_status WHERE submission_id = ? ORDER BY seq", [submission_id]
        ).fetchall()
    ]
