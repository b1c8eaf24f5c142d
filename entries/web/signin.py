"""Signing in and out of the portal: the sign-in page, the password check (throttled), a new
session cookie on success, and signing out everywhere."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from entries.store.users import User, authenticate, sign_out_everywhere
from entries.web.portal import checked_form, page, portal_of, session_of
from entries.web.security import COOKIE, SESSION_SECONDS, Session, new_session


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
