"""Signing in and out of the portal: the sign-in page, the password check (throttled), a new
session cookie on success, and signing out everywhere.

The password check reads the account under the store's lock and releases it before the argon2
check, which runs on a worker thread (never the event loop). At most `SIGN_INS_AT_ONCE` checks are
under way at a time: a burst of sign-ins waits its turn without a thread, so it neither queues in
front of signed-in users' pages at the store's lock nor takes every worker thread or hundreds of
megabytes of memory. The throttle counts per account and address, and per address
(`entries.web.security.Throttle`); the address is the direct peer's, or
what a trusted proxy (`entries web --forwarded-allow-ips`) says it is."""

from __future__ import annotations

import time

from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from entries.store.users import Credentials, credentials, sign_out_everywhere, verify
from entries.web.portal import checked_form, page, portal_of, session_of
from entries.web.security import COOKIE, SESSION_SECONDS, Session, client_address, new_session

SIGN_INS_AT_ONCE = 4  # password checks under way at once (each argon2 check takes 64 MiB)
_SIGNING_IN: RunVar[CapacityLimiter] = RunVar("entries_signing_in")  # one per event loop, as anyio's own


def _signing_in() -> CapacityLimiter:
    try:
        return _SIGNING_IN.get()
    except LookupError:
        limiter = CapacityLimiter(SIGN_INS_AT_ONCE)
        _SIGNING_IN.set(limiter)
        return limiter


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
    peer = request.client.host if request.client else None
    address = client_address(peer, request.headers.getlist("x-forwarded-for"), portal.trusted_proxies)
    if not portal.throttle.attempt(username, address):
        return page(request, "login.html", {"error": "Too many failed sign-ins: wait a few minutes."}, 429)

    def read() -> Credentials:
        with portal.store() as con:
            return credentials(con, username)

    # At most SIGN_INS_AT_ONCE checks are under way: a burst of sign-ins queues here, holding no
    # thread, rather than in front of signed-in users' pages at the store's lock.
    async with _signing_in():
        found = await run_in_threadpool(read)  # the store is held for this read only
        user = await run_in_threadpool(verify, found, password)  # argon2: no lock, off the event loop
    if user is None:  # the attempt was counted as a failure before the check
        return page(request, "login.html", {"error": "The username or password is wrong."}, 401)
    portal.throttle.succeeded(username, address)
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
