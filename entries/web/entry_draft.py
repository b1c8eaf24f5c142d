"""The web entry form's draft: what a user has chosen so far, kept in the store for them
(entries.store.drafts) until submitted or cancelled, so it survives a portal restart.

In: the request (its user and portal). Out: the user's `Draft`, read or made; the draft kept again
after a step changes it; a page of the form, or the redirect to the next step. A draft is kept as
JSON values (dates ISO, options as lists).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

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

    @property
    def option_text(self) -> str:
        if self.option is None:
            return "not chosen yet"
        kind, units = self.option
        return "Full award" if kind == "full" else "Units " + ", ".join(map(str, units))


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
    """The form's page `name` for the draft, with the messages it holds (each shown once)."""
    messages, draft.messages = draft.messages, []
    if messages:
        await keep_draft(request, user, draft)  # each message is shown once
    return page(request, name, {"user": user, "draft": draft, "messages": messages, **context})


async def go_to(request: Request, user: User, draft: Draft, path: str) -> Response:
    """Keep the draft, then send the browser to `path`."""
    await keep_draft(request, user, draft)
    return RedirectResponse(path, status_code=303)
