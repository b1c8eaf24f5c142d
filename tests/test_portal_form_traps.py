"""The web entry form's traps (issue 22 items 3 and 5): units ticked are unit entries at unit
fees, never a full award charged by a radio left alone, and a contradiction is refused, not
guessed; every POST answers 303 to a GET page, so a refresh never posts again; odd values (a
group name of spaces or over 40 characters, an "added" choice the list does not offer, ids that
are not numbers, repeated or missing fields) are a 4xx page or a message beside their field,
never a 500. Over HTTP (Starlette's test client) and in Chromium (Playwright)."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from entries.core import clock
from tests import test_portal, test_portal_browser
from tests.conftest import FIXTURES, REFERENCE, stored
from tests.test_portal import upload

portal = test_portal.portal
server = test_portal_browser.server
page = test_portal_browser.page

TODAY = dt.date(2027, 1, 20)  # June 2027 at the standard fee
SERIES = "2027-06"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def _reference(name: str) -> list[dict[str, str]]:
    with (REFERENCE / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def unit_fee_pence(entry_code: str) -> int:
    """The standard fee of one examined unit entry of `entry_code` in June 2027, from the
    reference data (unit_fees.csv, by the qualification's suite)."""
    suite = next(q["suite_id"] for q in _reference("qualifications") if q["qualification_code"] == entry_code)
    return int(next(f["fee_pence"] for f in _reference("unit_fees") if (f["series"], f["suite_id"]) == (SERIES, suite)))


def full_award_fee_pence(entry_code: str) -> int:
    return int(
        next(f["fee_pence"] for f in _reference("fees") if (f["series"], f["entry_code"]) == (SERIES, entry_code))
    )


def pounds(pence: int) -> str:
    return f"£{pence // 100}.{pence % 100:02d}"


def problem(page_text: str, field: str) -> str | None:
    """The message shown beside the form's field `field`, if any."""
    found = re.search(rf'<p class="field-problem" id="{field}-problem" role="alert">(.*?)</p>', page_text, re.S)
    return found.group(1).strip() if found else None


@pytest.fixture
def officer(portal):
    """Northfield's client and token, 0042 Smith and 0043 Jones (group 13A) on record, and a form
    for 05839 with group 13A added: (client, token, db)."""
    client, db, _ = portal
    c, token = client("northfield")
    upload(c, token, FIXTURES / "series" / "no_series.csv")
    c.get("/entries/new")
    c.post("/entries/assessment", data={"entry_code": "05839", "csrf_token": token})
    c.post("/entries/candidates/group", data={"group": "13A", "csrf_token": token})
    return c, token, db


def keys_of(c) -> list[str]:
    return re.findall(r'name="key" value="([^"]+)"', c.get("/entries/options").text)


# Entry options: never guess money.


def test_units_ticked_with_no_option_chosen_are_unit_entries_at_unit_fees(officer):
    c, token, _ = officer
    r = c.post(
        "/entries/options",
        data={"key": keys_of(c), "unit": ["3", "6"], "then": "next", "csrf_token": token},
    )
    assert r.url.path == "/entries/summary"
    amounts = re.findall(r'<td class="num amount">(£[0-9.]+)</td>', r.text)
    kinds = re.findall(r'<td class="kind">([^<]+)</td>', r.text)
    assert sorted(kinds) == ["Unit 3", "Unit 3", "Unit 6", "Unit 6"]
    assert amounts == [pounds(unit_fee_pence("05839"))] * 4
    assert re.search(r'id="total">([^<]+)<', r.text).group(1) == pounds(4 * unit_fee_pence("05839"))


def test_full_award_chosen_with_units_ticked_is_refused_and_nothing_changes(officer):
    c, token, _ = officer
    keys = keys_of(c)
    r = c.post(
        "/entries/options",
        data={"key": keys, "option": "full", "unit": ["1", "3"], "then": "next", "csrf_token": token},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/entries/options#option")
    shown = c.get("/entries/options").text
    said = problem(shown, "option")
    assert said is not None and "Full award entry" in said and "units 1 and 3" in said
    # The form comes back as sent, to undo one of the two; no candidate has an option yet.
    assert 'value="full" checked' in shown and 'id="unit-3" checked' in shown
    assert shown.count("not chosen yet") == len(keys)
    assert c.get("/entries/summary").url.path == "/entries/options"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"option": "units"}, "unit"),  # a unit entry with no unit ticked
        ({"option": "units", "unit": ["1", "2", "3", "6"]}, "unit"),  # more than three at once
        ({"unit": "4"}, "unit"),  # unit 4 is moderated: no unit entry
        ({"unit": "3x"}, "unit"),
        ({}, "option"),  # nothing chosen
        ({"option": "full", "key": []}, "key"),  # no candidate ticked
    ],
)
def test_an_incomplete_or_impossible_option_is_said_at_its_field(officer, data, field):
    c, token, _ = officer
    sent = {"key": keys_of(c), "then": "next", "csrf_token": token, **data}
    r = c.post("/entries/options", data=sent)
    assert r.status_code == 200 and r.url.path == "/entries/options"
    assert problem(r.text, field) is not None
    assert r.text.count("not chosen yet") == 2


def test_units_with_a_top_up_code_are_refused(portal):
    client, _, _ = portal
    c, token = client("northfield")
    upload(c, token, FIXTURES / "series" / "no_series.csv")
    c.get("/entries/new")
    c.post("/entries/assessment", data={"entry_code": "05839T1", "csrf_token": token})
    c.post("/entries/candidates/group", data={"group": "13A", "csrf_token": token})
    r = c.post("/entries/options", data={"key": keys_of(c), "unit": "3", "csrf_token": token})
    assert problem(r.text, "unit") is not None and "Top-up entry" in r.text


def test_kinds_are_in_words_on_the_forms_pages(officer):
    c, token, _ = officer
    keys = keys_of(c)
    c.post("/entries/options", data={"key": keys[:1], "unit": "3", "csrf_token": token})
    r = c.post("/entries/options", data={"key": keys[1:], "option": "full", "then": "next", "csrf_token": token})
    pages = [r.text, c.get("/entries/options").text, c.get("/entries/assessment").text]
    assert "Unit 3" in r.text and "Full award" in r.text and "Top-up" in pages[2] and "Moving down" in pages[2]
    for text in pages:
        assert not re.search(r"full_award|top_up|move_down|full award\b", text), text


# POST, redirect, GET.


def test_every_post_of_the_form_answers_303_to_a_get_page(officer):
    c, token, db = officer
    keys = keys_of(c)
    ids = re.findall(
        r'name="candidate_id" value="(\d+)"',
        c.post("/entries/candidates/search", data={"text": "", "csrf_token": token}).text,
    )
    posts = [
        ("/entries/assessment", {"entry_code": "05839"}),
        ("/entries/candidates/search", {"text": "smith", "added_within": "week"}),
        ("/entries/candidates/add", {"candidate_id": ids}),
        ("/entries/candidates/group", {"group": "13A"}),
        ("/entries/groups", {"name": "Year 13 IT"}),
        ("/entries/candidates/group", {"group": "   "}),  # refused: the message is on the GET page
        ("/entries/options", {"key": keys, "option": "full", "unit": "3"}),  # refused, likewise
        ("/entries/options", {"key": keys, "option": "full"}),
        ("/entries/order", {"order_ref": "PO-9"}),
    ]
    for path, data in posts:
        r = c.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303, (path, r.status_code)
        assert c.get(r.headers["location"]).status_code == 200, path
    r = c.post("/entries/submit", data={"order_ref": "PO-9", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/submissions/\d+\?submitted=1", r.headers["location"])
    before = stored(db, "SELECT count(*), (SELECT count(*) FROM entries) FROM submissions")
    for _ in range(2):  # a refresh of the page submitting led to: a GET, nothing sent again
        shown = c.get(r.headers["location"])
        assert shown.status_code == 200 and 'id="just-sent"' in shown.text
    assert stored(db, "SELECT count(*), (SELECT count(*) FROM entries) FROM submissions") == before


# Never a 500.


@pytest.mark.parametrize("name", ["", " ", "     ", "x" * 41, " " + "y" * 41, "Year\x0013", None])
def test_a_group_name_of_spaces_or_over_40_characters_is_said_at_the_field(officer, name):
    c, token, db = officer
    data = {"csrf_token": token} if name is None else {"name": name, "csrf_token": token}
    r = c.post("/entries/groups", data=data)
    assert r.status_code == 200 and problem(r.text, "name") is not None
    assert stored(db, "SELECT count(*) FROM portal_groups") == [(0,)]


def test_a_group_name_of_40_characters_padded_with_spaces_is_made(officer):
    c, token, db = officer
    r = c.post("/entries/groups", data={"name": "  " + "z" * 40 + "  ", "csrf_token": token})
    assert problem(r.text, "name") is None and stored(db, "SELECT DISTINCT name FROM portal_groups") == [("z" * 40,)]


@pytest.mark.parametrize("within", ["fortnight", " ", "0", "week ", "😀"])
def test_an_invalid_added_within_is_said_at_the_field(officer, within):
    c, token, _ = officer
    r = c.post("/entries/candidates/search", data={"text": "smith", "added_within": within, "csrf_token": token})
    assert r.status_code == 200 and problem(r.text, "added_within") is not None


@pytest.mark.parametrize("number", ["abc", "12345", "1.5", "1e9", "😀", "../..", "\x00"])
def test_a_candidate_number_that_is_not_1_to_4_digits_is_said_at_the_field(officer, number):
    c, token, _ = officer
    person = {"surname": "Lee", "forenames": "Ann", "sex": "F", "date_of_birth": "2009-05-14"}
    r = c.post("/entries/candidates/new", data={**person, "candidate_number": number, "csrf_token": token})
    assert r.status_code == 200 and problem(r.text, "candidate_number") is not None
    assert "New candidate" not in r.text and 'value="Lee"' in r.text  # the rest comes back as typed


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/entries/candidates/add", {"candidate_id": "abc"}),
        ("/entries/candidates/add", {"candidate_id": ["1", "-2"]}),
        ("/entries/candidates/add", {"candidate_id": "9" * 12}),
        ("/entries/candidates/search", {"text": ["a", "b"]}),
        ("/entries/candidates/search", {"added_within": ["week", "month"]}),
        ("/entries/candidates/new", {"surname": ["Lee", "Moss"], "date_of_birth": "2009-05-14"}),
        ("/entries/candidates/new", {"candidate_number": ["1", "1"]}),
        ("/entries/groups", {"name": ["a", "b"]}),
        ("/entries/assessment", {"entry_code": ["05838", "05839"]}),
        ("/entries/options", {"option": "both", "key": "c1"}),
        ("/entries/options", {"option": ["full", "units"]}),
        ("/entries/remove", {"key": ["c1", "c2"]}),
        ("/entries/submit", {"order_ref": ["a", "b"]}),
    ],
)
def test_values_the_forms_pages_cannot_send_are_a_400(officer, path, data):
    c, token, _ = officer
    r = c.post(path, data={**data, "csrf_token": token})
    assert r.status_code == 400 and "Traceback" not in r.text


@pytest.mark.parametrize(
    ("path", "field"),
    [("/entries/assessment", "entry_code"), ("/entries/candidates/group", "group")],
)
def test_a_missing_choice_is_said_at_its_field(officer, path, field):
    c, token, _ = officer
    r = c.post(path, data={"csrf_token": token})
    assert r.status_code == 200 and problem(r.text, field) is not None


# In Chromium.


@pytest.mark.slow
def test_in_chromium_units_ticked_then_next_are_unit_entries_and_a_refresh_posts_nothing(page):
    tab, server = page
    tab.goto(f"{server}/uploads")
    tab.set_input_files("#file", str(FIXTURES / "series" / "no_series.csv"))  # group 13A: 0042 and 0043
    tab.click("form[action='/uploads'] button[type=submit]")
    tab.wait_for_selector("#status")
    tab.goto(f"{server}/entries/new")
    tab.check("#code-05839")
    tab.click("#next")
    tab.click("button:has-text('13A (2)')")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/options*")
    # As an exams officer does: tick the units, leave the radio alone, Next.
    tab.check("#unit-3")
    tab.check("#unit-6")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/summary")
    lines = tab.locator("table.summary tr.entry-line")
    assert lines.count() == 4
    fee = pounds(unit_fee_pence("05839"))
    for n in range(4):
        assert lines.nth(n).locator("td.kind").inner_text() in ("Unit 3", "Unit 6")
        assert lines.nth(n).locator("td.amount").inner_text() == fee
    assert tab.inner_text("#total") == pounds(4 * unit_fee_pence("05839"))
    assert pounds(full_award_fee_pence("05839")) not in tab.inner_text("table.summary")

    tab.click("#submit")
    tab.wait_for_url(re.compile(r".*/submissions/\d+\?submitted=1$"))
    assert tab.inner_text("#status") == "Processing complete"
    sent: list[str] = []
    tab.on("request", lambda request: sent.append(request.method))
    tab.reload()
    tab.wait_for_selector("#status")
    assert sent and "POST" not in sent
    tab.goto(f"{server}/submissions")
    assert tab.inner_text("table.history").count("Web entry form") == 1


@pytest.mark.slow
def test_in_chromium_next_and_the_chosen_candidates_stay_in_view_on_a_long_page(page):
    tab, server = page
    tab.goto(f"{server}/uploads")
    tab.set_input_files("#file", str(FIXTURES / "series" / "no_series.csv"))
    tab.click("form[action='/uploads'] button[type=submit]")
    tab.wait_for_selector("#status")
    tab.goto(f"{server}/entries/new")
    tab.check("#code-05839")
    tab.click("#next")
    tab.click("button:has-text('13A (2)')")
    tab.set_viewport_size({"width": 1100, "height": 420})  # a laptop with the browser's bars and a zoom
    height = 420
    assert tab.evaluate("document.documentElement.scrollHeight") > height  # a page longer than the window
    for where in ("0", "document.documentElement.scrollHeight"):
        tab.evaluate(f"window.scrollTo(0, {where})")
        for selector in ("#next", "#chosen"):
            box = tab.locator(selector).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (where, selector)
    assert tab.locator("#next").evaluate("b => b.tagName") == "BUTTON"
    assert "0043 Jones, Ben" in tab.inner_text("#chosen")
    test_portal_browser._shot(tab, "portal_form_long_page.png")
