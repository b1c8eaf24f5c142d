"""The centre portal: server-rendered pages over the same hall as every other door.

Pages carry no script; forms are plain HTML. An upload goes through the hall
(`entries.pipeline.hall`): read and checked at once, then committed as the nightly import commits;
its page shows the status and every issue. This module holds signing in and out, the home page,
the template, the upload, and `create_app`; the shared request helpers are in `entries.web.portal`,
the submission pages in `entries.web.pages`, the web form in `entries.web.entry_form`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from entries.core.errors import StoreBusy
from entries.core.limits import ReadLimits
from entries.reports.template import cached_template, read_offer
from entries.store.centres import centre_name, is_known_centre
from entries.web import amend, entry_form
from entries.web.middleware import BodyLimit, CatchAll, SecurityHeaders
from entries.web.pages import review_queue, submission, submission_report, submissions, withdraw
from entries.web.portal import (
    HERE,
    Portal,
    centre_for,
    checked_form,
    land_upload,
    not_found,
    page,
    portal_of,
    private_folder,
    user_of,
)
from entries.web.signin import login, login_page, logout


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def home(request: Request) -> Response:
    user, _ = await user_of(request)

    def name() -> str | None:
        if user.is_operator or not user.centre:
            return None
        with portal_of(request).store() as con:
            return centre_name(con, user.centre)

    return page(request, "home.html", {"user": user, "centre_name": await run_in_threadpool(name)})


async def template_download(request: Request) -> Response:
    user, _ = await user_of(request)
    centre = centre_for(user, request.query_params.get("centre"))
    portal = portal_of(request)

    def make() -> Path:
        with portal.store() as con:  # the offer read under the store's lock, the workbook written outside it
            if not is_known_centre(con, centre):  # an operator's typing slip: said, never a 500
                raise HTTPException(404, f"There is no centre {centre} on record.")
            offer = read_offer(con, centre)
        return cached_template(private_folder(portal.templates), offer)

    path = await run_in_threadpool(make)
    return FileResponse(path, filename=f"entries_template_{centre}.xlsx")


async def upload_page(request: Request) -> Response:
    user, _ = await user_of(request)
    return page(request, "upload.html", {"user": user, "error": None, "discarded": "discarded" in request.query_params})


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
        landed = await run_in_threadpool(land_upload, portal, path, centre, order_ref, user.username)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # POST, redirect, GET: a refresh of the page that follows never sends the file again.
    if landed.draft_id is not None:
        return RedirectResponse(f"/uploads/{landed.draft_id}/amend", status_code=303)
    return RedirectResponse(f"/submissions/{landed.submission_id}?uploaded=1", status_code=303)


def _too_big(portal: Portal) -> str:
    return f"The file is larger than {portal.limits.max_file_bytes // (1024 * 1024)} MB, the most this service reads."


def create_app(
    db: Path,
    out_dir: Path,
    key: bytes,
    limits: ReadLimits | None = None,
    trusted_proxies: frozenset[str] = frozenset(),
) -> Starlette:
    """The portal as an ASGI app over the store at `db`, writing reports under `out_dir`; the
    `X-Forwarded-For` of a request from one of `trusted_proxies` (addresses) names its client."""

    portal = Portal(db, out_dir, key, limits, trusted_proxies)
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
        Route("/submissions/{submission_id}/withdraw", withdraw, methods=["POST"]),
        Route("/review", review_queue),
        *amend.routes(),
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
