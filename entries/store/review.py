"""Rows held for the operations team: list them, and resolve each as an existing candidate, a new
candidate, or a rejection. When a submission has no open item left, it is Processing complete."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from entries.checks.classify import classify
from entries.checks.reference import Reference
from entries.checks.upload import Prepared
from entries.checks.validate import Context
from entries.core import clock
from entries.core.errors import EntriesError, UsageError
from entries.core.status import Status
from entries.store import database
from entries.store.commit import load_history, store_entries
from entries.store.submissions import change_status

RESOLUTIONS = ("existing", "new", "new-number", "reject")


def _entries_of(held: list[dict], series: str | None) -> list[dict]:
    """What each held row would enter: its entry code, units and series (no personal data)."""
    out = []
    for row in held:
        units = [int(row[f"unit_{n}"]) for n in range(1, 7) if row.get(f"unit_{n}") is not None]
        out.append(
            {
                "row": row.get("row"),
                "entry_code": row["entry_code"],
                "units": units,
                "series": row.get("series") or series,
            }
        )
    return out


def open_items(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Open review items, oldest first, with what the operator needs to decide."""
    rows = con.execute(
        """SELECT r.review_id, r.submission_id, s.centre, s.file_name, r.reason_code, r.source_rows, r.rows_json,
                  c.candidate_number, c.surname, c.forenames, c.date_of_birth, c.uci, s.series
           FROM review_items r JOIN submissions s USING (submission_id)
           LEFT JOIN candidates c ON c.candidate_id = r.match_candidate_id
           WHERE r.status = 'open' ORDER BY r.review_id"""
    ).fetchall()
    items = []
    for (
        rid,
        sid,
        centre,
        file,
        code,
        source_rows,
        rows_json,
        m_number,
        m_surname,
        m_forenames,
        m_dob,
        m_uci,
        series,
    ) in rows:
        held = json.loads(rows_json)
        first = held[0]
        items.append(
            {
                "review_id": rid,
                "submission_id": sid,
                "centre": centre,
                "file": file,
                "reason_code": code,
                "rows": source_rows,
                "candidate_number": first["candidate_number"],
                "surname": first["surname"],
                "forenames": first["forenames"],
                "date_of_birth": first["date_of_birth"],
                "uci": first["uci"],
                "entries": _entries_of(held, series),
                "on_record": None
                if m_number is None
                else {
                    "candidate_number": m_number,
                    "surname": m_surname,
                    "forenames": m_forenames,
                    "date_of_birth": m_dob.isoformat() if m_dob else None,
                    "uci": m_uci,
                },
            }
        )
    return items


def resolve(con: duckdb.DuckDBPyConnection, review_id: int, how: str, reference: Reference) -> dict:
    """Resolve one held item; returns {"review_id", "resolution", "entries", "submission_status"}.

    existing: the rows' entries go to the candidate on record; new: a new candidate is created
    (only for a probable duplicate, CAND_01); new-number: a new candidate is created with the
    centre's lowest free candidate number (for a number that belongs to someone else, CAND_03, or a
    probable duplicate); reject: the rows are dropped. A new number is returned as
    "candidate_number" so the centre can be told it.
    """
    if how not in RESOLUTIONS:
        raise UsageError(f"--as must be one of {', '.join(RESOLUTIONS)}")
    found = con.execute(
        """SELECT r.submission_id, r.reason_code, r.rows_json, r.match_candidate_id, r.status,
                  s.centre, s.series, s.received_on, s.order_ref, s.file_name, s.sha256
           FROM review_items r JOIN submissions s USING (submission_id) WHERE r.review_id = ?""",
        [review_id],
    ).fetchall()
    if not found:
        raise UsageError(f"no review item {review_id}; see 'entries review list'")
    sid, code, rows_json, match_id, status, centre, series, received_on, order_ref, file_name, sha = found[0]
    if status != "open":
        raise EntriesError(f"review item {review_id} is already resolved ({status})")
    if how == "new" and code != "CAND_01":
        raise EntriesError(
            f"review item {review_id} ({code}) clashes with a candidate on record: resolve it as existing or reject"
        )
    if how == "new-number" and code == "CAND_02":
        raise EntriesError(
            f"review item {review_id} (CAND_02) is about a UCI, not a candidate number: resolve it as existing or reject"
        )
    if how == "existing" and match_id is None:
        raise EntriesError(f"review item {review_id} has no candidate on record to attach to")
    rows = pd.DataFrame(json.loads(rows_json))
    if "series" not in rows.columns:  # held before rows carried their own series
        rows["series"] = series
    rows["date_of_birth"] = pd.to_datetime(rows["date_of_birth"]).astype("datetime64[s]")
    for n in range(1, 7):
        rows[f"unit_{n}"] = rows[f"unit_{n}"].astype("Int64")
    stored = 0
    given_number: str | None = None
    context = Context(centre=centre, series=series, received_on=received_on)
    with database.transaction(con):
        if how != "reject":
            rows["cand_key"] = int(match_id) if how == "existing" else -1
            if how == "existing":
                # One number per candidate at a centre: the entries take the number on record.
                number = con.execute(
                    "SELECT candidate_number FROM candidates WHERE candidate_id = ?", [int(match_id)]
                ).fetchall()[0][0]
                rows["candidate_number"] = number
                history = load_history(con, [int(match_id)])
            else:
                if how == "new-number":
                    given_number = free_candidate_number(con, centre)
                    rows["candidate_number"] = given_number
                history = load_history(con, [])
            classified = classify(rows, context, reference, history)
            errors = [i for i in classified.issues if i.severity == "error"]
            if errors:
                raise EntriesError(f"review item {review_id} cannot be stored: {errors[0].code} {errors[0].message}")
            from pathlib import Path

            prepared = Prepared(path=Path(file_name), sha256=sha, context=context, issues=[])
            store_entries(con, sid, prepared, rows, classified, order_ref)
            stored = len(classified.entries)
        con.execute(
            "UPDATE review_items SET status = 'resolved', resolution = ?, resolved_at = ? WHERE review_id = ?",
            [how, clock.now(), review_id],
        )
        remaining = con.execute(
            "SELECT count(*) FROM review_items WHERE submission_id = ? AND status = 'open'", [sid]
        ).fetchall()[0][0]
        now = con.execute("SELECT status FROM submissions WHERE submission_id = ?", [sid]).fetchall()[0][0]
        if remaining == 0 and now == str(Status.OCR_HANDLING_THIS):
            change_status(con, sid, Status.PROCESSING_COMPLETE, reason="every held row resolved")
            now = str(Status.PROCESSING_COMPLETE)
    return {
        "review_id": review_id,
        "resolution": how,
        "entries": stored,
        "submission_status": now,
        "submission_id": sid,
        "candidate_number": given_number,
    }


def free_candidate_number(con: duckdb.DuckDBPyConnection, centre: str, taken: set[str] | None = None) -> str:
    """The centre's lowest candidate number (0001-9999) that no candidate has and that is not in
    `taken` (numbers given out but not stored yet); one query."""
    found = con.execute(
        """SELECT min(n) FROM range(1, 10000) r(n)
           WHERE lpad(n::VARCHAR, 4, '0') NOT IN (SELECT candidate_number FROM candidates WHERE centre_number = ?)
             AND NOT list_contains(?::VARCHAR[], lpad(n::VARCHAR, 4, '0'))""",
        [centre, sorted(taken or set())],
    ).fetchall()[0][0]
    if found is None:
        raise EntriesError(f"centre {centre} has no free candidate number left (0001-9999 are all used)")
    return f"{int(found):04d}"
