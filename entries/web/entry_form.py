"""The web-based entry form (guide: "Using the web-based form"): select assessment, select
candidates, entry options, summary, submit.

A draft is kept in the store for its user (entries.store.drafts) until submitted or cancelled, so
it survives a portal restart. Candidate searches are POSTed (names and UCIs never go in a URL). The
form's candidates go to the hall as template rows (`hall.FormRows`, never through a file): the
summary is the hall's dry run, so it shows each entry's fee (standard or late), the total, and what
is already on record; Submit sends the same rows through the hall as an upload goes (same checks,
same commit, same statuses): top-up only after a full award, moving down only with the units
achieved, exactly as for uploads.

The steps live beside this module: the draft and its keeping in `entries.web.entry_draft`, the
candidates step in `entries.web.entry_candidates`, the draft as the hall's rows in
`entries.web.entry_rows`. Here: starting the form, the assessment, the options, the summary,
submitting or cancelling, and the form's routes.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from entries.core import clock
from entries.pipeline import hall
from entries.store import drafts, entry_choices, qualifications, refdata
from entries.store.users import User
from entries.web.entry_candidates import add_found, add_group, add_new, candidates_page, make_group, search
from entries.web.entry_draft import draft_page, go_to, load_draft
from entries.web.entry_rows import form_rows, summary_lines
from entries.web.pages import submission_page
from entries.web.portal import checked_form, ingest_upload, portal_of, user_of

MAX_UNITS = 3  # unit entries for up to three units at once, as the guide's form allows


async def new(request: Request) -> Response:
    """Start the form, or go back to the entry in progress (Exit and cancel, on the summary, ends
    it): a GET never throws a draft away."""
    user, draft = await load_draft(request, create=True)
    if draft.people or draft.entry_code is not None:
        draft.messages.append("You have an entry in progress: carry on, or Exit and cancel it on its summary.")
    return await go_to(request, user, draft, "/entries/assessment")


async def assessment_page(request: Request) -> Response:
    user, draft = await load_draft(request)
    text = (request.query_params.get("q") or "").strip()[:60]

    def load() -> list[dict]:
        with portal_of(request).store() as con:
            return qualifications.search(con, text, draft.centre)

    found = await run_in_threadpool(load)
    return await draft_page(request, "entry_assessment.html", user, draft, found=found, q=text)


async def choose_assessment(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    code = str(form.get("entry_code") or "").strip().upper()

    def check() -> tuple[str, str] | None:
        with portal_of(request).store() as con:
            return entry_choices.approved_entry(con, draft.centre, code)

    found = await run_in_threadpool(check)
    if found is None:
        draft.messages.append("Choose an entry code your centre is approved for.")
        return await go_to(request, user, draft, "/entries/assessment")
    draft.entry_code, (draft.entry_title, draft.entry_kind) = code, found
    for person in draft.people.values():
        person.option = ("full", ()) if draft.entry_kind != "full_award" else None
    return await go_to(request, user, draft, "/entries/candidates")


async def options_page(request: Request) -> Response:
    user, draft = await load_draft(request)
    if draft.entry_code is None:
        return await go_to(request, user, draft, "/entries/assessment")

    def load() -> list[int]:
        with portal_of(request).store() as con:
            return entry_choices.examined_units(con, draft.entry_code or "")

    units = await run_in_threadpool(load)
    return await draft_page(request, "entry_options.html", user, draft, units=units, slots=range(1, MAX_UNITS + 1))


async def set_options(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    keys = form.get("key")
    chosen = [k for k in (keys if isinstance(keys, list) else [keys] if keys else []) if k in draft.people]
    kind = form.get("option")
    units = tuple(
        sorted(
            {
                int(v)
                for n in range(1, MAX_UNITS + 1)
                if re.fullmatch(r"[0-9]{1,3}", v := str(form.get(f"unit_{n}") or ""))
            }
        )
    )
    if not chosen:
        draft.messages.append("Tick the candidates the option is for.")
    elif kind == "units" and (not units or draft.entry_kind != "full_award"):
        draft.messages.append("Choose one to three units (unit entries are made with a qualification's own code).")
    elif kind in ("full", "units"):
        for k in chosen:
            draft.people[k].option = (kind, units if kind == "units" else ())
        left = sum(1 for p in draft.people.values() if p.option is None)
        draft.messages.append(f"Option set for {len(chosen)} candidate(s); {left} still without an option.")
    return await go_to(
        request, user, draft, "/entries/summary" if all(p.option for p in draft.people.values()) else "/entries/options"
    )


async def summary_page(request: Request) -> Response:
    user, draft = await load_draft(request)
    if not draft.people or draft.entry_code is None:
        draft.messages.append("Add candidates first.")
        return await go_to(request, user, draft, "/entries/candidates")
    if any(p.option is None for p in draft.people.values()):
        return await go_to(request, user, draft, "/entries/options")
    portal = portal_of(request)

    def dry() -> tuple[object, list[dict]]:
        with portal.store() as con:
            reference = refdata.snapshot(con)
        prepared = hall.prepare(form_rows(draft), hall.context_for(reference, draft.centre, clock.today()), reference)
        with portal.store() as con:
            outcome = hall.finish(
                con, prepared, reference, order_ref=draft.order_ref or None, out_dir=portal.out_dir, dry_run=True
            )
        return outcome, summary_lines(outcome.preview)

    outcome, lines = await run_in_threadpool(dry)
    return await draft_page(request, "entry_summary.html", user, draft, outcome=outcome, lines=lines)


async def remove(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    person = draft.people.pop(str(form.get("key") or ""), None)
    if person is not None:
        draft.messages.append(f"Candidate {person.candidate_number} removed.")
    return await go_to(request, user, draft, "/entries/summary" if draft.people else "/entries/candidates")


async def order(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    draft.order_ref = re.sub(r"[\x00-\x1f]", "", str(form.get("order_ref") or ""))[:100].strip()
    return await go_to(request, user, draft, "/entries/summary")


async def cancel(request: Request) -> Response:
    await checked_form(request)
    user, _ = await user_of(request)
    await run_in_threadpool(_drop, request, user)
    return RedirectResponse("/", status_code=303)


def _drop(request: Request, user: User) -> None:
    with portal_of(request).store() as con:
        drafts.drop(con, user.username)


async def submit(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    if form.get("order_ref") is not None:
        draft.order_ref = str(form.get("order_ref") or "")[:100].strip()
    if not draft.people or any(p.option is None for p in draft.people.values()):
        return await go_to(request, user, draft, "/entries/summary")
    submission_id = await run_in_threadpool(
        ingest_upload, portal_of(request), form_rows(draft), draft.centre, draft.order_ref or None
    )
    await run_in_threadpool(_drop, request, user)
    return await submission_page(request, user, submission_id, just_uploaded=True)


def routes() -> list[Route]:
    return [
        Route("/entries/new", new),
        Route("/entries/assessment", assessment_page, methods=["GET"]),
        Route("/entries/assessment", choose_assessment, methods=["POST"]),
        Route("/entries/candidates", candidates_page, methods=["GET"]),
        Route("/entries/candidates/search", search, methods=["POST"]),
        Route("/entries/candidates/add", add_found, methods=["POST"]),
        Route("/entries/candidates/group", add_group, methods=["POST"]),
        Route("/entries/candidates/new", add_new, methods=["POST"]),
        Route("/entries/groups", make_group, methods=["POST"]),
        Route("/entries/options", options_page, methods=["GET"]),
        Route("/entries/options", set_options, methods=["POST"]),
        Route("/entries/summary", summary_page, methods=["GET"]),
        Route("/entries/remove", remove, methods=["POST"]),
        Route("/entries/order", order, methods=["POST"]),
        Route("/entries/cancel", cancel, methods=["POST"]),
        Route("/entries/submit", submit, methods=["POST"]),
    ]
