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
                  e.late, e.fee_pence
           FROM entries e JOIN candidates c USING (candidate_id) WHERE e.submission_id = ?
           ORDER BY e.candidate_number, e.entry_code, e.unit_key""",
        [submission_id],
    ).fetchall()
    sub["fees_pence"] = sum(int(e[8]) for e in sub["entries"])
    return sub
