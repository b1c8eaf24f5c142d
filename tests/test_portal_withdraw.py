"""Withdrawing entries in the portal (DESIGN §10): a centre withdraws its own submission's entries
and sees the credit; another centre's submission or entry is a 404; the form needs its CSRF token.
The portal withdraws through the same store function as `entries withdraw`."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from entries.core import clock
from entries.store import database
from tests import test_portal
from tests.conftest import REFERENCE, stored
from tests.test_portal import SERIES, csrf, status_of, upload

portal = test_portal.portal  # the portal's fixture: a store with two centres' users and an operator

TODAY = dt.date(2027, 1, 20)  # before June 2027's entry deadline: a withdrawal is credited in full


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def fee(series: str, code: str) -> int:
    with (REFERENCE / "fees.csv").open(newline="") as f:
        return next(int(r["fee_pence"]) for r in csv.DictReader(f) if (r["series"], r["entry_code"]) == (series, code))


def uploaded(client) -> tuple:
    """northfield (centre 12345) uploads its clean file: (client, token, submission page)."""
    c, token = client("northfield")
    r = upload(c, token, SERIES / "no_series.csv")
    assert status_of(r.text) == "Processing complete"
    return c, token, r.text


def entry_ids(page: str) -> list[str]:
    return re.findall(r'name="entry_id" value="(\d+)"', page)


def test_a_centre_withdraws_its_own_entry_and_sees_the_credit(portal):
    client, db, _ = portal
    c, token, page = uploaded(client)
    full_award = stored(db, "SELECT entry_id FROM entries WHERE entry_code = '05838'")[0][0]
    assert str(full_award) in entry_ids(page) and len(entry_ids(page)) == 3  # 05838, and 05839 units 1 and 2
    r = c.post("/submissions/1/withdraw", data={"entry_id": str(full_award), "csrf_token": token})
    assert r.status_code == 200
    credit = fee("2027-06", "05838")
    assert re.search(r'id="credit">£([0-9.]+)<', r.text).group(1) == f"{credit / 100:.2f}"
    assert str(full_award) not in entry_ids(r.text) and len(entry_ids(r.text)) == 2
    assert stored(db, "SELECT entry_id, withdrawn_on, credit_pence, by_whom FROM withdrawals") == [
        (full_award, TODAY, credit, "portal northfield")
    ]
    # Two at once (the repeatable field), then the history shows the three withdrawn.
    rest = entry_ids(r.text)
    r = c.post("/submissions/1/withdraw", data={"entry_id": rest, "csrf_token": token})
    assert r.status_code == 200 and entry_ids(r.text) == []
    assert stored(db, "SELECT count(*) FROM withdrawals") == [(3,)]
    assert "3 (£" in c.get("/submissions").text
    # Withdrawn already: said on the page, nothing changed.
    again = c.post("/submissions/1/withdraw", data={"entry_id": str(full_award), "csrf_token": token})
    assert again.status_code == 409 and 'id="withdraw-refused"' in again.text
    assert stored(db, "SELECT count(*) FROM withdrawals") == [(3,)]


def test_another_centres_submission_or_entry_is_not_found(portal):
    client, db, _ = portal
    north, north_token, _ = uploaded(client)
    theirs = stored(db, "SELECT min(entry_id) FROM entries")[0][0]
    river, token = client("riverside")
    r = river.post("/submissions/1/withdraw", data={"entry_id": str(theirs), "csrf_token": token})
    assert r.status_code == 404
    assert river.post("/submissions/999/withdraw", data={"entry_id": "1", "csrf_token": token}).status_code == 404
    # An entry of no submission of the centre's, named on its own submission, is not found either.
    assert north.post("/submissions/1/withdraw", data={"entry_id": "999", "csrf_token": north_token}).status_code == 404
    assert north.post("/submissions/1/withdraw", data={"entry_id": "x", "csrf_token": north_token}).status_code == 404
    assert stored(db, "SELECT count(*) FROM withdrawals") == [(0,)]


def test_the_withdraw_form_needs_its_csrf_token(portal):
    client, db, _ = portal
    c, _, page = uploaded(client)
    one = entry_ids(page)[0]
    assert c.post("/submissions/1/withdraw", data={"entry_id": one}).status_code == 403
    assert c.post("/submissions/1/withdraw", data={"entry_id": one, "csrf_token": "forged"}).status_code == 403
    assert stored(db, "SELECT count(*) FROM withdrawals") == [(0,)]
    assert csrf(page)  # the page's own form carries it


def test_an_entry_withdrawn_in_the_portal_after_billing_is_credited_by_the_next_invoice_run(portal, tmp_path):
    from entries.reports.invoice import produce_documents

    client, db, _ = portal
    c, token, _ = uploaded(client)
    con = database.connect(db)
    try:
        (invoice,) = produce_documents(con, "12345", tmp_path, on=TODAY).invoices
    finally:
        con.close()
    full_award = stored(db, "SELECT entry_id FROM entries WHERE entry_code = '05838'")[0][0]
    assert c.post("/submissions/1/withdraw", data={"entry_id": str(full_award), "csrf_token": token}).status_code == 200
    con = database.connect(db)
    try:
        made = produce_documents(con, "12345", tmp_path, on=TODAY + dt.timedelta(days=1))
    finally:
        con.close()
    (note,) = made.credit_notes
    assert note.new and note.credit_note.invoice_numbers == [invoice.invoice.invoice_number]
    assert [(line.entry_code, line.amount_pence) for line in note.credit_note.lines] == [
        ("05838", fee("2027-06", "05838"))
    ]
    assert [i.invoice.total_pence for i in made.invoices] == [invoice.invoice.total_pence]  # the invoice as issued
