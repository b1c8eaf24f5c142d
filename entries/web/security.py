"""The portal's guards: signed session cookies, CSRF tokens, sign-in throttling, security headers.

Sessions are a signed (HMAC-SHA256), HttpOnly, SameSite=Strict cookie holding only the username,
a CSRF token and the time it was issued: no personal data. Every form carries the session's CSRF
token; a POST without the right one is refused (403). Repeated failed sign-ins for one username or
from one address lock further attempts for a while (429).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

COOKIE = "entries_session"
SESSION_SECONDS = 8 * 3600
# Only this site's own files; no inline script anywhere (the pages have no script at all).
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def load_secret(path: Path) -> bytes:
    """The signing key: the file at `path`, created (owner-only) with 32 random bytes if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = path.open("xb")
        try:
            fd.write(secrets.token_bytes(32))
        finally:
            fd.close()
        path.chmod(0o600)
    key = path.read_bytes()
    if len(key) < 32:
        raise ValueError(f"the portal secret {path} is shorter than 32 bytes")
    return key


@dataclass(frozen=True)
class Session:
    username: str
    csrf: str
    issued: float


class Signer:
    """Signs and checks session cookies with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()).decode().rstrip("=")

    def dump(self, session: Session) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps({"u": session.username, "c": session.csrf, "t": session.issued}).encode()
        ).decode()
        return f"{body}.{self._mac(body.encode())}"

    def load(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session the cookie holds, or None when it is missing, forged or expired."""
        if not cookie or "." not in cookie or not cookie.isascii():
            return None
        body, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body.encode()))
            session = Session(str(data["u"]), str(data["c"]), float(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        if (now or time.time()) - session.issued > SESSION_SECONDS:
            return None
        return session


def new_session(username: str) -> Session:
    return Session(username, secrets.token_urlsafe(32), time.time())


def csrf_ok(session: Session | None, token: object) -> bool:
    if session is None or not isinstance(token, str) or not token.isascii():
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())


@dataclass
class Throttle:
    """Failed sign-ins per key (a username, an address): after `limit` within `window` seconds,
    further attempts are refused until the window has passed."""

    limit: int = 5
    window: float = 300.0
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = kept
        return kept

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def attempt(self, *keys: str) -> bool:
        """Check and count one attempt in one step (so attempts sent at once cannot all pass the
        check before any failure is counted): False when blocked; else the attempt counts as a
        failure until `succeeded` clears it."""
        now = time.monotonic()
        with self._lock:
            if any(len(self._recent(k, now)) >= self.limit for k in keys):
                return False
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._failures) > 10_000:  # keys of old attempts only: forget the stale ones
                for k in [k for k, times in self._failures.items() if not times]:
                    del self._failures[k]
            return True

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
