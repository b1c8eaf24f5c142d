"""One submission as the portal's page shows it: its details, status changes, issues and entries."""

from __future__ import annotations

from entries.store.database import Connection

_KEYS = (
    "submission_id",
    "centre",
    "file",
    "received_on",
    "status",
    "reason",
    "series",
    "order_ref",
    "rows",
    "accepted",
    "rejected",
    "held",
    "claim_number",
    "sha256",
    "file_format",
)


def submission(con: Connection, submission_id: int) -> dict | None:
    """The submission `submission_id` (None when there is none); the caller decides who may see it.

    Its entries carry the names of the submitting centre's own candidates: a candidate is matched
    at the submitting centre only (entries.checks.candidates)."""
    found = con.execute(
        f"SELECT {', '.join(k if k != 'file' else 'file_name' for k in _KEYS)} FROM submissions WHERE submission_id = ?",
        [submission_id],
    ).fetchall()
    if not found:
        return None
    sub = dict(zip(_KEYS, found[0], strict=True))
    sub["changes"] = con.execute(
        "SELECT status, changed_at FROM submission_status WHERE submission_id = ? ORDER BY seq", [submission_id]
    ).fetchall()
    sub["issues"] = con.execute(
        """SELECT row_number, column_name, code, severity, message, coalesce(fix, '') FROM submission_issues
           WHERE submission_id = ? ORDER BY row_number NULLS FIRST, column_name, code""",
        [submission_id],
    ).fetchall()
    sub["entries"] = con.execute(
        """SELECT e.candidate_number, c.surname, c.forenames, e.entry_code, e.unit_number, e.kind, e.series,
                  e.late, e.fee_pence, e.entry_id, w.withdrawn_on, w.credit_pence
           FROM entries e JOIN candidates c ON c.candidate_id = e.candidate_id
           LEFT JOIN withdrawals w ON w.entry_id = e.entry_id WHERE e.submission_id = ?
           ORDER BY e.candidate_number, e.entry_code, coalesce(e.unit_number, 0), e.entry_id""",
        [submission_id],
    ).fetchall()
    sub["fees_pence"] = sum(int(e[8]) for e in sub["entries"])
    # Each entry ends with its id and, when withdrawn, the day and the credit it earned (else None).
    sub["withdrawn"] = sum(1 for e in sub["entries"] if e[10] is not None)
    sub["credit_pence"] = sum(int(e[11]) for e in sub["entries"] if e[11] is not None)
    return sub
