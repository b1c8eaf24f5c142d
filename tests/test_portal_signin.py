"""Signing in cannot be turned against a user (issue 22): failures from one address never lock the
account from another; an address trying many accounts is throttled as a whole; X-Forwarded-For is
believed only from the proxies `entries web --forwarded-allow-ips` names; the argon2 check runs with
the store's lock free and off the event loop, and costs the same for an unknown username."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import argon2
import httpx
import pytest
from starlette.testclient import TestClient

from entries.cli import main
from entries.core import clock
from entries.web import signin
from entries.web.app import create_app
from entries.web.security import ADDRESS_LIMIT, PAIR_LIMIT, Throttle, client_address
from tests import test_portal
from tests.test_portal import PASSWORD, csrf

portal = test_portal.portal  # the portal's fixture: a store with two centres' users and an operator


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 1, 20))


def _from(app, address: str, headers: dict[str, str] | None = None) -> tuple[TestClient, str]:
    """A client whose requests come from `address` (the direct peer), and its sign-in form's token."""
    c = TestClient(app, client=(address, 50000), headers=headers, follow_redirects=False)
    return c, csrf(c.get("/login").text)


def _sign_in(c: TestClient, token: str, username: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    data = {"username": username, "password": password, "csrf_token": token}
    return c.post("/login", data=data, headers=headers).status_code


def test_failures_from_one_address_do_not_lock_the_user_out_from_another(portal):
    client, _, _ = portal
    app = client()[0].app
    attacker, a_token = _from(app, "127.0.0.2")
    assert [_sign_in(attacker, a_token, "northfield", "guess") for _ in range(PAIR_LIMIT)] == [401] * PAIR_LIMIT
    assert _sign_in(attacker, a_token, "northfield", PASSWORD) == 429
    user, u_token = _from(app, "127.0.0.3")
    assert _sign_in(user, u_token, "northfield", PASSWORD) == 303
    assert _sign_in(attacker, a_token, "northfield", "guess") == 429  # the user's success cleared their pair only


def test_an_address_trying_many_accounts_is_throttled_as_a_whole(portal):
    client, _, _ = portal
    app = client()[0].app
    sprayer, token = _from(app, "127.0.0.2")
    statuses = [_sign_in(sprayer, token, f"someone{n}", "guess") for n in range(ADDRESS_LIMIT)]
    assert statuses == [401] * ADDRESS_LIMIT  # no pair reached its own limit
    assert _sign_in(sprayer, token, "northfield", PASSWORD) == 429  # an account it never tried, all the same
    elsewhere, e_token = _from(app, "127.0.0.3")
    assert _sign_in(elsewhere, e_token, "northfield", PASSWORD) == 303


def test_a_success_clears_its_own_pair_and_hands_back_only_its_own_attempt():
    t = Throttle(pair_limit=5, address_limit=10, window=300)
    for _ in range(4):
        t.failed("a", "192.0.2.1")
        t.failed("b", "192.0.2.1")
    assert t.attempt("a", "192.0.2.1")
    t.succeeded("a", "192.0.2.1")  # the address still holds its 8 failures
    assert t.attempt("b", "192.0.2.1") and not t.attempt("b", "192.0.2.1")  # b: 5, its limit
    assert t.attempt("a", "192.0.2.1")  # a starts again; the address is now at 10
    assert not t.attempt("c", "192.0.2.1")


def test_an_ipv6_host_cannot_step_through_its_own_block_to_reset_the_count():
    t = Throttle(pair_limit=5, address_limit=3, window=300)
    for n in range(3):
        assert t.attempt(f"user{n}", f"2001:db8:1:2::{n + 1}")
    assert not t.attempt("user9", "2001:db8:1:2:ffff::9")
    assert t.attempt("user9", "2001:db8:1:3::1")  # the next /64 is someone else


def test_a_fresh_x_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_throttle(portal):
    client, _, _ = portal
    attacker, token = _from(client()[0].app, "127.0.0.2")
    for n in range(PAIR_LIMIT):
        assert _sign_in(attacker, token, "northfield", "guess", forwarded_for=f"198.51.100.{n}") == 401
    assert _sign_in(attacker, token, "northfield", "guess", forwarded_for="198.51.100.99") == 429


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(portal):
    _, db, tmp = portal
    app = create_app(db, tmp / "out", b"s" * 32, trusted_proxies=frozenset({"127.0.0.9"}))
    proxy, token = _from(app, "127.0.0.9")
    for _ in range(PAIR_LIMIT):
        assert _sign_in(proxy, token, "northfield", "guess", forwarded_for="203.0.113.5") == 401
    assert _sign_in(proxy, token, "northfield", PASSWORD, forwarded_for="203.0.113.5") == 429
    # Only the right-most address the proxy added is believed: what the client wrote left of it is not.
    assert _sign_in(proxy, token, "northfield", PASSWORD, forwarded_for="203.0.113.77, 203.0.113.5") == 429
    assert _sign_in(proxy, token, "northfield", PASSWORD, forwarded_for="203.0.113.6") == 303


def test_the_client_address_is_the_peer_unless_the_peer_is_a_trusted_proxy():
    proxies = frozenset({"10.0.0.1", "10.0.0.2"})
    assert client_address("192.0.2.7", ["198.51.100.1"], proxies) == "192.0.2.7"
    assert client_address("10.0.0.1", ["198.51.100.1, 192.0.2.8"], proxies) == "192.0.2.8"
    assert client_address("10.0.0.1", ["198.51.100.1", "192.0.2.8, 10.0.0.2"], proxies) == "192.0.2.8"
    assert client_address("10.0.0.1", ["10.0.0.2"], proxies) == "10.0.0.2"  # all trusted: the left-most
    assert client_address("10.0.0.1", [], proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", ["192.0.2.8:4431"], proxies) == "10.0.0.1"  # unreadable: the peer
    assert client_address("::ffff:10.0.0.1", ["192.0.2.8"], proxies) == "192.0.2.8"
    assert client_address(None, ["192.0.2.8"], proxies) == "?"


def test_the_password_is_checked_with_the_store_free_and_off_the_event_loop(portal, monkeypatch):
    client, _, _ = portal
    c, token = client()
    lock = c.app.state.portal._lock
    seen: list[tuple[bool, bool, str]] = []
    check = argon2.PasswordHasher.verify

    def watched(self, stored, password):
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        free = lock.acquire(blocking=False)  # another thread could take the store now
        if free:
            lock.release()
        seen.append((free, on_loop, stored.rsplit("$", 2)[0]))
        return check(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", watched)
    for username in ("northfield", "nobody-here"):
        assert _sign_in(c, token, username, "guess") == 401
    assert [(free, on_loop) for free, on_loop, _ in seen] == [(True, False), (True, False)]
    # An unknown username is checked against a hash of the same kind and cost: its time tells nothing.
    assert seen[0][2] == seen[1][2] and seen[0][2].startswith("$argon2id$")


def test_a_burst_of_sign_ins_checks_only_a_few_passwords_at_once(portal, monkeypatch):
    client, _, _ = portal
    app = client()[0].app
    busy, most = [0], [0]
    count = threading.Lock()
    check = argon2.PasswordHasher.verify

    def watched(self, stored, password):
        with count:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        try:
            time.sleep(0.05)  # long enough for the others to pile in, were they let through
            return check(self, stored, password)
        finally:
            with count:
                busy[0] -= 1

    monkeypatch.setattr(argon2.PasswordHasher, "verify", watched)

    async def burst() -> list[int]:
        async def one(n: int) -> int:
            transport = httpx.ASGITransport(app, client=(f"127.0.1.{n + 10}", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                token = csrf((await c.get("/login")).text)
                data = {"username": f"nobody{n}", "password": "guess", "csrf_token": token}
                return (await c.post("/login", data=data)).status_code

        return list(await asyncio.gather(*(one(n) for n in range(12))))

    assert asyncio.run(burst()) == [401] * 12
    assert 2 <= most[0] <= signin.SIGN_INS_AT_ONCE  # they did overlap, but no more than that


def test_forwarded_allow_ips_is_an_option_of_entries_web(capsys):
    with pytest.raises(SystemExit) as shown:
        main(["web", "--help"])
    assert shown.value.code == 0 and "--forwarded-allow-ips" in capsys.readouterr().out
    assert main(["web", "--forwarded-allow-ips", "10.0.0.1,not-an-address"]) == 2
    err = capsys.readouterr().err
    assert "not an IP address" in err and "Traceback" not in err


def test_entries_web_trusts_only_the_named_proxies_and_uvicorn_reads_no_proxy_headers(
    tmp_path, loaded_store, monkeypatch
):
    import shutil

    import uvicorn

    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    argv = [
        "--db",
        str(db),
        "--out",
        str(tmp_path / "out"),
        "web",
        "--forwarded-allow-ips",
        "10.0.0.1, ::ffff:10.0.0.2",
    ]
    assert main(argv) == 0
    assert served["app"].state.portal.trusted_proxies == frozenset({"10.0.0.1", "10.0.0.2"})
    assert served["proxy_headers"] is False  # one rule for X-Forwarded-For: the portal's
    served.clear()
    assert main(["--db", str(db), "--out", str(tmp_path / "out"), "web"]) == 0
    assert served["app"].state.portal.trusted_proxies == frozenset()
