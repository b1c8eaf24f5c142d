"""Amend on screen, then Submit (DESIGN §9; the guide's "make the amendments ... then click on
'Submit'"): an upload whose errors are all on its rows is not a submission; its rows with errors
come back as a form, every error at once; the corrections go through the same hall, and the page
either shows what is left or records the submission and shows its confirmation."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from entries.core import clock
from entries.intake.uci import complete
from tests import test_portal
from tests.conftest import ENTRIES_HEADER, stored
from tests.test_portal import csrf, status_of, upload

portal = test_portal.portal

TODAY = dt.date(2027, 1, 20)  # June 2027 at the standard fee: no late window to ask about


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def wrong_check_letter(number: str) -> str:
    right = complete(f"12345026{number}")
    return right[:-1] + ("A" if right[-1] != "A" else "B")


@pytest.fixture
def with_errors(tmp_path):
    """Three rows: a UCI with the wrong check letter (row 2), a clean entry (row 3) and a top-up
    with no full award on record (row 4): two mistakes of two stages, to be reported at once."""
    path = tmp_path / "entries with errors.csv"
    path.write_text(
        f"{ENTRIES_HEADER}\n"
        f"12345,0042,{wrong_check_letter('0042')},,Smith,Amy,F,14/05/2009,05838,,,,,,,13A\n"
        f"12345,0043,{complete('123450260043')},,Okafor,Bilal,M,02/03/2009,05838,,,,,,,13A\n"
        f"12345,0044,{complete('123450260044')},,Novak,Chloe,F,03/04/2009,05839T1,,,,,,,13A\n"
    )
    return path


def amend_url(page: str) -> str:
    return re.search(r'<form method="post" action="(/uploads/\d+/amend)"', page).group(1)


def test_every_error_comes_back_as_a_form_and_nothing_is_submitted(portal, with_errors):
    client, db, _ = portal
    c, token = client("northfield")
    r = upload(c, token, with_errors)
    assert r.history and r.history[0].status_code == 303  # POST, redirect, GET
    assert status_of(r.text) == "Not submitted: errors to correct"
    assert "amend" in amend_url(r.text)
    assert re.search(rf'name="cell:2:UCI" value="{wrong_check_letter("0042")}"', r.text)
    assert 'name="cell:4:Entry Code" value="05839T1"' in r.text  # the top-up's error, the same time
    assert "UCI_04" in r.text and "CLS_01" in r.text
    assert 'name="cell:3:' not in r.text  # the clean row is kept, not offered
    assert 'id="error-summary"' in r.text and 'href="#cell-2-uci"' in r.text
    assert stored(db, "SELECT count(*) FROM submissions") == [(0,)]
    history = c.get("/submissions").text
    listed = history[history.index('id="history"') :]
    assert "Not submitted: errors to correct" in history and "Read and rejected" not in listed


def test_corrections_are_checked_again_then_submitted_with_a_confirmation(portal, with_errors):
    client, db, _ = portal
    c, token = client("northfield")
    page = upload(c, token, with_errors).text
    url = amend_url(page)
    # Still wrong: shown again the same way, nothing recorded.
    r = c.post(url, data={"cell:2:UCI": "12345026004", "cell:4:Entry Code": "05839T1", "csrf_token": token})
    assert r.history[0].status_code == 303 and r.url.path == url
    assert 'name="cell:2:UCI" value="12345026004"' in r.text and "CLS_01" in r.text
    assert stored(db, "SELECT count(*) FROM submissions") == [(0,)]
    # Right: the UCI corrected and the top-up made a full award entry of the Certificate.
    r = c.post(
        url,
        data={"cell:2:UCI": complete("123450260042"), "cell:4:Entry Code": "05838", "csrf_token": csrf(r.text)},
    )
    assert r.history[0].status_code == 303 and r.url.path.startswith("/submissions/")
    assert status_of(r.text) == "Processing complete" and 'id="just-sent"' in r.text
    assert "confirmation_csv" in r.text and "reports/confirmation" in r.text
    assert stored(db, "SELECT count(*), min(file_name) FROM submissions") == [(1, "entries with errors.csv")]
    assert stored(db, "SELECT candidate_number, entry_code FROM entries ORDER BY 1") == [
        ("0042", "05838"),
        ("0043", "05838"),
        ("0044", "05838"),
    ]
    assert stored(db, "SELECT uci FROM candidates WHERE candidate_number = '0042'") == [(complete("123450260042"),)]
    assert stored(db, "SELECT count(*) FROM upload_drafts") == [(0,)]
    assert c.get(url).status_code == 404  # done with: the draft is gone
    assert c.post(url, data={"cell:2:UCI": "x", "csrf_token": token}).status_code == 404


def test_a_row_can_be_removed_instead_of_corrected(portal, with_errors):
    client, db, _ = portal
    c, token = client("northfield")
    url = amend_url(upload(c, token, with_errors).text)
    r = c.post(url, data={"cell:2:UCI": complete("123450260042"), "remove:4": "1", "csrf_token": token})
    assert status_of(r.text) == "Processing complete"
    assert stored(db, "SELECT candidate_number FROM entries ORDER BY 1") == [("0042",), ("0043",)]


def test_another_centres_upload_to_correct_is_not_found(portal, with_errors):
    client, _, _ = portal
    c, token = client("northfield")
    url = amend_url(upload(c, token, with_errors).text)
    other, other_token = client("riverside")
    assert other.get(url).status_code == 404
    assert other.post(url, data={"cell:2:UCI": "x", "csrf_token": other_token}).status_code == 404
    assert other.get(url.replace("/amend", "/annotated")).status_code == 404
    assert other.post(url.replace("/amend", "/discard"), data={"csrf_token": other_token}).status_code == 404
    assert c.get(url).status_code == 200  # still there for its own centre
    ops, _ = client("ops")
    assert ops.get(url).status_code == 200


@pytest.mark.parametrize(
    "field",
    ["cell:9:UCI", "cell:2:Not A Column", "cell:x:UCI", "remove:9", "other", "cell:2"],
)
def test_a_field_naming_no_cell_of_the_file_is_a_400(portal, with_errors, field):
    client, db, _ = portal
    c, token = client("northfield")
    url = amend_url(upload(c, token, with_errors).text)
    r = c.post(url, data={field: "1", "csrf_token": token})
    assert r.status_code == 400
    assert stored(db, "SELECT count(*) FROM submissions") == [(0,)]


def test_the_amend_form_needs_its_csrf_token_and_bad_ids_are_404(portal, with_errors):
    client, _, _ = portal
    c, token = client("northfield")
    url = amend_url(upload(c, token, with_errors).text)
    assert c.post(url, data={"cell:2:UCI": "x"}).status_code == 403
    assert c.get("/uploads/abc/amend").status_code == 404
    assert c.get("/uploads/99999/amend").status_code == 404


def test_every_row_removed_is_said_not_submitted(portal, with_errors):
    client, db, _ = portal
    c, token = client("northfield")
    url = amend_url(upload(c, token, with_errors).text)
    r = c.post(url, data={"remove:2": "1", "remove:3": "1", "remove:4": "1", "csrf_token": token})
    assert r.status_code == 400 and "Discard" in r.text
    assert stored(db, "SELECT count(*) FROM submissions") == [(0,)]


def test_a_discarded_upload_leaves_nothing(portal, with_errors):
    client, db, _ = portal
    c, token = client("northfield")
    url = amend_url(upload(c, token, with_errors).text)
    r = c.post(url.replace("/amend", "/discard"), data={"csrf_token": token})
    assert r.history[0].status_code == 303 and 'id="discarded"' in r.text
    assert stored(db, "SELECT count(*) FROM upload_drafts") == [(0,)]
    assert stored(db, "SELECT count(*) FROM submissions") == [(0,)]


def test_a_file_wide_error_is_still_read_and_rejected_with_the_guides_action(portal, tmp_path):
    client, _, _ = portal
    c, token = client("northfield")
    path = tmp_path / "no_entry_code_column.csv"
    path.write_text("Centre Number,Candidate Number,Surname,Forenames\n12345,0042,Smith,Amy\n")
    r = upload(c, token, path)
    assert status_of(r.text) == "Read and rejected"  # a missing column is not a cell to correct
    assert "Please call the OCR Customer Contact Centre to resolve this issue" in r.text
    assert "quote your centre number, entry code and claim number" in r.text


def test_a_refresh_after_an_upload_never_sends_it_again(portal):
    client, db, _ = portal
    c, token = client("northfield")
    r = upload(c, token, test_portal.SERIES / "no_series.csv")
    assert r.history[0].status_code == 303 and status_of(r.text) == "Processing complete"
    again = c.get(r.url)  # what a browser's refresh does after POST, redirect, GET
    assert status_of(again.text) == "Processing complete"
    assert stored(db, "SELECT count(*) FROM submissions") == [(1,)]
