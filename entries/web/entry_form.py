"""The web-based entry form (guide: "Using the web-based form"): select assessment, select
candidates, entry options, summary, submit.

A draft is kept in the store for its user (entries.store.drafts) until submitted or cancelled, so
it survives a portal restart. Candidate searches are POSTed (names and UCIs never go in a URL). The
form's candidates go to the hall as template rows (`hall.FormRows`, never through a file): the
summary is the hall's dry run, so it shows each entry's fee (standard or late), the total, and what
is already on record; Submit sends the same rows through the hall as an upload goes (same checks,
same commit, same statuses): top-up only after a full award, moving down only with the units
achieved, exactly as for uploads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from entries.checks.validate import validate
from entries.core import clock
from entries.intake.headers import TEMPLATE_COLUMNS, UNIT_COLUMNS
from entries.pipeline import hall
from entries.store import candidate_search, drafts, entry_choices, qualifications, refdata
from entries.store.matching import match_candidates
from entries.store.review import free_candidate_number
from entries.store.users import User
from entries.web.pages import submission_page
from entries.web.portal import centre_for, checked_form, ingest_upload, page, portal_of, user_of

MAX_UNITS = 3  # unit entries for up to three units at once, as the guide's form allows


@dataclass
class Person:
    """A candidate in the draft: on record (`candidate_id`) or new."""

    key: str
    candidate_id: int | None
    candidate_number: str
    uci: str
    uln: str
    surname: str
    forenames: str
    sex: str
    date_of_birth: dt.date
    group: str
    option: tuple[str, tuple[int, ...]] | None = None  # ("full", ()) or ("units", (1, 3))

    @property
    def option_text(self) -> str:
        if self.option is None:
            return "not chosen yet"
        kind, units = self.option
        return "Full award" if kind == "full" else "Units " + ", ".join(map(str, units))


@dataclass
class Draft:
    centre: str
    entry_code: str | None = None
    entry_title: str = ""
    entry_kind: str = ""
    people: dict[str, Person] = field(default_factory=dict)
    found: list[candidate_search.Candidate] = field(default_factory=list)
    order_ref: str = ""
    new_count: int = 0
    messages: list[str] = field(default_factory=list)
    suspect: dict | None = None  # a new candidate that looks like one on record, waiting for a yes


def _as_json(draft: Draft) -> dict:
    """The draft as JSON values (dates ISO, options as lists)."""
    out = dataclasses.asdict(draft)
    for person in out["people"].values():
        person["date_of_birth"] = person["date_of_birth"].isoformat()
    for found in out["found"]:
        found["date_of_birth"] = found["date_of_birth"].isoformat()
    return out


def _from_json(saved: dict) -> Draft:
    def person(p: dict) -> Person:
        option = p.get("option")
        return Person(
            **{
                **p,
                "date_of_birth": dt.date.fromisoformat(p["date_of_birth"]),
                "option": (option[0], tuple(option[1])) if option else None,
            }
        )

    return Draft(
        **{
            **saved,
            "people": {k: person(p) for k, p in saved["people"].items()},
            "found": [
                candidate_search.Candidate(**{**c, "date_of_birth": dt.date.fromisoformat(c["date_of_birth"])})
                for c in saved["found"]
            ],
        }
    )


async def _draft(request: Request, *, create: bool = False) -> tuple[User, Draft]:
    """The user's draft, read from the store. Only `new` makes one (an operator names its centre
    there, `?centre=N`); nothing else replaces a draft, so no request can swap another centre into it."""
    user, _ = await user_of(request)

    def load() -> dict | None:
        with portal_of(request).store() as con:
            return drafts.load(con, user.username)

    saved = await run_in_threadpool(load)
    draft = None if saved is None else _from_json(saved)
    if draft is None or (create and not draft.people and draft.entry_code is None):
        draft = Draft(centre=centre_for(user, request.query_params.get("centre")))
        await _keep(request, user, draft)
    return user, draft


async def _keep(request: Request, user: User, draft: Draft) -> None:
    """Store the draft as it now is."""

    def save() -> None:
        with portal_of(request).store() as con:
            drafts.save(con, user.username, draft.centre, _as_json(draft))

    await run_in_threadpool(save)


async def _page(request: Request, name: str, user, draft: Draft, **context) -> Response:
    messages, draft.messages = draft.messages, []
    if messages:
        await _keep(request, user, draft)  # each message is shown once
    return page(request, name, {"user": user, "draft": draft, "messages": messages, **context})


async def _go(request: Request, user: User, draft: Draft, path: str) -> Response:
    """Keep the draft, then send the browser to `path`."""
    await _keep(request, user, draft)
    return RedirectResponse(path, status_code=303)


async def new(request: Request) -> Response:
    """Start the form, or go back to the entry in progress (Exit and cancel, on the summary, ends
    it): a GET never throws a draft away."""
    user, draft = await _draft(request, create=True)
    if draft.people or draft.entry_code is not None:
        draft.messages.append("You have an entry in progress: carry on, or Exit and cancel it on its summary.")
    return await _go(request, user, draft, "/entries/assessment")


async def assessment_page(request: Request) -> Response:
    user, draft = await _draft(request)
    text = (request.query_params.get("q") or "").strip()[:60]

    def load() -> list[dict]:
        with portal_of(request).store() as con:
            return qualifications.search(con, text, draft.centre)

    found = await run_in_threadpool(load)
    return await _page(request, "entry_assessment.html", user, draft, found=found, q=text)


async def choose_assessment(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
    code = str(form.get("entry_code") or "").strip().upper()

    def check() -> tuple[str, str] | None:
        with portal_of(request).store() as con:
            return entry_choices.approved_entry(con, draft.centre, code)

    found = await run_in_threadpool(check)
    if found is None:
        draft.messages.append("Choose an entry code your centre is approved for.")
        return await _go(request, user, draft, "/entries/assessment")
    draft.entry_code, (draft.entry_title, draft.entry_kind) = code, found
    for person in draft.people.values():
        person.option = ("full", ()) if draft.entry_kind != "full_award" else None
    return await _go(request, user, draft, "/entries/candidates")


async def candidates_page(request: Request) -> Response:
    user, draft = await _draft(request)
    if draft.entry_code is None:
        return await _go(request, user, draft, "/entries/assessment")

    def load() -> list[tuple[str, int]]:
        with portal_of(request).store() as con:
            return candidate_search.groups(con, draft.centre)

    groups = await run_in_threadpool(load)
    return await _page(
        request, "entry_candidates.html", user, draft, groups=groups, within=list(candidate_search.ADDED_WITHIN)
    )


async def search(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
    text = str(form.get("text") or "")[:80]
    within = str(form.get("added_within") or "") or None

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.search(con, draft.centre, text, within)

    draft.found = await run_in_threadpool(load)
    if not draft.found:
        draft.messages.append("No candidate matches: change the search, or add a new candidate below.")
    return await _go(request, user, draft, "/entries/candidates")


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
    user, draft = await _draft(request)
    ids = _ids(form.get("candidate_id"))

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.by_ids(con, draft.centre, ids)  # another centre's ids are dropped

    draft.messages.append(f"{_add(draft, await run_in_threadpool(load))} candidate(s) added.")
    return await _go(request, user, draft, "/entries/candidates")


async def add_group(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
    name = str(form.get("group") or "")

    def load() -> list[candidate_search.Candidate]:
        with portal_of(request).store() as con:
            return candidate_search.in_group(con, draft.centre, name)

    draft.messages.append(f"{_add(draft, await run_in_threadpool(load))} candidate(s) of group {name} added.")
    return await _go(request, user, draft, "/entries/candidates")


async def make_group(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
    name = str(form.get("name") or "")
    ids = [p.candidate_id for p in draft.people.values() if p.candidate_id is not None]

    def save() -> int:
        with portal_of(request).store() as con:
            return candidate_search.make_group(con, draft.centre, name, ids)

    joined = await run_in_threadpool(save)
    draft.messages.append(f"Group {name.strip()} made with {joined} candidate(s) on record.")
    return await _go(request, user, draft, "/entries/candidates")


async def add_new(request: Request) -> Response:
    """A new candidate: UCI and ULN checked as on upload; a probable duplicate is pointed out first."""
    form = await checked_form(request)
    user, draft = await _draft(request)
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
            checked = validate(hall.FormRows("new candidate", [_cells(draft, person)]).frame(), ctx, reference)
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
        return await _go(request, user, draft, "/entries/candidates#new")
    if suspect is not None:
        draft.suspect = {k: v for k, v in suspect.items() if k in raw or k == "looks_like"}
        draft.suspect["candidate_number"] = number
        draft.messages.append(
            f"This looks like candidate {suspect['looks_like']}, already on record. Search for them and add them, "
            "or confirm that this is a different person."
        )
        return await _go(request, user, draft, "/entries/candidates#new")
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
    return await _go(request, user, draft, "/entries/candidates")


def _date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise HTTPException(400, "The date of birth must be a real date.")


async def options_page(request: Request) -> Response:
    user, draft = await _draft(request)
    if draft.entry_code is None:
        return await _go(request, user, draft, "/entries/assessment")

    def load() -> list[int]:
        with portal_of(request).store() as con:
            return entry_choices.examined_units(con, draft.entry_code or "")

    units = await run_in_threadpool(load)
    return await _page(request, "entry_options.html", user, draft, units=units, slots=range(1, MAX_UNITS + 1))


async def set_options(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
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
    return await _go(
        request, user, draft, "/entries/summary" if all(p.option for p in draft.people.values()) else "/entries/options"
    )


def _cells(draft: Draft, person: dict, units: list[int] | None = None) -> dict[str, str]:
    """One template row (every value text) for a candidate of the draft."""
    cells = dict.fromkeys(TEMPLATE_COLUMNS, "")
    cells.update(
        {
            "Centre Number": draft.centre,
            "Candidate Number": person["candidate_number"],
            "UCI": person["uci"],
            "ULN": person["uln"],
            "Surname": person["surname"],
            "Forenames": person["forenames"],
            "Sex": person["sex"],
            "Date of Birth": person["date_of_birth"],
            "Entry Code": draft.entry_code or "",
            "Candidate Group": person.get("group", ""),
            **{column: str(u) for column, u in zip(UNIT_COLUMNS, units or [], strict=False)},
        }
    )
    return cells


def form_rows(draft: Draft) -> hall.FormRows:
    """The draft as the hall takes it: one template row per candidate, in candidate-number order."""
    rows = []
    for p in sorted(draft.people.values(), key=lambda p: p.candidate_number):
        units = list(p.option[1]) if p.option and p.option[0] == "units" else []
        person = {
            "candidate_number": p.candidate_number,
            "uci": p.uci,
            "uln": p.uln,
            "surname": p.surname,
            "forenames": p.forenames,
            "sex": p.sex,
            "date_of_birth": p.date_of_birth.isoformat(),
            "group": p.group,
        }
        rows.append(_cells(draft, person, units))
    return hall.FormRows(f"Web entry form {draft.entry_code}", rows)


async def summary_page(request: Request) -> Response:
    user, draft = await _draft(request)
    if not draft.people or draft.entry_code is None:
        draft.messages.append("Add candidates first.")
        return await _go(request, user, draft, "/entries/candidates")
    if any(p.option is None for p in draft.people.values()):
        return await _go(request, user, draft, "/entries/options")
    portal = portal_of(request)

    def dry() -> tuple[object, list[dict]]:
        with portal.store() as con:
            reference = refdata.snapshot(con)
        prepared = hall.prepare(form_rows(draft), hall.context_for(reference, draft.centre, clock.today()), reference)
        with portal.store() as con:
            outcome = hall.finish(
                con, prepared, reference, order_ref=draft.order_ref or None, out_dir=portal.out_dir, dry_run=True
            )
        return outcome, _lines(outcome.preview)

    outcome, lines = await run_in_threadpool(dry)
    return await _page(request, "entry_summary.html", user, draft, outcome=outcome, lines=lines)


def _lines(preview: pd.DataFrame | None) -> list[dict]:
    """The dry run's entries, as the summary lists them: fee standard or late, what each replaces."""
    if preview is None or preview.empty:
        return []
    return [
        {
            "candidate_number": r.candidate_number,
            "entry_code": r.entry_code,
            "kind": r.kind,
            "unit": None if pd.isna(r.unit_number) else int(r.unit_number),
            "series": r.series,
            "late": bool(r.late),
            "fee_pence": int(r.fee_pence),
            "replaces": not pd.isna(r.replaces),
        }
        for r in preview.sort_values(["candidate_number", "entry_code", "unit_number"]).itertuples(index=False)
    ]


async def remove(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
    person = draft.people.pop(str(form.get("key") or ""), None)
    if person is not None:
        draft.messages.append(f"Candidate {person.candidate_number} removed.")
    return await _go(request, user, draft, "/entries/summary" if draft.people else "/entries/candidates")


async def order(request: Request) -> Response:
    form = await checked_form(request)
    user, draft = await _draft(request)
    draft.order_ref = re.sub(r"[\x00-\x1f]", "", str(form.get("order_ref") or ""))[:100].strip()
    return await _go(request, user, draft, "/entries/summary")


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
    user, draft = await _draft(request)
    if form.get("order_ref") is not None:
        draft.order_ref = str(form.get("order_ref") or "")[:100].strip()
    if not draft.people or any(p.option is None for p in draft.people.values()):
        return await _go(request, user, draft, "/entries/summary")
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
