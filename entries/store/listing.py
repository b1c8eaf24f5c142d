"""Read-only queries behind `entries list` and `entries history`: stored entries with their
candidates, and submissions with their counts of entries and their status changes.

Each function is one statement over the whole selection and returns plain values as stored (dates
as `datetime.date`, times as `datetime.datetime`); `entries.reports.listing` shapes them into the
documented JSON and files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from entries.store.database import Connection
from entries.store.withdrawals import LIVE

ENTRY_FIELDS = (
    "centre",
    "candidate_number",
    "uci",
    "surname",
    "forenames",
    "date_of_birth",
    "entry_code",
    "kind",
    "unit",
    "series",
    "fee_pence",
    "late",
    "order_ref",
    "candidate_group",
    "submission_id",
    "entry_id",
    "replaced_by",
)


def stored_entries(
    con: Connection, centre: str | None = None, series: str | None = None, uci: str | None = None
) -> list[dict]:
    """Stored live entries (withdrawn ones left out) with their candidates, keyed by ENTRY_FIELDS,
    sorted by centre, candidate, series, code and unit; None means any centre, series or UCI."""
    where, params = [LIVE], []
    for column, value in (("e.centre_number", centre), ("e.series", series), ("c.uci", uci)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    rows = con.execute(
        f"""SELECT e.centre_number, e.candidate_number, c.uci, c.surname, c.forenames, c.date_of_birth, e.entry_code,
                   e.kind, e.unit_number, e.series, e.fee_pence, e.late, e.order_ref, e.candidate_group, e.submission_id,
                   e.entry_id, e.replaced_by
            FROM entries e JOIN candidates c USING (candidate_id)
            WHERE {" AND ".join(where)}
            ORDER BY e.centre_number, e.candidate_number, e.series, e.entry_code, coalesce(e.unit_number, 0), e.entry_id""",
        params,
    ).fetchall()
    return [dict(zip(ENTRY_FIELDS, row, strict=True)) for row in rows]


@dataclass(frozen=True)
class SubmissionCounts:
    """One submission as the history lists it: its record, and its entries counted by kind (only
    the entries within the history's filters) with their fees, as entered; of those, how many were
    withdrawn since and the credit their withdrawals earned."""

    submission_id: int
    claim_number: str | None
    centre: str
    file_name: str
    sha256: str
    series: str | None
    order_ref: str | None
    received_on: dt.date
    status: str
    reason_code: str | None
    rows: int
    accepted: int
    rejected: int
    held: int
    full_award: int
    unit: int
    top_up: int
    move_down: int
    fees_pence: int
    withdrawn: int
    credit_pence: int


def submission_counts(
    con: Connection,
    centre: str | None = None,
    qualification: str | None = None,
    group: str | None = None,
    claim: str | None = None,
    *,
    search: str | None = None,
    group_search: str | None = None,
) -> list[SubmissionCounts]:
    """Each submission, newest first, with its entries counted by kind and its fees.

    `qualification` keeps submissions with entries leading to that qualification code (counts then
    cover those entries only); `group` likewise for a candidate group; `claim` keeps the one
    submission with that claim number; `centre` one centre's submissions. The portal's searches,
    ignoring case, spaces and punctuation: `search` keeps entries whose entry code, qualification
    code, entry title or qualification title holds the text ("diploma in it", "5841"), and
    `group_search` entries whose candidate group holds it ("12b" finds "12B")."""
    where, params = ["TRUE"], []
    if claim is not None:
        where.append("s.claim_number = ?")
        params.append(claim)
    entry_filter, entry_params = ["TRUE"], []
    if centre is not None:
        where.append("s.centre = ?")
        params.append(centre)
    if qualification is not None:
        entry_filter.append("e.qualification_code = ?")
        entry_params.append(qualification)
    if group is not None:
        entry_filter.append("e.candidate_group = ?")
        entry_params.append(group)
    text, group_text = _squashed(search), _squashed(group_search)
    if text:
        entry_filter.append("(" + " OR ".join(f"{_SQUASH.format(c)} LIKE ?" for c in _SEARCHED) + ")")
        entry_params += [f"%{text}%"] * len(_SEARCHED)
    if group_text:
        entry_filter.append(f"{_SQUASH.format('e.candidate_group')} LIKE ?")
        entry_params.append(f"%{group_text}%")
    filtered = qualification is not None or group is not None or bool(text) or bool(group_text)
    rows = con.execute(
        f"""WITH picked AS (SELECT e.* FROM entries e LEFT JOIN ref_entry_codes ec ON ec.entry_code = e.entry_code
                            LEFT JOIN ref_qualifications q ON q.qualification_code = e.qualification_code
                            WHERE {" AND ".join(entry_filter)}),
                 counts AS (SELECT submission_id, count(*) FILTER (WHERE kind = 'full_award') AS full_award,
                                   count(*) FILTER (WHERE kind = 'unit') AS unit, count(*) FILTER (WHERE kind = 'top_up') AS top_up,
                                   count(*) FILTER (WHERE kind = 'move_down') AS move_down, coalesce(sum(fee_pence), 0) AS fees_pence,
                                   count(w.entry_id) AS withdrawn, coalesce(sum(w.credit_pence), 0) AS credit_pence
                            FROM picked LEFT JOIN withdrawals w USING (entry_id) GROUP BY submission_id)
            SELECT s.submission_id, s.claim_number, s.centre, s.file_name, s.sha256, s.series, s.order_ref, s.received_on,
                   s.status, s.reason_code, s.rows, s.accepted, s.rejected, s.held,
                   coalesce(k.full_award, 0), coalesce(k.unit, 0), coalesce(k.top_up, 0), coalesce(k.move_down, 0),
                   coalesce(k.fees_pence, 0), coalesce(k.withdrawn, 0), coalesce(k.credit_pence, 0)
            FROM submissions s LEFT JOIN counts k USING (submission_id)
            WHERE {" AND ".join(where)} {"AND k.submission_id IS NOT NULL" if filtered else ""}
            ORDER BY s.received_on DESC, s.submission_id DESC""",
        [*entry_params, *params],
    ).fetchall()
    return [SubmissionCounts(*row) for row in rows]


# A column as the portal's searches compare it: lower case, letters and digits only.
_SQUASH = "regexp_replace(lower(coalesce({}, '')), '[^a-z0-9]', '', 'g')"
_SEARCHED = ("e.entry_code", "e.qualification_code", "ec.title", "q.title")


def _squashed(text: str | None) -> str:
    """`text` as the searches compare it (lower case, letters and digits only; "" for None)."""
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


@dataclass(frozen=True)
class StatusChange:
    """One recorded change of a submission's status, with its reason code and time."""

    status: str
    reason_code: str | None
    changed_at: dt.datetime


def status_changes(con: Connection, submission_ids: list[int]) -> dict[int, list[StatusChange]]:
    """The status changes of the submissions `submission_ids` in the order recorded, by submission
    id (one query; a submission without changes is absent)."""
    changes: dict[int, list[StatusChange]] = {}
    if not submission_ids:
        return changes
    for sid, status, code, at in con.execute(
        """SELECT submission_id, status, reason_code, changed_at FROM submission_status
           WHERE submission_id IN (SELECT unnest(?::INTEGER[])) ORDER BY submission_id, seq""",
        [submission_ids],
    ).fetchall():
        changes.setdefault(sid, []).append(StatusChange(status, code, at))
    return changes
