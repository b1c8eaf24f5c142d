"""Uploads with errors to correct on screen (DESIGN §9): not submissions, so never `Read and rejected`.

The portal keeps such an upload here, with its template rows as read (`row` = the spreadsheet row
number) and its issues, until the centre submits the corrected rows (`drop`, once the hall has
recorded them) or discards them. A draft belongs to a centre: `load` returns it only for that
centre's users and operators, as every page checks.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from entries.core import clock
from entries.core.rules import Issue
from entries.store import database
from entries.store.database import Connection


@dataclass(frozen=True)
class UploadDraft:
    """An upload waiting for its centre's corrections: whose, which file, its rows and issues."""

    draft_id: int
    username: str
    centre: str
    file_name: str
    file_format: str
    order_ref: str | None
    rows: list[dict]
    issues: list[dict]  # row, column, code, severity, message, fix
    updated_at: dt.datetime
    annotated: str | None  # the file name of the centre's workbook with its errors in red, as first uploaded


def _issues_json(issues: list[Issue]) -> str:
    return json.dumps(
        [
            {
                "row": i.row,
                "column": i.column,
                "code": i.code,
                "severity": i.severity,
                "message": i.message,
                "fix": i.fix,
            }
            for i in issues
        ],
        ensure_ascii=False,
    )


def save(
    con: Connection,
    *,
    username: str,
    centre: str,
    file_name: str,
    file_format: str,
    order_ref: str | None,
    rows: list[dict],
    issues: list[Issue],
    annotated: str | None = None,
    draft_id: int | None = None,
) -> int:
    """Keep an upload to correct (a new draft with the name of its annotated copy, or `draft_id`'s
    rows and issues replaced); returns its id."""
    now = clock.now()
    rows_json = json.dumps(rows, ensure_ascii=False)
    with database.transaction(con):
        if draft_id is None:
            draft_id = int(con.execute("SELECT nextval('upload_draft_ids')").fetchall()[0][0])
            con.execute(
                """INSERT INTO upload_drafts (draft_id, username, centre, file_name, file_format, order_ref, rows_json,
                       issues_json, annotated, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    draft_id,
                    username,
                    centre,
                    file_name,
                    file_format,
                    order_ref,
                    rows_json,
                    _issues_json(issues),
                    annotated,
                    now,
                    now,
                ],
            )
        else:
            con.execute(
                "UPDATE upload_drafts SET rows_json = ?, issues_json = ?, updated_at = ? WHERE draft_id = ?",
                [rows_json, _issues_json(issues), now, draft_id],
            )
    return draft_id


def load(con: Connection, draft_id: int) -> UploadDraft | None:
    """The draft `draft_id` (None when there is none); the caller checks who may see its centre."""
    found = con.execute(
        """SELECT draft_id, username, centre, file_name, file_format, order_ref, rows_json, issues_json, updated_at,
                  annotated
           FROM upload_drafts WHERE draft_id = ?""",
        [draft_id],
    ).fetchall()
    if not found:
        return None
    d = found[0]
    return UploadDraft(d[0], d[1], d[2], d[3], d[4], d[5], json.loads(d[6]), json.loads(d[7]), d[8], d[9])


def waiting(con: Connection, centre: str | None) -> list[dict]:
    """The drafts of `centre` (every centre's for None), newest first: id, centre, file, when, and
    how many errors (no rows: a listing never shows a candidate)."""
    where, params = ("WHERE centre = ?", [centre]) if centre is not None else ("", [])
    return [
        {"draft_id": r[0], "centre": r[1], "file": r[2], "updated_at": r[3], "errors": int(r[4])}
        for r in con.execute(
            f"""SELECT draft_id, centre, file_name, updated_at,
                       len(list_filter(json_extract_string(issues_json, '$[*].severity'), lambda s: s = 'error'))
                FROM upload_drafts {where} ORDER BY updated_at DESC, draft_id DESC""",
            params,
        ).fetchall()
    ]


def drop(con: Connection, draft_id: int) -> None:
    """The draft is submitted (its rows recorded by the hall) or discarded."""
    with database.transaction(con):
        con.execute("DELETE FROM upload_drafts WHERE draft_id = ?", [draft_id])
