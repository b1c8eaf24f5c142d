"""Rows held for the operations team: list them, and resolve each as an existing candidate, a new
candidate, or a rejection. When a submission has no open item left, it is Processing complete."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from entries.checks.classify import Classified, History
from entries.checks.validate import Context
from entries.core import clock
from entries.core.errors import EntriesError, UsageError
from entries.core.status import Status
from entries.store.commit import load_history, store_entries
from entries.store.database import Connection
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


def open_items(con: Connection) -> list[dict]:
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


@dataclass(frozen=True)
class Held:
    """One open review item, as the hall needs it to resolve: its rows (normalised, with the
    candidate key the resolution gives them), the candidates' history, and the submission's context."""

    review_id: int
    submission_id: int
    how: str
    rows: pd.DataFrame
    history: History
    context: Context
    order_ref: str | None
    given_number: str | None


def take_up(con: Connection, review_id: int, how: str) -> Held:
    """Read held item `review_id` for resolving it `how`; refuses a resolution that does not fit it.

    existing: the rows' entries go to the candidate on record (never another centre's: a UCI on
    record elsewhere, CAND_04, has no candidate to attach to); new: a new candidate is created (for
    a probable duplicate, CAND_01, or a UCI on record elsewhere, CAND_04); new-number: a new
    candidate with the centre's lowest free candidate number (for a number that belongs to someone
    else, CAND_03, or a probable duplicate); reject: the rows are dropped. Call inside the
    transaction that stores the resolution."""
    if how not in RESOLUTIONS:
        raise UsageError(f"--as must be one of {', '.join(RESOLUTIONS)}")
    found = con.execute(
        """SELECT r.submission_id, r.reason_code, r.rows_json, r.match_candidate_id, r.status,
                  s.centre, s.series, s.received_on, s.order_ref
           FROM review_items r JOIN submissions s USING (submission_id) WHERE r.review_id = ?""",
        [review_id],
    ).fetchall()
    if not found:
        raise UsageError(f"no review item {review_id}; see 'entries review list'")
    sid, code, rows_json, match_id, status, centre, series, received_on, order_ref = found[0]
    if status != "open":
        raise EntriesError(f"review item {review_id} is already resolved ({status})")
    if how == "new" and code not in ("CAND_01", "CAND_04"):
        raise EntriesError(
            f"review item {review_id} ({code}) clashes with a candidate on record: resolve it as existing or reject"
        )
    if how == "new-number" and code in ("CAND_02", "CAND_04"):
        raise EntriesError(
            f"review item {review_id} ({code}) is about a UCI, not a candidate number: resolve it as {'new' if code == 'CAND_04' else 'existing'} or reject"
        )
    if how == "existing" and match_id is None:
        raise EntriesError(f"review item {review_id} has no candidate on record to attach to")
    rows = pd.DataFrame(json.loads(rows_json))
    if "series" not in rows.columns:  # held before rows carried their own series
        rows["series"] = series
    rows["date_of_birth"] = pd.to_datetime(rows["date_of_birth"]).astype("datetime64[s]")
    for n in range(1, 7):
        rows[f"unit_{n}"] = rows[f"unit_{n}"].astype("Int64")
    given_number: str | None = None
    history = load_history(con, [])
    if how == "existing":
        # One number per candidate at a centre: the entries take the number on record.
        rows["candidate_number"] = con.execute(
            "SELECT candidate_number FROM candidates WHERE candidate_id = ?", [int(match_id)]
        ).fetchall()[0][0]
        history = load_history(con, [int(match_id)])
    elif how == "new-number":
        given_number = free_candidate_number(con, centre)
        rows["candidate_number"] = given_number
    rows["cand_key"] = int(match_id) if how == "existing" else -1
    context = Context(centre=centre, series=series, received_on=received_on)
    return Held(review_id, sid, how, rows, history, context, order_ref, given_number)


def settle(con: Connection, held: Held, classified: Classified | None) -> dict:
    """Store the resolution of `held` (its classified entries, none for a rejection), and move the
    submission on to Processing complete when no open item is left. Call inside the transaction
    `take_up` was called in. Returns {"review_id", "resolution", "entries", "submission_status",
    "submission_id", "candidate_number"}."""
    stored = 0
    if classified is not None:
        store_entries(con, held.submission_id, held.rows, classified, held.order_ref)
        stored = len(classified.entries)
    con.execute(
        "UPDATE review_items SET status = 'resolved', resolution = ?, resolved_at = ? WHERE review_id = ?",
        [held.how, clock.now(), held.review_id],
    )
    remaining = con.execute(
        "SELECT count(*) FROM review_items WHERE submission_id = ? AND status = 'open'", [held.submission_id]
    ).fetchall()[0][0]
    now = con.execute("SELECT status FROM submissions WHERE submission_id = ?", [held.submission_id]).fetchall()[0][0]
    if remaining == 0 and now == str(Status.OCR_HANDLING_THIS):
        change_status(con, held.submission_id, Status.PROCESSING_COMPLETE, reason="every held row resolved")
        now = str(Status.PROCESSING_COMPLETE)
    return {
        "review_id": held.review_id,
        "resolution": held.how,
        "entries": stored,
        "submission_status": now,
        "submission_id": held.submission_id,
        "candidate_number": held.given_number,
    }


def free_candidate_number(con: Connection, centre: str, taken: set[str] | None = None) -> str:
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
