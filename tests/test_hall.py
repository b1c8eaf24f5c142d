"""The hall: every door (ingest, nightly, portal upload, web form) gives the same guarantees.

- Isolation: a UCI on record at another centre is held (CAND_04) and nothing of that centre's
  record is shown; the reply is the same whether the date of birth sent is right or wrong.
- Every error at once: a bad UCI in one row and a top-up without its full award in another are
  both reported by the first upload.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from starlette.testclient import TestClient

from entries.checks.validate import Context
from entries.core.status import Status
from entries.pipeline import hall
from entries.pipeline.nightly import run_nightly
from entries.store import database, refdata, users
from entries.web.app import create_app
from tests.conftest import FIXTURES

COMMIT = FIXTURES / "commit"
HEADER = (COMMIT / "full_award_certificate.csv").read_text(encoding="utf-8").splitlines()[0]
# Centre 12345's pupil, stored by full_award_certificate.csv: UCI 123450260042C, Smith Amy, 14/05/2009.
THEIRS = ("Smith", "Amy", "123450260042C")
RIGHT_DOB, WRONG_DOB = "14/05/2009", "01/01/2008"
PASSWORD = "correct horse battery staple"


def probe(dob: str) -> str:
    """Centre 23456's file: centre 12345's UCI under another name, with the date of birth given."""
    return f"{HEADER}\r\n23456,0007,123450260042C,,Baker,Harry,M,{dob},05838,,,,,,,\r\n"


@pytest.fixture
def store(tmp_path, loaded_store) -> Path:
    """A store with centre 12345's pupil on record."""
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    con = database.connect(db)
    try:
        reference = refdata.snapshot(con)
        ctx = Context(centre="12345", series="2027-06", received_on=dt.date(2027, 1, 15))
        stored = hall.submit(
            con,
            COMMIT / "full_award_certificate.csv",
            context=ctx,
            reference=reference,
            order_ref=None,
            out_dir=tmp_path,
        )
        assert stored.status == Status.PROCESSING_COMPLETE
        users.add_user(con, "riverside", PASSWORD, centre="23456")
    finally:
        con.close()
    return db


def reply(outcome: dict) -> tuple:
    """What the centre is told, without the file's own name and hash."""
    return (
        outcome["status"],
        outcome["held"],
        [(i["row"], i["column"], i["code"], i["message"]) for i in outcome["issues"]],
    )


def text_of_reports(folder: Path) -> str:
    """Every cell of every workbook and every CSV under `folder`, as one text."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".xlsx":
            for sheet in openpyxl.load_workbook(path, read_only=True).worksheets:
                found += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        elif path.suffix in (".csv", ".json", ".html"):
            found.append(path.read_text(encoding="utf-8"))
    return "\n".join(found)


def assert_none_of_theirs(*texts: str) -> None:
    for text in texts:
        for value in THEIRS[:2]:
            assert value not in text, f"centre 12345's pupil ({value}) shown to centre 23456"


def test_the_ingest_door_holds_another_centres_uci_and_says_the_same_whatever_the_date_of_birth(store, tmp_path):
    replies = []
    for n, dob in enumerate((RIGHT_DOB, WRONG_DOB)):
        sent = tmp_path / f"probe{n}.csv"
        sent.write_text(probe(dob), encoding="utf-8")
        out = tmp_path / f"out{n}"
        con = database.connect(store)
        try:
            reference = refdata.snapshot(con)
            ctx = hall.context_for(reference, "23456", dt.date(2027, 1, 15), "2027-06")
            outcome = hall.submit(con, sent, context=ctx, reference=reference, order_ref=None, out_dir=out)
        finally:
            con.close()
        told = outcome.as_json()
        assert told["status"] == "OCR handling this" and "CAND_04" in {i["code"] for i in told["issues"]}
        assert_none_of_theirs(json.dumps(told), text_of_reports(out))
        replies.append(reply(told))
    assert replies[0] == replies[1]


def test_the_nightly_door_holds_another_centres_uci_and_says_the_same_whatever_the_date_of_birth(store, tmp_path):
    replies = []
    for n, dob in enumerate((RIGHT_DOB, WRONG_DOB)):
        root = tmp_path / f"night{n}"
        (root / "inbox" / "23456").mkdir(parents=True)
        (root / "inbox" / "23456" / "probe.csv").write_text(probe(dob), encoding="utf-8")
        db = root / "e.duckdb"
        shutil.copyfile(store, db)
        result = run_nightly(
            root / "inbox", db, root / "out", received_on=dt.date(2027, 1, 15), settle_seconds=0, series="2027-06"
        )
        [told] = result.files
        assert told["status"] == "OCR handling this" and "CAND_04" in {i["code"] for i in told["issues"]}
        assert_none_of_theirs(json.dumps(result.as_json()), text_of_reports(root / "out"))
        replies.append(reply(told))
    assert replies[0] == replies[1]


def _client(db: Path, out: Path) -> tuple[TestClient, str]:
    c = TestClient(create_app(db, out, b"s" * 32))
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post(
        "/login", data={"username": "riverside", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    return c, re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)


def _page_reply(page: str) -> tuple:
    """The status and the issues table of a submission page, without its id, file name and times."""
    status = re.search(r'id="status">([^<]+)<', page).group(1)
    issues = re.findall(r'<tr class="(?:error|warning)">(.*?)</tr>', page, flags=re.S)
    return status, issues


def test_the_upload_door_holds_another_centres_uci_and_says_the_same_whatever_the_date_of_birth(store, tmp_path):
    replies = []
    for n, dob in enumerate((RIGHT_DOB, WRONG_DOB)):
        db = tmp_path / f"portal{n}.duckdb"
        shutil.copyfile(store, db)
        c, token = _client(db, tmp_path / f"out{n}")
        r = c.post(
            "/uploads",
            data={"order_ref": "PO-1", "csrf_token": token},
            files={"file": ("probe.csv", probe(dob).encode(), "text/csv")},
        )
        assert r.status_code == 200 and "CAND_04" in r.text
        assert_none_of_theirs(r.text, c.get("/submissions").text, text_of_reports(tmp_path / f"out{n}"))
        replies.append(_page_reply(r.text))
    assert replies[0] == replies[1] and replies[0][0] == "OCR handling this"


def test_the_web_form_door_says_the_same_whatever_the_date_of_birth(store, tmp_path):
    replies = []
    for n, dob in enumerate(("2009-05-14", "2008-01-01")):
        db = tmp_path / f"form{n}.duckdb"
        shutil.copyfile(store, db)
        c, token = _client(db, tmp_path / f"out{n}")
        c.get("/entries/new")
        c.post("/entries/assessment", data={"entry_code": "05838", "csrf_token": token})
        new = {
            "candidate_number": "0007",
            "uci": "123450260042C",
            "uln": "",
            "surname": "Baker",
            "forenames": "Harry",
            "sex": "M",
            "date_of_birth": dob,
            "group": "",
            "csrf_token": token,
        }
        r = c.post("/entries/candidates/new", data=new)
        assert "on record at another centre" in r.text and "New candidate" not in r.text
        assert_none_of_theirs(r.text)
        replies.append(re.findall(r'<p class="notice" role="status">(.*?)</p>', r.text, flags=re.S))
    assert replies[0] == replies[1] and replies[0]


def test_a_bad_uci_and_a_top_up_without_its_full_award_are_both_reported_by_one_upload(store, tmp_path):
    sent = tmp_path / "two_mistakes.csv"
    sent.write_text(
        f"{HEADER}\r\n"
        "12345,0050,123450260050A,,Khan,Sara,F,01/02/2009,05838,,,,,,,\r\n"  # a wrong check letter
        "12345,0051,,,Lee,Tom,M,03/04/2009,05839T1,,,,,,,\r\n",  # a top-up with no full award on record
        encoding="utf-8",
    )
    con = database.connect(store)
    try:
        reference = refdata.snapshot(con)
        ctx = hall.context_for(reference, "12345", dt.date(2027, 1, 15), "2027-06")
        outcome = hall.submit(con, sent, context=ctx, reference=reference, order_ref=None, out_dir=tmp_path / "out")
    finally:
        con.close()
    assert outcome.status == Status.READ_AND_REJECTED and outcome.rejected == 2
    assert {(i.row, i.code) for i in outcome.issues if i.severity == "error"} == {(2, "UCI_04"), (3, "CLS_01")}


def test_the_web_form_draft_survives_a_portal_restart(store, tmp_path):
    c, token = _client(store, tmp_path / "out")
    c.get("/entries/new")
    c.post("/entries/assessment", data={"entry_code": "05838", "csrf_token": token})
    c2, _ = _client(store, tmp_path / "out")  # a new portal process over the same store
    r = c2.get("/entries/candidates")
    assert r.url.path == "/entries/candidates" and "05838" in r.text
