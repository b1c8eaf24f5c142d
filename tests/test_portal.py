"""The centre portal over HTTP (Starlette's test client): accounts, security, uploads with their
issues on screen, history, the web entry form, and working beside a nightly import."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import sys

import openpyxl
import pytest
from starlette.testclient import TestClient

from entries.cli import main
from entries.store import database, users
from entries.web.app import create_app
from entries.web.security import CSP, Signer, Throttle, new_session
from tests.conftest import FIXTURES, stored

PASSWORD = "correct horse battery staple"
SERIES = FIXTURES / "series"


@pytest.fixture
def portal(tmp_path, loaded_store):
    """A store with two centre users and an operator, and a way to make signed-in clients."""
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    con = database.connect(db)
    users.add_user(con, "northfield", PASSWORD, centre="12345")
    users.add_user(con, "riverside", PASSWORD, centre="23456")
    users.add_user(con, "ops", PASSWORD, operator=True)
    con.close()
    app = create_app(db, tmp_path / "out", b"s" * 32)

    def client(username: str | None = None) -> tuple[TestClient, str]:
        c = TestClient(app)
        token = csrf(c.get("/login").text)
        if username is not None:
            r = c.post(
                "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
            )
            assert r.status_code == 303, r.text
            token = csrf(c.get("/").text)
        return c, token

    return client, db, tmp_path


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def status_of(page: str) -> str:
    return re.search(r'id="status">([^<]+)<', page).group(1)


def upload(c: TestClient, token: str, path, order_ref: str = "PO-1", name: str | None = None):
    return c.post(
        "/uploads",
        data={"order_ref": order_ref, "csrf_token": token},
        files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")},
    )


def test_health_and_security_headers_on_every_page(portal):
    client, _, _ = portal
    c, _ = client()
    r = c.get("/health")
    assert (r.status_code, r.text) == (200, "ok")
    for path in ("/health", "/login", "/submissions/1", "/static/portal.css"):
        h = c.get(path, follow_redirects=False).headers
        assert h["content-security-policy"] == CSP and "script-src 'none'" in CSP
        assert (h["x-frame-options"], h["x-content-type-options"], h["referrer-policy"]) == (
            "DENY",
            "nosniff",
            "no-referrer",
        )
    assert "<script" not in c.get("/login").text.lower()


def test_pages_need_a_session(portal):
    client, _, _ = portal
    c, _ = client()
    for path in ("/", "/uploads", "/submissions", "/submissions/1", "/template", "/entries/new"):
        r = c.get(path, follow_redirects=False)
        assert (r.status_code, r.headers.get("location")) == (303, "/login"), path


def test_the_session_cookie_is_signed_httponly_and_samesite(portal):
    client, _, _ = portal
    c = TestClient(client()[0].app)
    token = csrf(c.get("/login").text)
    r = c.post(
        "/login", data={"username": "northfield", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    value = c.cookies.get("entries_session")
    forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    c.cookies.set("entries_session", forged)
    assert c.get("/", follow_redirects=False).status_code == 303  # a tampered cookie is no session


def test_signer_refuses_forgeries_and_old_sessions():
    signer = Signer(b"k" * 32)
    session = new_session("northfield")
    assert signer.load(signer.dump(session)) == session
    assert Signer(b"x" * 32).load(signer.dump(session)) is None
    assert signer.load(signer.dump(session), now=session.issued + 9 * 3600) is None
    assert signer.load("garbage") is None and signer.load(None) is None


def test_a_post_without_the_sessions_csrf_token_is_refused(portal):
    client, _, _ = portal
    c, token = client("northfield")
    for data in ({}, {"csrf_token": "not-the-token"}):
        r = c.post("/uploads", data=data, files={"file": ("x.csv", b"a,b\n", "text/csv")})
        assert r.status_code == 403
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    # Another client's token is not this session's.
    other, other_token = client("riverside")
    assert c.post("/login", data={"username": "x", "password": "y", "csrf_token": other_token}).status_code == 403


def test_wrong_passwords_are_throttled(portal):
    client, _, _ = portal
    c, token = client()
    for _ in range(5):
        r = c.post("/login", data={"username": "northfield", "password": "wrong password", "csrf_token": token})
        assert r.status_code == 401 and "wrong" in r.text
    r = c.post("/login", data={"username": "northfield", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429  # even the right password waits now, for this account from this address
    # Another account from the same address is not locked by them (tests/test_portal_signin.py: per address).
    r = c.post(
        "/login", data={"username": "riverside", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303


def test_throttle_forgets_after_its_window(monkeypatch):
    import time

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    t = Throttle(pair_limit=2, address_limit=3, window=60)
    t.failed("a", "192.0.2.1")
    t.failed("a", "192.0.2.1")
    assert t.blocked("a", "192.0.2.1") and not t.blocked("b", "192.0.2.1") and not t.blocked("a", "192.0.2.2")
    t.failed("b", "192.0.2.1")
    assert t.blocked("c", "192.0.2.1")  # the address's own budget is spent
    now[0] += 61
    assert not t.blocked("a", "192.0.2.1") and not t.blocked("c", "192.0.2.1")


def test_a_disabled_account_cannot_sign_in(portal):
    client, db, _ = portal
    con = database.connect(db)
    users.disable_user(con, "riverside")
    con.close()
    c, token = client()
    r = c.post("/login", data={"username": "riverside", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 401


def test_an_upload_with_errors_shows_each_in_red_with_its_fix(portal):
    client, db, _ = portal
    c, token = client("northfield")
    r = upload(c, token, SERIES / "series_not_a_series.csv")
    # Not a submission: the rows come back to correct on screen (tests/test_portal_amend.py).
    assert r.status_code == 200 and r.url.path.endswith("/amend")
    assert status_of(r.text) == "Not submitted: errors to correct"
    assert 'name="cell:2:Series"' in r.text and 'href="#cell-2-series"' in r.text
    assert "Write the series as 2027-06 or June 2027" in r.text
    report = re.search(r'href="(/uploads/\d+/annotated)"', r.text).group(1)
    book = openpyxl.load_workbook(io.BytesIO(c.get(report).content))
    red = [
        cell.coordinate
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.fill is not None and cell.fill.fill_type == "solid" and str(cell.fill.fgColor.rgb).endswith("FFC7CE")
    ]
    assert red  # the centre's own rows, the Series cell in red
    assert stored(db, "SELECT count(*) FROM submissions") == [(0,)]


def test_a_clean_upload_is_stored_and_its_confirmation_can_be_downloaded(portal):
    client, _, _ = portal
    c, token = client("northfield")
    r = upload(c, token, SERIES / "no_series.csv", order_ref="PO-77")
    assert status_of(r.text) == "Processing complete"
    assert [s for s in re.findall(r"<li>([A-Za-z ]+) <span", r.text)] == [
        "Read and recognised",
        "Processing in progress",
        "Processing complete",
    ]
    assert re.search(r'id="claim">C\d{7}[A-Z]<', r.text)
    conf = re.search(r'href="(/submissions/\d+/reports/confirmation)"', r.text).group(1)
    assert c.get(conf).content[:2] == b"PK"


def test_an_upload_naming_no_series_in_a_late_window_is_refused_with_both_choices(portal, monkeypatch):
    from entries.core import clock

    # Received 1 March 2027: June 2027 takes entries only at the late fee, January 2028 at the standard fee.
    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 3, 1))
    client, _, _ = portal
    c, token = client("northfield")
    r = upload(c, token, SERIES / "no_series.csv")
    assert r.status_code == 200 and status_of(r.text) == "Not submitted: errors to correct"
    assert 'name="cell:2:Series"' in r.text and 'name="cell:3:Series"' in r.text
    assert r.text.count("SER_03") == 2
    assert "2027-06" in r.text and "2028-01" in r.text  # both choices named, from the reference data


def test_hostile_files_end_upload_failed_with_the_reason(portal):
    client, _, tmp = portal
    c, token = client("northfield")
    bomb = tmp / "not_really.xlsx"
    bomb.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    r = upload(c, token, bomb)
    assert status_of(r.text) == "Upload failed"
    evil_name = upload(c, token, SERIES / "no_series.csv", name="../../etc/passwd")
    assert evil_name.status_code == 200 and "passwd" in evil_name.text and not (tmp / "etc").exists()


def test_an_upload_over_the_limit_is_refused_before_reading(portal, monkeypatch):
    client, _, _ = portal
    c, token = client("northfield")
    c.app.state.portal.limits = type(c.app.state.portal.limits)(max_file_bytes=100)
    r = upload(c, token, SERIES / "no_series.csv")
    assert r.status_code == 413 and "larger than" in r.text


def test_a_centre_never_sees_another_centres_submission(portal):
    client, _, _ = portal
    north, token = client("northfield")
    upload(north, token, SERIES / "no_series.csv")
    river, _ = client("riverside")
    assert river.get("/submissions/1").status_code == 404
    assert river.get("/submissions/1/reports/confirmation").status_code == 404
    assert river.get("/submissions/999999").status_code == 404
    assert river.get("/submissions/abc").status_code == 404
    assert "no_series.csv" not in river.get("/submissions").text
    assert river.get("/review").status_code == 404  # operators only
    ops, _ = client("ops")
    assert ops.get("/submissions/1").status_code == 200 and ops.get("/review").status_code == 200


def test_history_filters_by_qualification_group_and_status(portal):
    client, _, _ = portal
    c, token = client("northfield")
    upload(c, token, SERIES / "no_series.csv")
    upload(c, token, SERIES / "series_not_a_series.csv")  # errors to correct: listed apart, not a submission
    page = c.get("/submissions").text
    assert page.count('href="/submissions/') == 1 and page.count("/amend") == 1
    assert c.get("/submissions", params={"status": "Read and rejected"}).text.count('href="/submissions/') == 0
    assert c.get("/submissions", params={"status": "Processing complete"}).text.count('href="/submissions/') == 1
    for found in ("05839", "5839", "extended certificate", "Extended  Certificate in IT", "EXTENDED"):
        assert c.get("/submissions", params={"qualification": found}).text.count('href="/submissions/') == 1, found
    assert c.get("/submissions", params={"qualification": "Diploma"}).text.count('href="/submissions/') == 0
    assert c.get("/submissions", params={"group": "nope"}).text.count('href="/submissions/') == 0
    assert c.get("/submissions", params={"group": "13 a"}).text.count('href="/submissions/') == 1  # 13A


def test_the_centres_template_downloads(portal):
    client, _, _ = portal
    c, _ = client("northfield")
    r = c.get("/template")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert [c.value for c in book["Entries"][1]][-1] == "Series"
    ops, _ = client("ops")
    assert (
        ops.get("/template").status_code == 400 and ops.get("/template", params={"centre": "23456"}).status_code == 200
    )


def test_a_template_is_written_once_per_offer_and_is_the_same_workbook(portal, monkeypatch):
    """The portal keeps a blank template once written (seconds of work) and sends that copy while
    the offer is unchanged; a day on which another series is open is another offer."""
    from entries.core import clock
    from entries.reports import template

    client, db, _ = portal
    c, _ = client("northfield")
    written: list[str | None] = []
    real = template.write_offer
    monkeypatch.setattr(template, "write_offer", lambda path, made: written.append(made.centre) or real(path, made))
    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 1, 20))
    first, again = c.get("/template"), c.get("/template")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert written == ["12345"]
    assert first.headers["content-disposition"].endswith('filename="entries_template_12345.xlsx"')
    con = database.connect(db)
    try:
        fresh = template.write_template(db.parent / "fresh.xlsx", con, "12345").read_bytes()
    finally:
        con.close()
    assert fresh == first.content  # the cached copy is the workbook write_template makes
    written.clear()
    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 5, 1))  # June 2027 closed: other series open
    later = c.get("/template")
    assert written == ["12345"] and later.content != first.content
    series = {c.value for c in openpyxl.load_workbook(io.BytesIO(later.content))["Lists"]["C"][1:]}
    assert "2027-06" not in series


def _entry_form(c: TestClient, token: str, code: str):
    c.get("/entries/new")
    r = c.post("/entries/assessment", data={"entry_code": code, "csrf_token": token})
    assert r.url.path == "/entries/candidates"
    return r


def test_the_web_form_makes_entries_through_the_same_commit(portal):
    client, _, _ = portal
    c, token = client("northfield")
    upload(c, token, SERIES / "no_series.csv")  # puts 0042 Smith and 0043 Jones (group 13A) on record
    assert "Extended Certificate" in c.get("/entries/assessment", params={"q": "extended"}).text
    r = _entry_form(c, token, "05839")
    assert "13A (2)" in r.text
    c.post("/entries/candidates/group", data={"group": "13A", "csrf_token": token})
    r = c.post(
        "/entries/candidates/new",
        data={
            "candidate_number": "",
            "uci": "",
            "uln": "",
            "surname": "Okafor",
            "forenames": "Chidi",
            "sex": "M",
            "date_of_birth": "2009-02-02",
            "group": "13A",
            "csrf_token": token,
        },
    )
    assert "New candidate 0001 added." in r.text
    keys = re.findall(r'name="key" value="([^"]+)"', c.get("/entries/options").text)
    assert len(keys) == 3
    # One unit entry (unit 3) for the new candidate, full awards for the others, then Next.
    c.post(
        "/entries/options",
        data={"key": [k for k in keys if k.startswith("n")], "option": "units", "unit": "3", "csrf_token": token},
    )
    r = c.post(
        "/entries/options",
        data={"key": [k for k in keys if k.startswith("c")], "option": "full", "then": "next", "csrf_token": token},
    )
    assert r.url.path == "/entries/summary"
    # Remove one candidate, then submit.
    first = re.search(r'name="key" value="(c\d+)"', r.text).group(1)
    r = c.post("/entries/remove", data={"key": first, "csrf_token": token})
    assert re.search(r'id="total">£([0-9.,]+)<', r.text).group(1) == "180.70"  # 05839 full award + unit 3
    r = c.post("/entries/submit", data={"order_ref": "WEB-1", "csrf_token": token})
    assert status_of(r.text) == "Processing complete"
    # The form's own submission, not a file: no file name, no spreadsheet rows.
    assert "WEB-1" in r.text and "<h1>Web entry form 05839</h1>" in r.text and ".csv" not in r.text
    history = c.get("/submissions").text
    assert history.count('href="/submissions/') == 2 and "WEB-1" in history


def test_a_new_candidate_is_checked_and_a_probable_duplicate_pointed_out(portal):
    client, _, _ = portal
    c, token = client("northfield")
    upload(c, token, SERIES / "no_series.csv")
    _entry_form(c, token, "05838")
    bad = {
        "candidate_number": "",
        "uci": "123450260042X",
        "uln": "",
        "surname": "Lee",
        "forenames": "Ann",
        "sex": "F",
        "date_of_birth": "2009-05-14",
        "group": "",
        "csrf_token": token,
    }
    r = c.post("/entries/candidates/new", data=bad)
    assert "check letter" in r.text.lower()
    twin = {**bad, "uci": "", "surname": "Smyth", "forenames": "Amy"}
    r = c.post("/entries/candidates/new", data=twin)
    assert "looks like candidate 0042" in r.text
    r = c.post("/entries/candidates/new", data={"confirm_new": "yes", "csrf_token": token})
    assert "New candidate 0001 added." in r.text


def test_a_top_up_in_the_form_needs_the_full_award_as_for_uploads(portal):
    client, _, _ = portal
    c, token = client("northfield")
    upload(c, token, SERIES / "no_series.csv")
    _entry_form(c, token, "05839T1")
    r = c.post("/entries/candidates/search", data={"text": "jones", "csrf_token": token})
    ids = re.findall(r'name="candidate_id" value="(\d+)"', r.text)
    c.post("/entries/candidates/add", data={"candidate_id": ids, "csrf_token": token})
    r = c.get("/entries/summary")
    assert "CLS_01" in r.text and "Read and rejected" in r.text


def test_another_centres_candidates_cannot_be_added_by_id(portal):
    client, _, _ = portal
    north, token = client("northfield")
    upload(north, token, SERIES / "no_series.csv")
    river, rtoken = client("riverside")
    _entry_form(river, rtoken, "05838")
    r = river.post("/entries/candidates/add", data={"candidate_id": ["1", "2"], "csrf_token": rtoken})
    assert "0 candidate(s) added." in r.text


def test_an_operator_makes_entries_for_the_centre_they_name(portal):
    client, _, _ = portal
    north, token = client("northfield")
    upload(north, token, SERIES / "no_series.csv")
    ops, otoken = client("ops")
    assert ops.get("/entries/new").status_code == 400  # which centre?
    ops.get("/entries/new", params={"centre": "12345"})
    r = ops.post("/entries/assessment", data={"entry_code": "05838", "csrf_token": otoken})
    assert r.url.path == "/entries/candidates" and "13A (2)" in r.text


def test_no_personal_data_in_urls(portal):
    client, _, _ = portal
    c, token = client("northfield")
    upload(c, token, SERIES / "no_series.csv")
    _entry_form(c, token, "05838")
    r = c.post("/entries/candidates/search", data={"text": "smith", "csrf_token": token})
    urls = [str(h.url) for h in r.history] + [str(r.url)]
    urls += re.findall(r'(?:href|action)="([^"]+)"', r.text)
    assert not [u for u in urls if re.search(r"smith|amy|123450260042", u, re.IGNORECASE)]


def test_users_command_reads_the_password_from_standard_input(tmp_path, loaded_store, monkeypatch, capsys):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["--db", str(db), "users", "add", "northfield", "--centre", "12345"]) == 0
    assert PASSWORD not in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["--db", str(db), "users", "add", "shorty", "--operator"]) == 2
    assert main(["--db", str(db), "users", "add", "x", "--operator", "--centre", "12345"]) == 2
    capsys.readouterr()
    assert main(["--db", str(db), "users", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"username": "northfield", "role": "centre", "centre": "12345", "disabled": False}
    ]
    assert main(["--db", str(db), "users", "disable", "northfield"]) == 0
    stored = database.connect(db).execute("SELECT password_hash FROM portal_users").fetchall()[0][0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.slow
def test_the_portal_answers_while_a_nightly_runs_and_never_fails_it(portal):
    from tests.test_operations import make_inbox, start_night

    client, db, tmp = portal
    c, token = client("northfield")
    inbox = make_inbox(tmp)
    for n in range(6):
        shutil.copy(FIXTURES / "commit" / "unit_entries_two_candidates.csv", inbox / "23456" / f"more_{n}.csv")
    child = start_night(tmp, db)
    try:
        assert child.poll() is None, "the night ended before the portal was asked"
        assert c.get("/submissions").status_code == 200
        answered_during_the_night = child.poll() is None
        r = upload(c, token, SERIES / "no_series.csv")
        assert status_of(r.text) == "Processing complete"
        assert answered_during_the_night, "the page was answered only after the night ended"
    finally:
        assert child.wait(timeout=300) == 0


def test_odd_input_is_refused_plainly_never_a_500(portal):
    client, _, _ = portal
    c, token = client("northfield")
    assert c.get("/submissions/²").status_code == 404
    assert (
        c.post("/uploads", data={"csrf_token": "tökén"}, files={"file": ("x.csv", b"a", "text/csv")}).status_code == 403
    )
    assert Signer(b"k" * 32).load("ünïcode.cookie") is None  # a browser sending one is simply signed out
    ops, otoken = client("ops")
    r = ops.post(
        "/uploads",
        data={"centre": ["12345", "23456"], "csrf_token": otoken},
        files={"file": ("x.csv", b"a", "text/csv")},
    )
    assert r.status_code == 400 and r.headers["content-security-policy"] == CSP


def test_an_unexpected_failure_is_the_plain_500_page_with_the_headers(portal, monkeypatch, tmp_path):
    client, _, _ = portal
    (tmp_path / "elsewhere").mkdir()
    c, _ = client("northfield")
    from entries.web import pages

    def broken(*_args, **_kwargs):
        raise ValueError("a cell that says Zoë O'Neill 123450260042C")

    monkeypatch.setattr(pages, "submission_history", broken)
    c = TestClient(c.app, raise_server_exceptions=False, cookies=c.cookies)
    monkeypatch.chdir(tmp_path / "elsewhere")  # the log's place must not follow the working directory
    r = c.get("/submissions")
    assert r.status_code == 500 and r.headers["content-security-policy"] == CSP
    assert "Zoë" not in r.text and "Traceback" not in r.text
    log = tmp_path / "logs" / "entries-errors.log"  # beside the portal's store
    assert "portal GET /submissions: ValueError" in log.read_text(encoding="utf-8")
    assert "Zoë" not in log.read_text(encoding="utf-8") and not (tmp_path / "elsewhere" / "data").exists()


def test_sign_ins_sent_at_once_are_throttled_all_the_same():
    t = Throttle(pair_limit=5, address_limit=20, window=300)
    allowed = [t.attempt("northfield", "192.0.2.1") for _ in range(31)]
    assert allowed.count(True) == 5  # each attempt is counted before its password is checked
    spread = [t.attempt(f"user{n}", "192.0.2.2") for n in range(31)]
    assert spread.count(True) == 20  # one address over many accounts: its own budget, counted the same way


def test_a_chunked_upload_over_the_limit_stops_at_the_limit(portal):
    client, _, _ = portal
    c, token = client("northfield")
    c.app.state.portal.limits = type(c.app.state.portal.limits)(max_file_bytes=100)
    sent = []

    def body():
        boundary = b"--b\r\n"
        yield boundary + b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        for _ in range(40):  # 40 x 100 KB, far past the 1 MB of room
            sent.append(1)
            yield b"x" * 100_000
        yield b"\r\n--b--\r\n"

    r = c.post("/uploads", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413


def test_the_form_never_swaps_centres_or_loses_a_draft_on_a_get(portal):
    client, _, _ = portal
    north, token = client("northfield")
    upload(north, token, SERIES / "no_series.csv")
    ops, otoken = client("ops")
    ops.get("/entries/new", params={"centre": "12345"})
    ops.post("/entries/assessment", data={"entry_code": "05838", "csrf_token": otoken})
    ops.post("/entries/candidates/group", data={"group": "13A", "csrf_token": otoken})
    # Neither a GET nor a POST without the token, naming another centre, touches the draft.
    ops.get("/entries/new", params={"centre": "23456"})
    assert ops.post("/entries/candidates/group?centre=23456", data={"group": "13A"}).status_code == 403
    assert "2 candidate(s)" in ops.get("/entries/candidates").text


def test_new_candidates_get_different_free_numbers_and_a_foreign_uci_is_refused(portal):
    client, _, _ = portal
    north, token = client("northfield")
    upload(north, token, SERIES / "no_series.csv")
    river, rtoken = client("riverside")
    _entry_form(river, rtoken, "05838")
    person = {
        "candidate_number": "",
        "uci": "",
        "uln": "",
        "forenames": "Ann",
        "sex": "F",
        "date_of_birth": "2009-05-14",
        "group": "",
        "csrf_token": rtoken,
    }
    river.post("/entries/candidates/new", data={**person, "surname": "Lee"})
    r = river.post("/entries/candidates/new", data={**person, "surname": "Moss"})
    assert "New candidate 0002 added." in r.text
    for dob in ("2009-05-14", "2010-01-01"):  # the same answer whatever the date of birth
        r = river.post(
            "/entries/candidates/new",
            data={**person, "surname": "Smith", "forenames": "Amy", "uci": "123450260042C", "date_of_birth": dob},
        )
        assert "This UCI is on record at another centre." in r.text and "0042" not in r.text


def test_signing_out_ends_the_session_even_where_its_cookie_was_copied(portal):
    client, _, _ = portal
    c, token = client("northfield")
    copied = TestClient(c.app, cookies=dict(c.cookies))
    assert copied.get("/", follow_redirects=False).status_code == 200
    c.post("/logout", data={"csrf_token": token})
    assert copied.get("/", follow_redirects=False).status_code == 303
    fresh, _ = client("northfield")  # signing in again makes a new, valid session
    assert fresh.get("/", follow_redirects=False).status_code == 200
