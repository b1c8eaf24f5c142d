"""The web-based entry form (guide: "Using the web-based form"): select assessment, select
candidates, entry options, summary, submit.

A draft is kept in the store for its user (entries.store.drafts) until submitted or cancelled, so
it survives a portal restart. Candidate searches are POSTed (names and UCIs never go in a URL). The
form's candidates go to the hall as template rows (`hall.FormRows`, never through a file): the
summary is the hall's dry run, so it shows each entry's fee (standard or late), the total, and what
is already on record; Submit sends the same rows through the hall as an upload goes (same checks,
same commit, same statuses): top-up only after a full award, moving down only with the units
achieved, exactly as for uploads.

Every POST answers 303 to a GET page (Submit to the submission's own page), so a refresh never
posts again; a value the pages cannot send is a 400 page, a slip an officer can make a message
beside its field. Entry options never guess money: ticking units is a unit entry of those units,
and "Full award entry" chosen with units ticked is refused, nothing changed, until one is undone.

The steps live beside this module: the draft and its keeping in `entries.web.entry_draft`, the
candidates step in `entries.web.entry_candidates`, the draft as the hall's rows in
`entries.web.entry_rows`. Here: starting the form, the assessment, the options, the summary,
submitting or cancelling, and the form's routes.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from entries.core import clock
from entries.pipeline import hall
from entries.store import drafts, entry_choices, qualifications, refdata
from entries.store.users import User
from entries.web.entry_candidates import add_found, add_group, add_new, candidates_page, make_group, search
from entries.web.entry_draft import Draft, draft_page, go_to, load_draft, many, one
from entries.web.entry_rows import form_rows, summary_lines
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
    code = one(form, "entry_code").strip().upper()[:20]

    def check() -> tuple[str, str] | None:
        with portal_of(request).store() as con:
            return entry_choices.approved_entry(con, draft.centre, code)

    found = await run_in_threadpool(check)
    if found is None:
        draft.problems["entry_code"] = "Choose one of the entry codes listed: your centre is approved for these."
        return await go_to(request, user, draft, "/entries/assessment")
    draft.entry_code, (draft.entry_title, draft.entry_kind) = code, found
    for person in draft.people.values():
        person.option = ("full", ()) if draft.entry_kind != "full_award" else None
    return await go_to(request, user, draft, "/entries/candidates")


async def options_page(request: Request) -> Response:
    user, draft = await load_draft(request)
    if draft.entry_code is None:
        return await go_to(request, user, draft, "/entries/assessment")
    if not draft.people:
        draft.messages.append("Add candidates first.")
        return await go_to(request, user, draft, "/entries/candidates")
    units = await run_in_threadpool(_examined_units, request, draft)
    return await draft_page(request, "entry_options.html", user, draft, units=units, max_units=MAX_UNITS)


def _examined_units(request: Request, draft: Draft) -> list[tuple[int, str]]:
    """(unit number, title) of the examined units a unit entry of the draft's code may choose."""
    with portal_of(request).store() as con:
        numbers = entry_choices.examined_units(con, draft.entry_code or "")
        reference = refdata.snapshot(con) if numbers else None
    if reference is None:
        return []
    codes, quals, units = (reference.tables[t] for t in ("entry_codes", "qualifications", "units"))
    qualification = codes.loc[codes["entry_code"] == draft.entry_code, "qualification_code"].iloc[0]
    suite = quals.loc[quals["qualification_code"] == qualification, "suite_id"].iloc[0]
    mine = units[units["suite_id"] == suite]
    titles = {int(n): str(t) for n, t in zip(mine["unit_number"], mine["title"], strict=True)}
    return [(n, titles.get(n, "")) for n in numbers]


def choose_option(
    entry_kind: str, option: str, ticked_units: list[str], examined: list[int]
) -> tuple[tuple[str, tuple[int, ...]] | None, str, str]:
    """What the options form asks for: (the option, "", "") or (None, field, why it is refused).

    `option` is the radio button ("full", "units", or "" when none was chosen) and `ticked_units`
    the unit boxes ticked. Units ticked are a unit entry of those units, with the radio on "Unit
    entry" or on nothing; with the radio on "Full award entry" they contradict it, and which one
    was meant decides the fee, so it is refused rather than guessed. Nothing chosen is ("", "", "")
    with no option: the caller decides whether that is a problem.
    """
    if option not in ("", "full", "units"):
        raise HTTPException(400, "The form sent an entry option it does not offer: reload the page and try again.")
    if ticked_units and entry_kind != "full_award":
        return None, "unit", "Unit entries are made with a qualification's own (full award) code, not this one."
    offered = {str(u) for u in examined}
    odd = [u for u in ticked_units if u not in offered]
    if odd:
        return None, "unit", f"Unit {odd[0][:10]} is not an examined unit of this qualification: tick units listed."
    units = tuple(sorted({int(u) for u in ticked_units}))
    named = _units_in_words(units)
    if option == "full" and units:
        return (
            None,
            "option",
            f"You chose ‘Full award entry’ but also ticked {named}. Choose ‘Unit entry’ to enter "
            f"{named} only, or untick the units for a full award entry. Nothing was changed.",
        )
    if len(units) > MAX_UNITS:
        return None, "unit", f"Tick at most {MAX_UNITS} units: the form makes up to {MAX_UNITS} unit entries at once."
    if units:
        return ("units", units), "", ""
    if option == "units":
        return None, "unit", f"Tick the units to enter (one to {MAX_UNITS}) for a unit entry."
    if option == "full":
        return ("full", ()), "", ""
    return None, "", ""


def _units_in_words(units: tuple[int, ...]) -> str:
    listed = [str(u) for u in units]
    if len(listed) <= 1:
        return "unit " + "".join(listed)
    return "units " + ", ".join(listed[:-1]) + " and " + listed[-1]


async def set_options(request: Request) -> Response:
    """Apply the option chosen to the ticked candidates; `then=next` (the step's Next button) also
    goes on to the summary once every candidate has an option."""
    form = await checked_form(request)
    user, draft = await load_draft(request)
    then_next = one(form, "then") == "next"
    keys, option, ticked_units = many(form, "key")[:500], one(form, "option"), many(form, "unit")[:50]
    examined = [n for n, _ in await run_in_threadpool(_examined_units, request, draft)]
    chosen, field, problem = choose_option(draft.entry_kind, option, ticked_units, examined)
    ticked = [k for k in keys if k in draft.people]
    left = sum(1 for p in draft.people.values() if p.option is None)
    if chosen is None and not field:  # nothing chosen
        if then_next and not left:
            return await go_to(request, user, draft, "/entries/summary")
        field = "option"
        problem = (
            f"Choose ‘Full award entry’ or ‘Unit entry’ for the {left} candidate(s) still without an option."
            if left
            else "Choose ‘Full award entry’ or ‘Unit entry’ for the ticked candidates."
        )
    elif chosen is not None and not ticked:
        field = "key"
        problem = (
            "Tick the candidates this option is for."
            if not keys
            else "The ticked candidates are no longer in this entry."
        )
    if chosen is None or not ticked:
        draft.problems[field] = problem
        draft.tried = {"ticked": ticked, "option": option, "units": [u for u in ticked_units if u.isdigit()]}
        return await go_to(request, user, draft, f"/entries/options#{field}")
    for k in ticked:
        draft.people[k].option = chosen
    left = sum(1 for p in draft.people.values() if p.option is None)
    said = draft.option_text(draft.people[ticked[0]])
    draft.messages.append(f"Option set for {len(ticked)} candidate(s): {said}. {left} still without an option.")
    if then_next and not left:
        return await go_to(request, user, draft, "/entries/summary")
    return await go_to(request, user, draft, "/entries/options")


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
    person = draft.people.pop(one(form, "key"), None)
    if person is not None:
        draft.messages.append(f"Candidate {person.candidate_number} removed.")
    return await go_to(request, user, draft, "/entries/summary" if draft.people else "/entries/candidates")


async def order(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    draft.order_ref = _order_ref(one(form, "order_ref"))
    return await go_to(request, user, draft, "/entries/summary")


def _order_ref(text: str) -> str:
    """An order number as kept: no control characters, at most 100 characters."""
    return re.sub(r"[\x00-\x1f\x7f]", "", text)[:100].strip()


async def cancel(request: Request) -> Response:
    await checked_form(request)
    user, _ = await user_of(request)
    await run_in_threadpool(_drop, request, user)
    return RedirectResponse("/", status_code=303)


def _drop(request: Request, user: User) -> None:
    with portal_of(request).store() as con:
        drafts.drop(con, user.username)


async def submit(request: Request) -> Response:
    """Send the draft through the hall, then 303 to the submission's page: a refresh of that page
    is a GET, never the entries sent again."""
    form = await checked_form(request)
    user, draft = await load_draft(request)
    if form.get("order_ref") is not None:
        draft.order_ref = _order_ref(one(form, "order_ref"))
    if not draft.people or any(p.option is None for p in draft.people.values()):
        return await go_to(request, user, draft, "/entries/summary")
    submission_id = await run_in_threadpool(
        ingest_upload, portal_of(request), form_rows(draft), draft.centre, draft.order_ref or None
    )
    await run_in_threadpool(_drop, request, user)
    return RedirectResponse(f"/submissions/{submission_id}?submitted=1", status_code=303)


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
