"""The web entry form's candidates step (guide: "Using the web-based form", select candidates):
search the centre's candidates, add those found or a whole group, make a group, add a new one.

In: the posted form and the user's draft. Out: the draft with the candidates added (searches are
POSTed: names and UCIs never go in a URL), then the browser sent back to the step. A new
candidate's UCI and ULN are checked as on upload, and a probable duplicate is pointed out first.
Only the user's own centre is searched; another centre's ids are dropped.
"""

from __future__ import annotations

import datetime as dt
import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from entries.checks.validate import validate
from entries.core import clock
from entries.pipeline import hall
from entries.store import candidate_search, entry_choices, refdata
from entries.store.matching import match_candidates
from entries.store.review import free_candidate_number
from entries.web.entry_draft import Draft, Person, draft_page, go_to, load_draft
from entries.web.entry_rows import template_row
from entries.web.portal import checked_form, portal_of


async def candidates_page(request: Request) -> Response:
    user, draft = await load_draft(request)
    if draft.entry_code is None:
        return await go_to(request, user, draft, "/entries/assessment")

    def load() -> list[tuple[str, int]]:
        with portal_of(request).store() as con:
            return candidate_search.groups(con, draft.centre)

    groups = await run_in_threadpool(load)
    return await draft_page(
        request, "entry_candidates.html", user, draft, groups=groups, within=list(candidate_search.ADDED_WITHIN)
    )


async def search(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    text = str(form.get("text") or "")[:80]
    within = str(form.get("added_within") or "") or None

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.search(con, draft.centre, text, within)

    draft.found = await run_in_threadpool(load)
    if not draft.found:
        draft.messages.append("No candidate matches: change the search, or add a new candidate below.")
    return await go_to(request, user, draft, "/entries/candidates")


def _add(draft: Draft, found: list[candidate_search.Candidate]) -> int:
    added = 0
    for c in found:
        key = f"c{c.candidate_id}"
        if key not in draft.people:
            draft.people[key] = Person(
                key,
                c.candidate_id,
                c.candidate_number,
                c.uci or "",
                c.uln or "",
                c.surname,
                c.forenames,
                c.sex,
                c.date_of_birth,
                c.candidate_group,
                option=("full", ()) if draft.entry_kind not in ("", "full_award") else None,
            )
            added += 1
    return added


def _ids(values: object) -> list[int]:
    listed = values if isinstance(values, list) else [values] if values else []
    return [int(v) for v in listed if isinstance(v, str) and re.fullmatch(r"[0-9]{1,9}", v)][:500]


async def add_found(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    ids = _ids(form.get("candidate_id"))

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.by_ids(con, draft.centre, ids)  # another centre's ids are dropped

    draft.messages.append(f"{_add(draft, await run_in_threadpool(load))} candidate(s) added.")
    return await go_to(request, user, draft, "/entries/candidates")


async def add_group(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    name = str(form.get("group") or "")

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.in_group(con, draft.centre, name)

    draft.messages.append(f"{_add(draft, await run_in_threadpool(load))} candidate(s) of group {name} added.")
    return await go_to(request, user, draft, "/entries/candidates")


async def make_group(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    name = str(form.get("name") or "")
    ids = [p.candidate_id for p in draft.people.values() if p.candidate_id is not None]

    def save() -> int:
        with portal_of(request).store() as con:
            return candidate_search.make_group(con, draft.centre, name, ids)

    joined = await run_in_threadpool(save)
    draft.messages.append(f"Group {name.strip()} made with {joined} candidate(s) on record.")
    return await go_to(request, user, draft, "/entries/candidates")


async def add_new(request: Request) -> Response:
    """A new candidate: UCI and ULN checked as on upload; a probable duplicate is pointed out first."""
    form = await checked_form(request)
    user, draft = await load_draft(request)
    raw = {
        k: str(form.get(k) or "").strip()
        for k in ("candidate_number", "uci", "uln", "surname", "forenames", "sex", "date_of_birth", "group")
    }
    confirmed = form.get("confirm_new") == "yes" and draft.suspect is not None
    if confirmed and draft.suspect is not None:
        raw = dict(draft.suspect)
    portal = portal_of(request)

    def check() -> tuple[list[str], dict | None, str]:
        with portal.store() as con:
            reference = refdata.snapshot(con)
            in_draft = {p.candidate_number for p in draft.people.values()}
            number = (
                raw["candidate_number"].zfill(4)
                if raw["candidate_number"]
                else free_candidate_number(con, draft.centre, taken=in_draft)
            )
            if number in in_draft:
                return [f"Candidate number {number} is already in this entry."], None, number
            person = {**raw, "candidate_number": number, "entry_code": draft.entry_code or ""}
            ctx = hall.context_for(reference, draft.centre, clock.today())
            checked = validate(hall.FormRows("new candidate", [template_row(draft, person)]).frame(), ctx, reference)
            person_codes = ("CEN", "CAN", "UCI", "ULN", "NAM", "SEX", "DOB", "CELL")
            errors = [
                f"{i.column or ''}: {i.message} {i.fix}"
                for i in checked.issues
                if i.severity == "error" and i.code.split("_")[0] in person_codes
            ]
            if errors:
                return errors, None, number
            if entry_choices.number_taken(con, draft.centre, number):
                return (
                    [
                        f"Candidate number {number} is already used at your centre: search for that candidate, "
                        "or leave the number blank to be given a free one."
                    ],
                    None,
                    number,
                )
            if raw["uci"].strip() and entry_choices.uci_elsewhere(con, draft.centre, raw["uci"]):
                # Said the same way whatever else is on record: the form must not let one centre
                # learn anything about another's candidates.
                return (
                    [
                        "This UCI is on record at another centre. If the candidate has moved to your centre, "
                        "upload their entry in a spreadsheet or call the OCR Customer Contact Centre."
                    ],
                    None,
                    number,
                )
            matches = match_candidates(con, draft.centre, checked.rows)
            holds = matches.table[matches.table["hold"].notna()]
            if not holds.empty and not confirmed:
                return [], {**person, "looks_like": holds.iloc[0]["params"].get("candidate", "")}, number
            return [], None, number

    errors, suspect, number = await run_in_threadpool(check)
    if errors:
        draft.messages += errors
        return await go_to(request, user, draft, "/entries/candidates#new")
    if suspect is not None:
        draft.suspect = {k: v for k, v in suspect.items() if k in raw or k == "looks_like"}
        draft.suspect["candidate_number"] = number
        draft.messages.append(
            f"This looks like candidate {suspect['looks_like']}, already on record. Search for them and add them, "
            "or confirm that this is a different person."
        )
        return await go_to(request, user, draft, "/entries/candidates#new")
    draft.suspect = None
    draft.new_count += 1
    key = f"n{draft.new_count}"
    draft.people[key] = Person(
        key,
        None,
        number,
        raw["uci"].upper(),
        raw["uln"],
        raw["surname"],
        raw["forenames"],
        raw["sex"].upper()[:1],
        _date(raw["date_of_birth"]),
        raw["group"],
        option=("full", ()) if draft.entry_kind not in ("", "full_award") else None,
    )
    draft.messages.append(f"New candidate {number} added.")
    return await go_to(request, user, draft, "/entries/candidates")


def _date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise HTTPException(400, "The date of birth must be a real date.")
