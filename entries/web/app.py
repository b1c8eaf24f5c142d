"""The centre portal: server-rendered pages over the same pipeline as the nightly import.

Every request is checked on the server: who is asking (a signed session), what they may see (a
centre user its own centre only: another centre's submission id is a 404, never a 403 that would
confirm it exists), and for every POST the session's CSRF token. Pages carry no script; forms are
plain HTML. An upload is read and checked at once (`entries.pipeline.ingest.prepare`), committed
through the same commit as the nightly import, and its page shows the status and every issue.

The store is opened for each piece of work and closed at once (one at a time in this process).
While a nightly import holds it, the portal waits with a mark in the store's `.waiting` folder; the
nightly pauses between files for such a mark, so pages answer within about one file's commit and
the nightly never fails for the portal (docs/architecture.md §9).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from entries.checks.validate import Context
from entries.core import clock
from entries.core.errors import EntriesError, StoreBusy
from entries.core.limits import ReadLimits
from entries.core.status import Status
from entries.pipeline.ingest import confirm, note_report, prepare, report
from entries.reports.confirmation import submission_stem
from entries.reports.listing import submission_history
from entries.reports.template import write_template
from entries.store import database, refdata, review
from entries.store.commit import commit
from entries.store.series import series_for
from entries.store.users import User, authenticate, find_user, sign_out_everywhere
from entries.web.security import COOKIE, HEADERS, SESSION_SECONDS, Session, Signer, Throttle, csrf_ok, new_session

HERE = Path(__file__).resolve().parent
STORE_WAIT_SECONDS = 60.0  # at most about one nightly file's commit, usually far less
STATUSES = [str(s) for s in Status]


class Portal:
    """What every request shares: the store's path, where reports go, the signing key, throttle."""

    def __init__(self, db: Path, out_dir: Path, key: bytes, limits: ReadLimits | None = None) -> None:
        self.db, self.out_dir = Path(db), Path(out_dir)
        self.signer = Signer(key)
        self.throttle = Throttle()
        self.limits = limits or ReadLimits()
        self._lock = threading.Lock()
        self.uploads = self.db.parent / "spool" / "portal"

    @contextmanager
    def store(self) -> Iterator[duckdb.DuckDBPyConnection]:
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


async def checked_form(request: Request, *, files: int = 0) -> dict:
    """The POSTed form, its CSRF token checked against the session (403 otherwise)."""
    form = await request.form(max_files=files, max_fields=200, max_part_size=64 * 1024)
    if not csrf_ok(session_of(request), form.get("csrf_token")):
        raise HTTPException(403, "The form has expired or did not come from this site: go back, reload and try again.")
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form}


def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
    session = session_of(request)
    return templates().TemplateResponse(
        request,
        name,
        {"csrf_token": session.csrf if session else "", "statuses": STATUSES, **context},
        status_code=status,
    )


def centre_for(user: User, asked: str | None) -> str:
    """The centre a request acts for: a centre user's own; an operator's choice (required)."""
    if not user.is_operator:
        return user.centre or ""
    if not isinstance(asked, str) or not re.fullmatch(r"[0-9]{5}", asked):
        raise HTTPException(400, "Choose a centre (5 digits).")
    return asked


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def login_page(request: Request) -> Response:
    session = session_of(request) or new_session("")
    response = page(request, "login.html", {"csrf_token": session.csrf, "error": None})
    _set_cookie(request, response, session)
    return response


def _set_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        portal_of(request).signer.dump(session),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


async def login(request: Request) -> Response:
    form = await checked_form(request)
    portal = portal_of(request)
    username = str(form.get("username") or "").strip().lower()
    password = str(form.get("password") or "")
    keys = (f"user:{username}", f"addr:{request.client.host if request.client else '?'}")
    if not portal.throttle.attempt(*keys):
        return page(request, "login.html", {"error": "Too many failed sign-ins: wait a few minutes."}, 429)

    def check() -> User | None:
        with portal.store() as con:
            return authenticate(con, username, password)

    user = await run_in_threadpool(check)
    if user is None:  # the attempt was counted as a failure before the check
        return page(request, "login.html", {"error": "The username or password is wrong."}, 401)
    portal.throttle.succeeded(*keys)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, new_session(user.username))  # a new token: no fixation
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    session = session_of(request)
    if session is not None and session.username:

        def end() -> None:
            with portal_of(request).store() as con:
                sign_out_everywhere(con, session.username, time.time())

        await run_in_threadpool(end)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def home(request: Request) -> Response:
    user, _ = await user_of(request)
    return page(request, "home.html", {"user": user})


async def template_download(request: Request) -> Response:
    user, _ = await user_of(request)
    centre = centre_for(user, request.query_params.get("centre"))
    folder = Path(tempfile.mkdtemp(prefix="template-", dir=private_folder(portal_of(request).uploads)))
    path = folder / f"entries_template_{centre}.xlsx"

    def make() -> None:
        with portal_of(request).store() as con:
            write_template(path, con, centre)

    try:
        await run_in_threadpool(make)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(path, filename=path.name, background=_cleanup(folder))


def private_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def _cleanup(folder: Path):
    from starlette.background import BackgroundTask

    return BackgroundTask(shutil.rmtree, folder, ignore_errors=True)


async def upload_page(request: Request) -> Response:
    user, _ = await user_of(request)
    return page(request, "upload.html", {"user": user, "error": None})


def _safe_name(name: str | None) -> str:
    base = Path(name or "upload").name.replace("\x00", "")
    kept = "".join(ch if ch.isalnum() or ch in " ._-()" else "_" for ch in base).strip(" .")
    return (kept or "upload")[:120]


async def upload(request: Request) -> Response:
    user, _ = await user_of(request)
    portal = portal_of(request)
    declared = int(request.headers.get("content-length") or 0)
    if declared > portal.limits.max_file_bytes + 1024 * 1024:
        return page(request, "upload.html", {"user": user, "error": _too_big(portal)}, 413)
    form = await checked_form(request, files=1)
    centre = centre_for(user, form.get("centre"))
    order_ref = str(form.get("order_ref") or "").strip()[:100] or None
    sent = form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return page(request, "upload.html", {"user": user, "error": "Choose a file to upload."}, 400)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=private_folder(portal.uploads)))
    try:
        path = folder / _safe_name(sent.filename)
        size = 0
        with path.open("wb") as out:
            while chunk := await sent.read(1024 * 1024):
                size += len(chunk)
                if size > portal.limits.max_file_bytes:
                    return page(request, "upload.html", {"user": user, "error": _too_big(portal)}, 413)
                await run_in_threadpool(out.write, chunk)
        submission_id = await run_in_threadpool(ingest_upload, portal, path, centre, order_ref)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return await submission_page(request, user, submission_id, just_uploaded=True)


def _too_big(portal: Portal) -> str:
    return f"The file is larger than {portal.limits.max_file_bytes // (1024 * 1024)} MB, the most this service reads."


def ingest_upload(portal: Portal, path: Path, centre: str, order_ref: str | None) -> int:
    """Read and check at once (outside the store), then commit and report: the same stages as
    `entries ingest`. Returns the submission id."""
    received = clock.today()
    with portal.store() as con:
        reference = refdata.snapshot(con)
    context = Context(
        centre=centre, series=series_for(reference, received), received_on=received, series_source="default"
    )
    prepared = prepare(path, context, reference, portal.limits)
    with portal.store() as con:
        outcome = commit(con, prepared, reference, order_ref=order_ref)
        outcome.reports["confirmation"] = confirm(con, outcome, portal.out_dir)
    note_report(outcome, report(prepared, outcome, portal.out_dir))
    if outcome.submission_id is None:  # cannot happen: every upload is recorded
        raise EntriesError("the upload was not recorded")
    return outcome.submission_id


def _submission(con: duckdb.DuckDBPyConnection, user: User, submission_id: int, out_dir: Path) -> dict:
    """The submission as its page shows it; 404 when it is not this user's to see."""
    found = con.execute(
        """SELECT submission_id, centre, file_name, received_on, status, reason, series, order_ref, rows, accepted,
                  rejected, held, claim_number, sha256
           FROM submissions WHERE submission_id = ?""",
        [submission_id],
    ).fetchall()
    if not found or not user.may_see(found[0][1]):
        raise HTTPException(404, "There is no such submission.")
    keys = (
        "submission_id",
        "centre",
        "file",
        "received_on",
        "status",
        "reason",
        "series",
        "order_ref",
        "rows",
        "accepted",
        "rejected",
        "held",
        "claim_number",
        "sha256",
    )
    sub = dict(zip(keys, found[0], strict=True))
    sub["changes"] = con.execute(
        "SELECT status, changed_at FROM submission_status WHERE submission_id = ? ORDER BY seq", [submission_id]
    ).fetchall()
    sub["issues"] = con.execute(
        """SELECT row_number, column_name, code, severity, message, coalesce(fix, '') FROM submission_issues
           WHERE submission_id = ? ORDER BY row_number NULLS FIRST, column_name, code""",
        [submission_id],
    ).fetchall()
    sub["entries"] = con.execute(
        """SELECT e.candidate_number, c.surname, c.forenames, e.entry_code, e.unit_number, e.kind, e.series,
                  e.late, e.fee_pence
           FROM entries e JOIN candidates c USING (candidate_id) WHERE e.submission_id = ?
           ORDER BY e.candidate_number, e.entry_code, e.unit_key""",
        [submission_id],
    ).fetchall()
    sub["fees_pence"] = sum(int(e[8]) for e in sub["entries"])
    stem = submission_stem(con, submission_id)
    sub["reports"] = {
        kind: name
        for kind, name in (
            ("confirmation", f"{stem}.confirmation.xlsx"),
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
    return await submission_page(request, user, _id(request.path_params["submission_id"]))


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

    def load() -> list[dict]:
        with portal_of(request).store() as con:
            return submission_history(con, centre, qualification, group)

    found = await run_in_threadpool(load)
    if status:
        found = [s for s in found if s["status"] == status]
    filters = {
        "qualification": qualification or "",
        "group": group or "",
        "status": status or "",
        "centre": centre or "",
    }
    return page(request, "submissions.html", {"user": user, "subs": found, "filters": filters})


async def review_queue(request: Request) -> Response:
    user, _ = await user_of(request)
    if not user.is_operator:
        raise HTTPException(404, "There is no such page.")

    def load() -> list[dict]:
        with portal_of(request).store() as con:
            return review.open_items(con)

    return page(request, "review.html", {"user": user, "items": await run_in_threadpool(load)})


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


class HttpMiddleware:
    """An ASGI middleware that acts on HTTP requests only: anything else (lifespan) passes straight
    through; `http` handles a request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope, receive, send) -> None:
        raise NotImplementedError


class CatchAll(HttpMiddleware):
    """Inside the security headers: an unexpected failure becomes the plain 500 page (with the
    headers, never a traceback), its place logged without personal data (entries.core.crash)."""

    async def http(self, scope, receive, send) -> None:
        started = False

        async def tracking(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise
            from entries.core import crash

            request = Request(scope)
            crash.record(exc, f"portal {request.method} {request.url.path}")
            await _error(request, exc)(scope, receive, send)


class BodyLimit(HttpMiddleware):
    """Counts a request's body as it arrives (chunked uploads have no Content-Length) and stops it
    with 413 at the reader's file limit plus room for the form's other fields: nothing larger is
    ever spooled to disk."""

    async def http(self, scope, receive, send) -> None:
        limit = scope["app"].state.portal.limits.max_file_bytes + 1024 * 1024
        seen = 0

        async def counting():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(
                        413, f"The upload is larger than {limit // (1024 * 1024)} MB, the most this service reads."
                    )
            return message

        await self.app(scope, counting, send)


class SecurityHeaders(HttpMiddleware):
    """Adds the security headers (a Content-Security-Policy without inline script, no framing, no
    sniffing, no referrer, no caching) to every response, error pages included."""

    async def http(self, scope, receive, send) -> None:

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                for name, value in HEADERS.items():
                    if name.lower().encode() not in present:
                        message["headers"].append((name.lower().encode(), value.encode()))
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(db: Path, out_dir: Path, key: bytes, limits: ReadLimits | None = None) -> Starlette:
    """The portal as an ASGI app over the store at `db`, writing reports under `out_dir`."""
    from entries.web import entry_form  # the form's handlers use this module's helpers

    portal = Portal(db, out_dir, key, limits)
    routes = [
        Route("/health", health),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/template", template_download),
        Route("/uploads", upload_page, methods=["GET"]),
        Route("/uploads", upload, methods=["POST"]),
        Route("/submissions", submissions),
        Route("/submissions/{submission_id}", submission),
        Route("/submissions/{submission_id}/reports/{kind}", submission_report),
        Route("/review", review_queue),
        *entry_form.routes(),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(CatchAll), Middleware(BodyLimit)],
        exception_handlers={HTTPException: not_found, StoreBusy: not_found},
    )
    app.state.portal = portal
    return app
