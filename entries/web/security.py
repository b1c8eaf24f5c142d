"""The portal's guards: signed session cookies, CSRF tokens, sign-in throttling, security headers.

Sessions are a signed (HMAC-SHA256), HttpOnly, SameSite=Strict cookie holding only the username,
a CSRF token and the time it was issued: no personal data. Every form carries the session's CSRF
token; a POST without the right one is refused (403). Repeated failed sign-ins for one account from
one address, or for any accounts from one address, are refused for a while (429: see `Throttle`);
the address is the direct peer's, or what a trusted proxy says it is (`client_address`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
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


# The sign-in throttle's limits (`Throttle`'s defaults): failures per (account, address) pair, per
# address over every account, and the window they are counted in (seconds).
PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 300.0


@dataclass
class Throttle:
    """Failed sign-ins, counted per (account, address) pair and per address.

    An attempt is refused (the caller answers 429) while, within the last `window` seconds (default
    300), its pair has `pair_limit` failures (default 5) or its address has `address_limit` failures
    over any accounts (default 20). Nothing is counted per account alone: failures from one address
    never lock the account's user out from another, so nobody can keep an account locked from afar.
    Refused attempts are not counted (a refusal does not prolong the wait). A success clears its
    own pair's failures only: the address keeps the failures it made on other accounts.

    `account` is the username as typed (any text: only its first 64 characters are kept) and
    `address` the client's address (`client_address`); an IPv6 address counts as its /64, the block
    one host is usually given, so stepping through one's own block does not reset the count."""

    pair_limit: int = PAIR_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window: float = WINDOW
    _failures: dict[tuple[str, ...], list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sweep_at: int = field(default=10_000, init=False, repr=False)

    def _keys(self, account: str, address: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        where = _address_block(address)
        return ("pair", account[:64], where), ("address", where)

    def _recent(self, key: tuple[str, ...], now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = kept
        return kept

    def _over(self, account: str, address: str, now: float) -> bool:
        pair, where = self._keys(account, address)
        return len(self._recent(pair, now)) >= self.pair_limit or len(self._recent(where, now)) >= self.address_limit

    def blocked(self, account: str, address: str) -> bool:
        """True when a sign-in to `account` from `address` would be refused now."""
        now = time.monotonic()
        with self._lock:
            return self._over(account, address, now)

    def attempt(self, account: str, address: str) -> bool:
        """Check and count one attempt in one step (so attempts sent at once cannot all pass the
        check before any failure is counted): False when blocked; else the attempt counts as a
        failure of its pair and its address until `succeeded` takes it back."""
        now = time.monotonic()
        with self._lock:
            if self._over(account, address, now):
                return False
            for key in self._keys(account, address):
                self._recent(key, now).append(now)
            if len(self._failures) > self._sweep_at:  # forget keys whose failures are all stale
                for key in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[key]
                self._sweep_at = max(10_000, 2 * len(self._failures))  # each sweep pays for itself
            return True

    def failed(self, account: str, address: str) -> None:
        """Count one failure of the pair and the address (without checking)."""
        now = time.monotonic()
        with self._lock:
            for key in self._keys(account, address):
                self._recent(key, now).append(now)

    def succeeded(self, account: str, address: str) -> None:
        """The password was right: forget the pair's failures, and take back the address's count
        of this attempt (one), not its failures on other accounts."""
        pair, where = self._keys(account, address)
        with self._lock:
            self._failures.pop(pair, None)
            counted = self._failures.get(where)
            if counted:
                counted.pop()


def _address_block(address: str) -> str:
    """The address as the throttle counts it: an IPv6 address's /64 network, else the address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def canonical_address(text: str) -> str:
    """An IP address in its one canonical spelling (an IPv4-mapped IPv6 address as the IPv4 one);
    ValueError when `text` is not an address."""
    ip = ipaddress.ip_address(text.strip())
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _canonical_or_none(text: str) -> str | None:
    try:
        return canonical_address(text)
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: list[str], trusted: frozenset[str]) -> str:
    """The address a request comes from, for the throttle: `peer` (the direct connection's address,
    "?" when unknown) unless it is one of the `trusted` proxies; then the right-most address of its
    `X-Forwarded-For` headers (`forwarded_for`, each a comma-separated list) that is not trusted
    itself (or the left-most, when all are). Addresses to the left of that one were written by
    whoever sent the request and are never believed; an entry that is not a plain address (one
    with a port, say) means the chain cannot be read, and the peer is used."""
    direct = _canonical_or_none(peer or "")
    if direct is None:  # not an IP address (a test client, a Unix socket): taken as it is
        return (peer or "?")[:64]
    proxies = {a for a in (_canonical_or_none(t) for t in trusted) if a is not None}
    if direct not in proxies:
        return direct
    chain = [part.strip() for header in forwarded_for for part in header.split(",")]
    chain = [part for part in chain if part]
    found = direct
    for part in reversed(chain):
        hop = _canonical_or_none(part)
        if hop is None:
            return direct
        found = hop
        if hop not in proxies:
            return hop
    return found
