"""Portal accounts: a username, an argon2 hash of the password, and whom the account acts for.

A centre user (`role` "centre") sees and changes only its own centre's data; an operator sees every
centre and the review queue. Passwords are never stored or logged, only their argon2id hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from entries.core import clock
from entries.core.errors import EntriesError, UsageError
from entries.store import database

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}")
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
# Checked against when the username is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY = _HASHER.hash("not anyone's password")


@dataclass(frozen=True)
class User:
    """Who is asking: the username, the role and (for a centre user) the centre."""

    username: str
    role: str  # "centre" or "operator"
    centre: str | None
    disabled: bool = False
    signed_out: float = 0.0  # sessions issued before this time (seconds since the epoch) are over

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def may_see(self, centre: str) -> bool:
        """True when this user may see or change `centre`'s data."""
        return self.is_operator or self.centre == centre


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise UsageError("a username is 3-40 characters: lower-case letters, digits, '.', '_' or '-'")
    return username


def add_user(
    con: duckdb.DuckDBPyConnection, username: str, password: str, *, centre: str | None = None, operator: bool = False
) -> User:
    """Create an account; `centre` (5 digits, a known centre) or `operator`, not both."""
    check_username(username)
    if operator == (centre is not None):
        raise UsageError("give --centre N or --operator (one of them)")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters")
    if centre is not None and not con.execute("SELECT 1 FROM all_centres WHERE centre_number = ?", [centre]).fetchall():
        raise UsageError(f"centre {centre} is not a known centre")
    if con.execute("SELECT 1 FROM portal_users WHERE username = ?", [username]).fetchall():
        raise EntriesError(f"the user {username} already exists")
    role = "operator" if operator else "centre"
    with database.transaction(con):
        con.execute(
            "INSERT INTO portal_users (username, password_hash, role, centre, created_at) VALUES (?, ?, ?, ?, ?)",
            [username, _HASHER.hash(password), role, centre, clock.now()],
        )
    return User(username, role, centre)


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    return [
        User(u, r, c, bool(d))
        for u, r, c, d in con.execute(
            "SELECT username, role, centre, disabled FROM portal_users ORDER BY username"
        ).fetchall()
    ]


def disable_user(con: duckdb.DuckDBPyConnection, username: str) -> None:
    if not con.execute("SELECT 1 FROM portal_users WHERE username = ?", [username]).fetchall():
        raise EntriesError(f"no user {username}")
    with database.transaction(con):
        con.execute("UPDATE portal_users SET disabled = TRUE WHERE username = ?", [username])


def find_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    """The account (None if there is none or it is disabled)."""
    found = con.execute(
        "SELECT username, role, centre, disabled, coalesce(signed_out, 0) FROM portal_users WHERE username = ?",
        [username],
    ).fetchall()
    if not found or found[0][3]:
        return None
    u, r, c, d, out = found[0]
    return User(u, r, c, bool(d), float(out))


def sign_out_everywhere(con: duckdb.DuckDBPyConnection, username: str, at: float) -> None:
    """End every session of the account issued up to `at` (seconds since the epoch): signing out
    ends the session for good, even where its cookie was copied."""
    with database.transaction(con):
        con.execute("UPDATE portal_users SET signed_out = ? WHERE username = ?", [at, username])


@dataclass(frozen=True)
class Credentials:
    """What checking a password needs, as read from the store: the stored argon2 hash (a dummy one
    when there is no such account) and the account (None when there is none or it is disabled)."""

    password_hash: str = field(repr=False)
    user: User | None


def credentials(con: duckdb.DuckDBPyConnection, username: str) -> Credentials:
    """The account's stored hash and who it is: a quick read, so the store is held only for that."""
    found = con.execute(
        "SELECT password_hash, role, centre, disabled FROM portal_users WHERE username = ?", [username]
    ).fetchall()
    if not found:
        return Credentials(_DUMMY, None)
    stored, role, centre, disabled = found[0]
    return Credentials(stored, None if disabled else User(username, role, centre))


def verify(found: Credentials, password: str) -> User | None:
    """The user when `password` matches the hash and the account is enabled; else None. The argon2
    check (slow on purpose) needs no store; it is run for unknown and disabled accounts too (against
    the dummy hash), so the time taken does not tell which usernames exist."""
    try:
        _HASHER.verify(found.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return found.user


def authenticate(con: duckdb.DuckDBPyConnection, username: str, password: str) -> User | None:
    """The user when the password is right and the account enabled; else None (same cost either way).
    This holds `con` through the argon2 check: the portal reads `credentials` and calls `verify` apart."""
    return verify(credentials(con, username), password)
