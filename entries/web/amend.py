"""Amend on screen, then Submit (the guide's "make the amendments to your entry information and then
click on 'Submit'"; DESIGN §9).

An upload whose every error is on a row is not a submission: `entries.web.portal.land_upload` keeps
it as a draft and the centre lands here. `GET /uploads/{draft_id}/amend` shows the rows with errors
as a form: each cell with an error is an input `cell:<row>:<column>` (the template's column name)
holding the cell's text, the row's other cells shown beside it, an error summary at the top linking
to each field. `POST` to the same URL applies the corrections (and `remove:<row>` drops a row) to
the file's rows and sends them all through the same hall again: the remaining errors come back the
same way, or the rows are recorded and the browser is sent to the submission's confirmation.
`GET /uploads/{draft_id}/annotated` is the centre's own workbook with its errors in red (as first
uploaded); `POST /uploads/{draft_id}/discard` throws the draft away. Another centre's draft is 404.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from entries.intake.headers import TEMPLATE_COLUMNS
from entries.pipeline import hall
from entries.store import upload_drafts
from entries.store.upload_drafts import UploadDraft
from entries.store.users import User
from entries.web.portal import checked_form, land_upload, page, portal_of, user_of

MAX_FIELDS = 20_000  # a cell a field: every row of a large file may need correcting
MAX_CELL = 500  # characters: longer than any template cell may be (the checks say so), short of abuse


def _id(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise HTTPException(404, "There is no such upload to correct.")
    return int(text)


def _draft(request: Request, user: User, draft_id: int) -> UploadDraft:
    with portal_of(request).store() as con:
        draft = upload_drafts.load(con, draft_id)
    if draft is None or not user.may_see(draft.centre):
        raise HTTPException(404, "There is no such upload to correct.")
    return draft


def field_id(row: int, column: str) -> str:
    """The HTML id of a cell's input (the error summary links to it)."""
    return f"cell-{row}-{re.sub(r'[^A-Za-z0-9]+', '-', column).strip('-').lower()}"


def amend_view(draft: UploadDraft) -> dict:
    """What the amend page shows: every row with an error (in row order), each with its cells
    (column, text, whether it is an input, its errors) and its errors; a row error that names no
    template column makes every cell of its row an input. Also the error summary's links."""
    errors_of: dict[int, list[dict]] = {}
    for found in draft.issues:
        if found["severity"] == "error" and found["row"] is not None:
            errors_of.setdefault(int(found["row"]), []).append(found)
    rows = []
    summary = []
    for record in sorted(draft.rows, key=lambda r: int(r["row"])):
        number = int(record["row"])
        errors = errors_of.get(number)
        if not errors:
            continue
        named = {e["column"] for e in errors if e["column"] in TEMPLATE_COLUMNS}
        whole_row = any(e["column"] not in TEMPLATE_COLUMNS for e in errors)
        cells = []
        for column in TEMPLATE_COLUMNS:
            mine = [e for e in errors if e["column"] == column]
            cells.append(
                {
                    "column": column,
                    "text": str(record.get(column, "") or ""),
                    "input": whole_row or column in named,
                    "name": f"cell:{number}:{column}",
                    "id": field_id(number, column),
                    "errors": mine,
                }
            )
        first_input = next(c["id"] for c in cells if c["input"])
        for e in errors:
            target = field_id(number, e["column"]) if e["column"] in TEMPLATE_COLUMNS else first_input
            summary.append({"row": number, "column": e["column"], "message": e["message"], "href": f"#{target}"})
        rows.append({"row": number, "cells": cells, "errors": errors, "remove": f"remove:{number}"})
    warnings = [i for i in draft.issues if i["severity"] != "error"]
    return {"rows": rows, "summary": summary, "warnings": warnings}


async def amend_page(request: Request) -> Response:
    user, _ = await user_of(request)
    draft = await run_in_threadpool(_draft, request, user, _id(request.path_params["draft_id"]))
    return page(request, "amend.html", {"user": user, "draft": draft, **amend_view(draft)})


def corrected(draft: UploadDraft, form: dict) -> list[dict]:
    """The draft's rows with the form's corrections: `cell:<row>:<column>` replaces that cell's
    text (only of a row and template column the file has), `remove:<row>` drops the row. Raises
    HTTPException(400) for a field that names no such cell or a value too long to be a cell."""
    by_row = {int(r["row"]): dict(r) for r in draft.rows}
    removed: set[int] = set()
    for name, value in form.items():
        if name == "csrf_token":
            continue
        kind, _, rest = name.partition(":")
        if kind == "remove":
            if not (rest.isdigit() and int(rest) in by_row):
                raise HTTPException(400, "The form names a row your file does not have: reload the page.")
            removed.add(int(rest))
            continue
        number, _, column = rest.partition(":")
        if kind != "cell" or not number.isdigit() or int(number) not in by_row or column not in TEMPLATE_COLUMNS:
            raise HTTPException(400, "The form names a cell your file does not have: reload the page.")
        if not isinstance(value, str) or len(value) > MAX_CELL:
            raise HTTPException(400, f"A corrected cell is longer than {MAX_CELL} characters.")
        by_row[int(number)][column] = value.strip()
    return [r for n, r in sorted(by_row.items()) if n not in removed]


async def amend(request: Request) -> Response:
    """POST /uploads/{draft_id}/amend: the corrections applied and the whole file checked again."""
    user, _ = await user_of(request)
    draft_id = _id(request.path_params["draft_id"])
    form = await checked_form(request, fields=MAX_FIELDS)
    portal = portal_of(request)
    draft = await run_in_threadpool(_draft, request, user, draft_id)
    rows = corrected(draft, form)
    if not rows:
        raise HTTPException(400, "Every row was removed: there is nothing left to submit. Discard the upload instead.")
    sent = hall.AmendedRows(name=draft.file_name, file_format=draft.file_format, rows=rows)
    landed = await run_in_threadpool(
        land_upload, portal, sent, draft.centre, draft.order_ref, user.username, draft.draft_id
    )
    if landed.draft_id is not None:
        return RedirectResponse(f"/uploads/{landed.draft_id}/amend", status_code=303)
    return RedirectResponse(f"/submissions/{landed.submission_id}?submitted=1", status_code=303)


async def annotated(request: Request) -> Response:
    """GET /uploads/{draft_id}/annotated: the centre's own workbook as uploaded, its errors in red."""
    user, _ = await user_of(request)
    draft = await run_in_threadpool(_draft, request, user, _id(request.path_params["draft_id"]))
    path = portal_of(request).out_dir / draft.centre / (draft.annotated or "")
    if not draft.annotated or not path.is_file():
        raise HTTPException(404, "That report was not written for this upload.")
    return FileResponse(path, filename=draft.annotated)


async def discard(request: Request) -> Response:
    """POST /uploads/{draft_id}/discard: the upload to correct is thrown away (nothing was recorded)."""
    user, _ = await user_of(request)
    draft_id = _id(request.path_params["draft_id"])
    await checked_form(request)
    draft = await run_in_threadpool(_draft, request, user, draft_id)

    def drop() -> None:
        with portal_of(request).store() as con:
            upload_drafts.drop(con, draft.draft_id)

    await run_in_threadpool(drop)
    return RedirectResponse("/uploads?discarded=1", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/uploads/{draft_id}/amend", amend_page, methods=["GET"]),
        Route("/uploads/{draft_id}/amend", amend, methods=["POST"]),
        Route("/uploads/{draft_id}/annotated", annotated, methods=["GET"]),
        Route("/uploads/{draft_id}/discard", discard, methods=["POST"]),
    ]
