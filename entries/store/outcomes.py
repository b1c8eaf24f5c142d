"""A stored submission's outcome read back (after an interrupted night, its claim already
committed): the issues exactly as the centre was told, nothing re-rendered."""

from __future__ import annotations

from entries.checks.upload import Outcome
from entries.core.rules import Issue
from entries.core.status import Status
from entries.store.commit import KINDS, series_totals
from entries.store.database import Connection


def outcome_from_store(con: Connection, submission_id: int) -> Outcome:
    """The docs/architecture.md §5 outcome of stored submission `submission_id`."""
    row = con.execute(
        """SELECT file_name, sha256, centre, series, order_ref, status, reason, rows, accepted, rejected, held,
                  series_source, claim_number, received_on, duplicate_of
           FROM submissions WHERE submission_id = ?""",
        [submission_id],
    ).fetchall()[0]
    issues = [
        Issue(code=code, severity=severity, message=message, fix=fix or "", row=r, column=col)
        for r, col, code, severity, message, fix in con.execute(
            "SELECT row_number, column_name, code, severity, message, fix FROM submission_issues "
            "WHERE submission_id = ? ORDER BY rowid",
            [submission_id],
        ).fetchall()
    ]
    stored = con.execute(
        "SELECT series, late, fee_pence, kind FROM entries WHERE submission_id = ?", [submission_id]
    ).df()
    kinds = stored["kind"].value_counts()
    return Outcome(
        file=row[0],
        sha256=row[1],
        centre=row[2],
        series=row[3],
        order_ref=row[4],
        status=Status(row[5]),
        reason=row[6],
        rows=row[7],
        accepted=row[8],
        rejected=row[9],
        held=row[10],
        submission_id=submission_id,
        issues=issues,
        entries={k: int(kinds.get(k, 0)) for k in KINDS},
        fees_pence=int(stored["fee_pence"].sum()),
        series_source=row[11] or "stated",
        by_series=series_totals(stored) if not stored.empty else [],
        claim_number=row[12],
        received_on=row[13],
        duplicate_of=row[14],
    )
