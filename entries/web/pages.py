"""The portal's submission pages: one submission (404 for another centre's, never a 403 that would
confirm it exists), its reports, withdrawing its entries, the centre's history, and the operators'
review queue."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from entries.core import clock
from entries.reports.confirmation import submission_stem
from entries.reports.listing import submission_history
from entries.store import review, submission_view, upload_drafts
from entries.store.database import Connection
from entries.store.users import User
from entries.store.withdrawals import EntryNotFound, Selection, WithdrawalRefused
from entries.store.withdrawals import withdraw as withdraw_entries
from entries.web.portal import checked_form, page, portal_of, user_of


def _submission(con: Connection, user: User, submission_id: int, out_dir: Path) -> dict:
    """The submission as its page shows it; 404 when it is not this user's to see."""
    sub = submission_view.submission(con, submission_id)
    if sub is None or not user.may_see(sub["centre"]):
        raise HTTPException(404, "There is no such submission.")
    stem = submission_stem(con, submission_id)
    sub["reports"] = {
        kind: name
        for kind, name in (
            ("confirmation", f"{stem}.confirmation.xlsx"),
            ("confirmation_csv", f"{stem}.confirmation.csv"),
            ("annotated", f"{stem}.annotated.xlsx"),
            ("errors", f"{stem}.errors.csv"),
        )
        if (out_dir / sub["centre"] / name).is_file()
    }
    return sub


async def submission_page(request: Request, user: User, submission_id: int, just_uploaded: bool = False) -> Response:
    def load() -> dict:
        with portal_of(request).store() as con:
            return _submission(con, user, submission_id, portal_of(request).out_dir)

    sub = await run_in_threadpool(load)
    return page(request, "submission.html", {"user": user, "sub": sub, "just_uploaded": just_uploaded})


async def submission(request: Request) -> Response:
    user, _ = await user_of(request)
    # Landed here from an upload (or a corrected upload) just sent: its page says so.
    just = "uploaded" in request.query_params or "submitted" in request.query_params
    return await submission_page(request, user, _id(request.path_params["submission_id"]), just_uploaded=just)


def _id(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise HTTPException(404, "There is no such submission.")
    return int(text)


async def submission_report(request: Request) -> Response:
    user, _ = await user_of(request)
    sid = _id(request.path_params["submission_id"])
    kind = request.path_params["kind"]

    def load() -> dict:
        with portal_of(request).store() as con:
            return _submission(con, user, sid, portal_of(request).out_dir)

    sub = await run_in_threadpool(load)
    name = sub["reports"].get(kind)
    if name is None:
        raise HTTPException(404, "That report was not written for this submission.")
    return FileResponse(portal_of(request).out_dir / sub["centre"] / name, filename=name)


async def submissions(request: Request) -> Response:
    user, _ = await user_of(request)
    q = request.query_params
    centre = user.centre if not user.is_operator else (q.get("centre") or None)
    qualification = (q.get("qualification") or "").strip() or None
    group = (q.get("group") or "").strip() or None
    status = q.get("status") or None

    def load() -> tuple[list[dict], list[dict]]:
        with portal_of(request).store() as con:
            found = submission_history(con, centre, search=qualification, group_search=group)
            return found, upload_drafts.waiting(con, centre)

    found, waiting = await run_in_threadpool(load)
    if status:
        found = [s for s in found if s["status"] == status]
    filters = {
        "qualification": qualification or "",
        "group": group or "",
        "status": status or "",
        "centre": centre or "",
    }
    return page(
        request,
        "submissions.html",
        {"user": user, "subs": found, "filters": filters, "waiting": [] if status else waiting},
    )


async def review_queue(request: Request) -> Response:
    user, _ = await user_of(request)
    if not user.is_operator:
        raise HTTPException(404, "There is no such page.")

    def load() -> list[dict]:
        with portal_of(request).store() as con:
            return review.open_items(con)

    return page(request, "review.html", {"user": user, "items": await run_in_threadpool(load)})


async def withdraw(request: Request) -> Response:
    """POST /submissions/{id}/withdraw (fields `entry_id`, repeatable, and `csrf_token`): withdraw
    those live entries of the submission, recorded as done by this portal user, and show the page
    with the credit. 404 for another centre's submission or an entry not of this submission; a
    refusal (already withdrawn, a top-up rests on one) is said on the page, nothing changed."""
    user, _ = await user_of(request)
    sid = _id(request.path_params["submission_id"])
    form = await checked_form(request)
    sent = form.get("entry_id")
    asked = sent if isinstance(sent, list) else ([] if sent is None else [sent])
    if not all(isinstance(v, str) and re.fullmatch(r"[0-9]{1,9}", v) for v in asked):
        raise HTTPException(404, "There is no such entry.")
    portal = portal_of(request)

    def act() -> tuple[dict, list, str | None]:
        with portal.store() as con:
            sub = _submission(con, user, sid, portal.out_dir)  # 404 first: another centre's is not said
            done: list = []
            refused = None
            if not asked:
                refused = "Choose the entries to withdraw."
            else:
                selection = Selection(
                    centre=sub["centre"], submission_id=sid, entry_ids=tuple(sorted({int(v) for v in asked}))
                )
                try:
                    done = withdraw_entries(con, selection, on=clock.today(), by_whom=f"portal {user.username}")
                except EntryNotFound:
                    raise HTTPException(404, "There is no such entry.") from None
                except WithdrawalRefused as exc:
                    refused = str(exc)
            return _submission(con, user, sid, portal.out_dir), done, refused

    sub, done, refused = await run_in_threadpool(act)
    context = {
        "user": user,
        "sub": sub,
        "just_uploaded": False,
        "withdrawn_now": done,
        "withdrawn_credit_pence": sum(w.credit_pence for w in done),
        "withdraw_refused": refused,
    }
    return page(request, "submission.html", context, 200 if refused is None else 409)
