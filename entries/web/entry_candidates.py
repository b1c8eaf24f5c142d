"""The web entry form's candidates step (guide: "Using the web-based form", select candidates):
search the centre's candidates, add those found or a whole group, make a group, add a new one.

In: the posted form and the user's draft. Out: the draft with the candidates added (searches are
POSTed: names and UCIs never go in a URL), then the browser sent back to the step (or on to the
options, for "Next"). A new candidate's UCI and ULN are checked as on upload, and a probable
duplicate is pointed out first. Only the user's own centre is searched; another centre's ids are
dropped. What an officer can get wrong (a group name of spaces, a candidate number of letters, a
search's "added" choice from an old page) is said beside its field, never a 500.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

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
from entries.web.entry_draft import Draft, Person, draft_page, go_to, ids, load_draft, one
from entries.web.entry_rows import template_row
from entries.web.portal import checked_form, portal_of

GROUP_NAME_MAX = 40  # as candidate_search.make_group stores them
NEW_FIELDS = ("candidate_number", "uci", "uln", "surname", "forenames", "sex", "date_of_birth", "group")


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
    text = one(form, "text")[:80]
    within = one(form, "added_within") or None
    if within is not None and within not in candidate_search.ADDED_WITHIN:
        # Only an old or altered page sends another value: say so at the field, search nothing.
        draft.problems["added_within"] = "Choose when the candidates were added from the list, then search again."
        return await go_to(request, user, draft, "/entries/candidates#search")

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


async def add_found(request: Request) -> Response:
    """Add the ticked candidates found; with `then=next` (the step's Next button) go on to the
    options, so candidates ticked but not yet added are never left behind."""
    form = await checked_form(request)
    user, draft = await load_draft(request)
    ticked = ids(form, "candidate_id")
    then_next = one(form, "then") == "next"

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.by_ids(con, draft.centre, ticked)  # another centre's ids are dropped

    if ticked or not then_next:
        draft.messages.append(f"{_add(draft, await run_in_threadpool(load))} candidate(s) added.")
    return await go_to(request, user, draft, "/entries/options" if then_next else "/entries/candidates")


async def add_group(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    name = one(form, "group")

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.in_group(con, draft.centre, name)

    found = await run_in_threadpool(load) if name.strip() else []
    if not found:
        draft.problems["group"] = "There is no such candidate group at your centre: choose one of the groups listed."
    else:
        draft.messages.append(f"{_add(draft, found)} candidate(s) of group {name} added.")
    return await go_to(request, user, draft, "/entries/candidates" if found else "/entries/candidates#groups")


async def make_group(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await load_draft(request)
    name = one(form, "name").strip()
    on_record = [p.candidate_id for p in draft.people.values() if p.candidate_id is not None]
    problem = group_name_problem(name)
    if problem is None and not on_record:
        problem = "None of these candidates is on record yet: a group is made of candidates on record."
    if problem is not None:
        draft.problems["name"] = problem
        draft.tried = {"group_name": name[:GROUP_NAME_MAX]}
        return await go_to(request, user, draft, "/entries/candidates#make-group")

    def save() -> int:
        with portal_of(request).store() as con:
            return candidate_search.make_group(con, draft.centre, name, on_record)

    joined = await run_in_threadpool(save)
    draft.messages.append(f"Group {name} made with {joined} candidate(s) on record.")
    return await go_to(request, user, draft, "/entries/candidates")


def group_name_problem(name: str) -> str | None:
    """Why `name` (already stripped) cannot name a group, or None: 1 to 40 characters, no control
    characters (a name is shown on pages and in files)."""
    if not name:
        return "Give the group a name (1 to 40 characters, not only spaces)."
    if len(name) > GROUP_NAME_MAX:
        return f"A group name is at most {GROUP_NAME_MAX} characters; this one has {len(name)}."
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return "A group name is letters, digits, spaces and punctuation only."
    return None


async def add_new(request: Request) -> Response:
    """A new candidate: UCI and ULN checked as on upload; a probable duplicate is pointed out first."""
    form = await checked_form(request)
    user, draft = await load_draft(request)
    raw = {k: one(form, k).strip() for k in NEW_FIELDS}
    confirmed = one(form, "confirm_new") == "yes" and draft.suspect is not None
    if confirmed and draft.suspect is not None:
        raw = {k: str(draft.suspect.get(k) or "") for k in NEW_FIELDS}
    if raw["candidate_number"] and not re.fullmatch(r"[0-9]{1,4}", raw["candidate_number"]):
        draft.problems["candidate_number"] = (
            "A candidate number is 1 to 4 digits: leave it blank to be given the next free number."
        )
        draft.tried = {"new": {k: v for k, v in raw.items() if k not in ("candidate_number", "uci")}}
        return await go_to(request, user, draft, "/entries/candidates#new")
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
        # The form comes back as typed, to correct; never the UCI, which a refusal may be about
        # (on record at another centre): the page then says nothing of that record.
        draft.tried = {"new": {k: v for k, v in raw.items() if k != "uci"}}
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
