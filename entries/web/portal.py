"""What every page of the portal shares: the portal's state, who is asking, the checked form, the
rendered page, and the portal's door to the hall.

Every request is checked on the server: who is asking (a signed session), what they may see (a
centre user its own centre only), and for every POST the session's CSRF token.

The store is opened for each piece of work and closed at once (one at a time in this process).
While a nightly import holds it, the portal waits with a mark in the store's `.waiting` folder; the
nightly pauses between files for such a mark, so pages answer within about one file's commit and
the nightly never fails for the portal (docs/architecture.md §9).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from entries.checks.upload import Outcome, Prepared
from entries.core import clock
from entries.core.errors import EntriesError, StoreBusy
from entries.core.limits import ReadLimits
from entries.core.status import CONTACT, Status, described
from entries.pipeline import hall
from entries.reports.confirmation import KIND_NAMES
from entries.store import database, refdata, upload_drafts
from entries.store.database import Connection
from entries.store.users import User, find_user
from entries.web.security import COOKIE, Session, Signer, Throttle, csrf_ok

HERE = Path(__file__).resolve().parent
STORE_WAIT_SECONDS = 60.0  # at most about one nightly file's commit, usually far less
STATUSES = [str(s) for s in Status]


class Portal:
    """What every request shares: the store's path, where reports go, the signing key, throttle."""

    def __init__(
        self,
        db: Path,
        out_dir: Path,
        key: bytes,
        limits: ReadLimits | None = None,
        trusted_proxies: frozenset[str] = frozenset(),
    ) -> None:
        self.db, self.out_dir = Path(db), Path(out_dir)
        # The addresses (proxies) whose X-Forwarded-For names the client: `entries web --forwarded-allow-ips`.
        self.trusted_proxies = trusted_proxies
        self.signer = Signer(key)
        self.throttle = Throttle()
        self.limits = limits or ReadLimits()
        self._lock = threading.Lock()
        self.uploads = self.db.parent / "spool" / "portal"
        self.templates = self.db.parent / "spool" / "templates"  # blank templates: no personal data

    @contextmanager
    def store(self) -> Iterator[Connection]:
        """The store, opened for one piece of work (waiting for a nightly file to finish)."""
        if not self._lock.acquire(timeout=STORE_WAIT_SECONDS):
            raise StoreBusy("the portal is busy: try again in a minute")
        try:
            con = database.connect(self.db, wait_seconds=STORE_WAIT_SECONDS)
            try:
                yield con
            finally:
                con.close()
        finally:
            self._lock.release()


@cache
def templates() -> Jinja2Templates:
    """The page templates (Jinja2 escapes every value in .html templates)."""
    return Jinja2Templates(directory=str(HERE / "templates"))


def portal_of(request: Request) -> Portal:
    return request.app.state.portal


def session_of(request: Request) -> Session | None:
    return portal_of(request).signer.load(request.cookies.get(COOKIE))


async def user_of(request: Request) -> tuple[User, Session]:
    """The signed-in user and their session, or a redirect to /login (the account is read on a
    worker thread: the store may be waiting for a nightly file, and the event loop must not)."""
    session = session_of(request)
    if session is None or not session.username:
        raise HTTPException(303, headers={"Location": "/login"})

    def load() -> User | None:
        with portal_of(request).store() as con:
            return find_user(con, session.username)

    user = await run_in_threadpool(load)
    if user is None or session.issued <= user.signed_out:
        raise HTTPException(303, headers={"Location": "/login"})
    return user, session


async def checked_form(request: Request, *, files: int = 0, fields: int = 200) -> dict:
    """The POSTed form (at most `files` files and `fields` fields), its CSRF token checked against
    the session (403 otherwise)."""
    form = await request.form(max_files=files, max_fields=fields, max_part_size=64 * 1024)
    if not csrf_ok(session_of(request), form.get("csrf_token")):
        raise HTTPException(403, "The form has expired or did not come from this site: go back, reload and try again.")
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form}


def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
    session = session_of(request)
    return templates().TemplateResponse(
        request,
        name,
        {
            "csrf_token": session.csrf if session else "",
            "statuses": STATUSES,
            "described": described,  # a status with the guide's description and action
            "contact": CONTACT,
            "kind_names": KIND_NAMES,  # full_award -> "Full award": kinds in words
            **context,
        },
        status_code=status,
    )


def centre_for(user: User, asked: str | None) -> str:
    """The centre a request acts for: a centre user's own; an operator's choice (required)."""
    if not user.is_operator:
        return user.centre or ""
    if not isinstance(asked, str) or not re.fullmatch(r"[0-9]{5}", asked):
        raise HTTPException(400, "Choose a centre (5 digits).")
    return asked


def private_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def ingest_upload(portal: Portal, sent: hall.Sent, centre: str, order_ref: str | None) -> int:
    """A file (or the web form's rows) through the hall: read and checked at once, outside the
    store, then stored and reported. Returns the submission id."""
    outcome, _ = _through_hall(portal, sent, centre, order_ref, amendable=False)
    if outcome.submission_id is None:  # cannot happen: every upload is recorded
        raise EntriesError("the upload was not recorded")
    return outcome.submission_id


@dataclass(frozen=True)
class Landed:
    """Where an upload landed: a recorded submission, or a draft of rows to correct on screen."""

    submission_id: int | None = None
    draft_id: int | None = None


def land_upload(
    portal: Portal,
    sent: Path | hall.AmendedRows,
    centre: str,
    order_ref: str | None,
    username: str,
    draft_id: int | None = None,
) -> Landed:
    """An uploaded file, or its rows as corrected on screen (`draft_id` the draft they correct),
    through the hall. When every error is on a row, nothing is recorded: the rows and issues are
    kept as a draft for the centre to correct (DESIGN §9) and its id returned; otherwise the hall
    records it and the draft, if any, is done with."""
    outcome, prepared = _through_hall(portal, sent, centre, order_ref, amendable=True)
    if outcome.to_amend and prepared.rows is not None:
        rows = prepared.rows.to_dict(orient="records")
        with portal.store() as con:
            saved = upload_drafts.save(
                con,
                username=username,
                centre=centre,
                file_name=prepared.path.name,
                file_format=prepared.file_format or "csv",  # as first read: a draft corrected keeps it
                order_ref=order_ref,
                rows=[{k: (int(v) if k == "row" else str(v)) for k, v in r.items()} for r in rows],
                issues=outcome.issues,
                annotated=Path(made).name if (made := outcome.reports.get("annotated")) else None,
                draft_id=draft_id,
            )
        return Landed(draft_id=saved)
    if outcome.submission_id is None:  # cannot happen: what is not kept to amend is recorded
        raise EntriesError("the upload was not recorded")
    if draft_id is not None:
        with portal.store() as con:
            upload_drafts.drop(con, draft_id)
    return Landed(submission_id=outcome.submission_id)


def _through_hall(
    portal: Portal, sent: hall.Sent, centre: str, order_ref: str | None, *, amendable: bool
) -> tuple[Outcome, Prepared]:
    received = clock.today()
    with portal.store() as con:
        reference = refdata.snapshot(con)
    prepared = hall.prepare(
        sent,
        hall.context_for(reference, centre, received),
        reference,
        portal.limits,
        work_dir=private_folder(portal.uploads),
    )
    with portal.store() as con:
        outcome = hall.finish(
            con, prepared, reference, order_ref=order_ref, out_dir=portal.out_dir, amendable=amendable
        )
    return outcome, prepared


async def not_found(request: Request, exc: Exception) -> Response:
    return _error(request, exc)


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        if exc.status_code in (301, 302, 303) and exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        return page(request, "error.html", {"message": exc.detail, "code": exc.status_code}, exc.status_code)
    if isinstance(exc, StoreBusy):
        return page(request, "error.html", {"message": "The service is busy: try again in a minute.", "code": 503}, 503)
    return page(request, "error.html", {"message": "Something went wrong; it has been logged.", "code": 500}, 500)
