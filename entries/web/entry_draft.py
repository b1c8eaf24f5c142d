"""The web entry form's draft: what a user has chosen so far, kept in the store for them
(entries.store.drafts) until submitted or cancelled, so it survives a portal restart.

In: the request (its user and portal). Out: the user's `Draft`, read or made; the draft kept again
after a step changes it; a page of the form, or the redirect to the next step (every POST of the
form answers 303 to a GET page: a refresh never posts again). A draft is kept as JSON values
(dates ISO, options as lists). Also here: reading one posted value (`one`, `ids`), refusing what
the form's own pages cannot send with a 400.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from entries.reports.confirmation import KIND_NAMES
from entries.store import candidate_search, drafts
from entries.store.users import User
from entries.web.portal import centre_for, page, portal_of, user_of


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


@dataclass
class Draft:
    """One user's entry in progress for `centre`: the entry code chosen, the candidates with their
    options, the last search's results, and the messages waiting to be shown."""

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
    # A message for one field of a step (its name -> the text), shown once beside that field.
    problems: dict[str, str] = field(default_factory=dict)
    # The options form as last sent when it was refused (ticked, option, units): shown again as sent.
    tried: dict = field(default_factory=dict)

    @property
    def kind_text(self) -> str:
        """The entry code's kind in words ("Full award", "Top-up", "Moving down")."""
        return KIND_NAMES.get(self.entry_kind, self.entry_kind)

    def option_text(self, person: Person) -> str:
        """A candidate's option in words: "Full award entry", "Top-up entry", "Unit entry: units 1 and 3"."""
        if person.option is None:
            return "not chosen yet"
        kind, units = person.option
        if kind != "units":
            return f"{self.kind_text} entry"
        listed = [str(u) for u in units]
        said = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        return f"Unit {'entry' if len(listed) == 1 else 'entries'}: unit{'' if len(listed) == 1 else 's'} {said}"


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


async def load_draft(request: Request, *, create: bool = False) -> tuple[User, Draft]:
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
        await keep_draft(request, user, draft)
    return user, draft


async def keep_draft(request: Request, user: User, draft: Draft) -> None:
    """Store the draft as it now is."""

    def save() -> None:
        with portal_of(request).store() as con:
            drafts.save(con, user.username, draft.centre, _as_json(draft))

    await run_in_threadpool(save)


async def draft_page(request: Request, name: str, user, draft: Draft, **context) -> Response:
    """The form's page `name` for the draft, with the messages and field problems it holds (each
    shown once) and the options form as last refused (`tried`)."""
    messages, draft.messages = draft.messages, []
    problems, draft.problems = draft.problems, {}
    tried, draft.tried = draft.tried, {}
    if messages or problems or tried:
        await keep_draft(request, user, draft)  # each message is shown once
    return page(
        request,
        name,
        {
            "user": user,
            "draft": draft,
            "messages": messages,
            "problems": problems,
            "tried": tried,
            "kind_names": KIND_NAMES,  # kinds in words: full_award -> "Full award"
            **context,
        },
    )


async def go_to(request: Request, user: User, draft: Draft, path: str) -> Response:
    """Keep the draft, then send the browser to `path`."""
    await keep_draft(request, user, draft)
    return RedirectResponse(path, status_code=303)


def one(form: dict, name: str) -> str:
    """The posted text of the field `name` ("" when it is missing). A field the form's pages send
    once but that came more than once is refused with a 400: it did not come from these pages,
    and picking one of its values would be a guess."""
    value = form.get(name)
    if isinstance(value, list):
        raise HTTPException(400, f"The form sent the field {name!r} more than once: reload the page and try again.")
    return value if isinstance(value, str) else ""


def many(form: dict, name: str) -> list[str]:
    """The posted texts of a field the form may send more than once (ticked boxes), in order."""
    value = form.get(name)
    listed = value if isinstance(value, list) else [value] if value is not None else []
    return [v for v in listed if isinstance(v, str)]


def ids(form: dict, name: str, limit: int = 500) -> list[int]:
    """The ids ticked in the field `name` (at most `limit`). The form's pages send only whole
    numbers; anything else is refused with a 400 rather than dropped without a word."""
    listed = many(form, name)
    if any(not re.fullmatch(r"[0-9]{1,9}", v) for v in listed):
        raise HTTPException(400, "The form sent a candidate that is not one of its own: reload the page and try again.")
    return [int(v) for v in listed][:limit]
