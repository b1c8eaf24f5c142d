"""The portal is accessible (issue 22 item 6): every page it serves, signed out, as a centre and as
an operator, in each state a person meets (empty, with results, with errors to correct, with a
message beside a field), passes axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules in Chromium with no
serious or critical violation; and the whole journey (sign in, upload, amend, the web entry form,
submit, history, sign out) is done with the keyboard alone, every control reached with Tab and
showing where the focus is.

axe-core comes bundled in axe-playwright-python (requirements-dev.lock); the browser is Debian's
chromium, as for the other browser tests."""

from __future__ import annotations

import datetime as dt

import pytest

from entries.core import clock
from entries.intake.uci import complete
from tests import test_portal_browser
from tests.conftest import ENTRIES_HEADER, FIXTURES
from tests.test_portal_amend import wrong_check_letter
from tests.test_portal_browser import PASSWORD, _shot

server = test_portal_browser.server

TODAY = dt.date(2027, 1, 20)  # June 2027 at the standard fee
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = ("serious", "critical")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


def signed_in(browser, server: str, username: str | None):
    """A new tab, signed in as `username` (None: signed out)."""
    tab = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    tab.goto(f"{server}/login")
    if username is not None:
        tab.fill("#username", username)
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{server}/")
    return tab


def violations(tab) -> list[str]:
    """axe-core's serious and critical violations of the WCAG A and AA rules on the tab's page, as
    'rule (impact): the elements' lines."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(tab, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
        for v in found.response["violations"]
        if v["impact"] in BLOCKING
    ]


def entries_with_errors(tmp_path):
    path = tmp_path / "entries with errors.csv"
    path.write_text(
        f"{ENTRIES_HEADER}\n"
        f"12345,0042,{wrong_check_letter('0042')},,Smith,Amy,F,14/05/2009,05838,,,,,,,13A\n"
        f"12345,0043,{complete('123450260043')},,Okafor,Bilal,M,02/03/2009,05838,,,,,,,13A\n"
    )
    return path


def upload(tab, server: str, path) -> None:
    tab.goto(f"{server}/uploads")
    tab.set_input_files("#file", str(path))
    tab.click("form[action='/uploads'] button[type=submit]")
    tab.wait_for_selector("#status")


@pytest.mark.slow
def test_every_page_passes_axe_core_with_no_serious_or_critical_violation(browser, server, tmp_path):
    found: dict[str, list[str]] = {}

    def check(tab, name: str) -> None:
        tab.wait_for_load_state("load")
        found[name] = violations(tab)

    guest = signed_in(browser, server, None)
    check(guest, "sign in")
    guest.fill("#username", "northfield")
    guest.fill("#password", "not the password")
    guest.click("button[type=submit]")
    check(guest, "sign in refused")
    guest.goto(f"{server}/no-such-page")
    check(guest, "not found, signed out")

    tab = signed_in(browser, server, "northfield")
    check(tab, "home")
    tab.goto(f"{server}/uploads")
    check(tab, "upload")
    upload(tab, server, FIXTURES / "series" / "no_series.csv")
    check(tab, "upload processed")
    upload(tab, server, entries_with_errors(tmp_path))
    check(tab, "errors to correct (amend)")
    tab.fill("#cell-2-uci", "still wrong")
    tab.click("#submit")
    tab.wait_for_selector("#status")
    check(tab, "amend with errors left")
    upload(tab, server, FIXTURES / "intake" / "missing_columns.csv")
    check(tab, "read and rejected")
    upload(tab, server, FIXTURES / "intake" / "truncated.xlsx")
    check(tab, "upload failed")
    upload(tab, server, FIXTURES / "intake" / "header_only.csv")
    check(tab, "empty file")
    tab.goto(f"{server}/submissions")
    check(tab, "history")
    first = tab.locator("table.history a[href^='/submissions/']").first.get_attribute("href")
    tab.goto(f"{server}/submissions?qualification=extended+certificate&group=13a")
    check(tab, "history searched")
    tab.goto(f"{server}{first}")
    check(tab, "a submission")

    tab.goto(f"{server}/entries/new")
    check(tab, "form: assessment")
    tab.click("#next")  # nothing chosen: a message beside the field
    check(tab, "form: assessment refused")
    tab.check("#code-05839")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/candidates")
    check(tab, "form: candidates")
    tab.fill("input[name=text]", "smith")
    tab.click("form[action='/entries/candidates/search'] button[type=submit]")
    check(tab, "form: candidates found")
    tab.click("button:has-text('13A (2)')")
    tab.fill("input[name=name]", "   ")
    tab.click("form[action='/entries/groups'] button[type=submit]")
    check(tab, "form: group name refused")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/options*")
    check(tab, "form: options")
    tab.check("input[name=option][value=full]")
    tab.check("#unit-3")
    tab.click("#next")
    check(tab, "form: options refused")
    tab.uncheck("#unit-3")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/summary")
    check(tab, "form: summary")
    tab.click("#submit")
    tab.wait_for_selector("#just-sent")
    check(tab, "form: submitted")

    ops = signed_in(browser, server, "ops")
    check(ops, "operator home")
    ops.goto(f"{server}/review")
    check(ops, "review queue")
    ops.goto(f"{server}/submissions")
    check(ops, "operator history")
    ops.goto(f"{server}/template?centre=99999")
    check(ops, "operator: unknown centre")

    failing = {name: problems for name, problems in found.items() if problems}
    assert not failing, "\n".join(f"{name}: {line}" for name, lines in failing.items() for line in lines)


def tab_to(tab, selector: str, limit: int = 80) -> None:
    """Press Tab (as a person does) until the focus is on the element `selector` matches, failing
    if it is never reached in `limit` presses or does not show its focus."""
    for _ in range(limit):
        tab.keyboard.press("Tab")
        if tab.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            shown = tab.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 || s.boxShadow !== 'none'; }"
            )
            assert shown, f"{selector} has the focus but does not show it"
            return
    raise AssertionError(f"{selector} cannot be reached with Tab in {limit} presses")


def arrow_to(tab, value: str, limit: int = 40) -> None:
    """In a group of radio buttons with the focus, press ArrowDown until the one of `value` is chosen."""
    for _ in range(limit):
        if tab.evaluate("v => document.activeElement.value === v && document.activeElement.checked", value):
            return
        tab.keyboard.press("ArrowDown")
    raise AssertionError(f"the option {value} cannot be reached with the arrow keys")


@pytest.mark.slow
def test_the_whole_journey_works_by_keyboard(browser, server, tmp_path):
    tab = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    tab.goto(f"{server}/login")
    tab_to(tab, "a.skip-link")  # the first stop: past the header to the page
    tab_to(tab, "#username")
    tab.keyboard.type("northfield")
    tab_to(tab, "#password")
    tab.keyboard.type(PASSWORD)
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/")

    # Upload with one error, by keyboard: the file input opens the chooser with Space.
    tab_to(tab, "nav a[href='/uploads']")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/uploads")
    tab_to(tab, "#file")
    with tab.expect_file_chooser() as chooser:
        tab.keyboard.press("Space")
    chooser.value.set_files(str(entries_with_errors(tmp_path)))
    tab_to(tab, "form[action='/uploads'] button[type=submit]")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#error-summary")
    # The error summary links to the field; the correction is typed there, then Submit.
    tab_to(tab, "#error-summary a")
    tab.keyboard.press("Enter")
    tab.wait_for_function("() => document.activeElement.id === 'cell-2-uci'")
    tab.keyboard.press("Control+A")
    tab.keyboard.type(complete("123450260042"))
    tab_to(tab, "#submit")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#just-sent")
    assert tab.inner_text("#status") == "Processing complete"

    # The web entry form, every step by keyboard.
    tab_to(tab, "nav a[href='/entries/new']")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/entries/assessment")
    tab_to(tab, "input[name=entry_code]")
    arrow_to(tab, "05839")
    tab_to(tab, "#next")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/entries/candidates")
    tab_to(tab, "form[action='/entries/candidates/group'] button")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("text=candidate(s) of group 13A added")
    tab_to(tab, "#next")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/entries/options*")
    tab_to(tab, "input[name=option]")
    arrow_to(tab, "full")
    tab_to(tab, "#next")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/entries/summary")
    tab_to(tab, "#order_ref")
    tab.keyboard.type("KEYS-1")
    tab_to(tab, "#submit")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#just-sent")
    assert tab.inner_text("#status") == "Processing complete"

    tab_to(tab, "nav a[href='/submissions']")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/submissions")
    assert "KEYS-1" in tab.inner_text("table.history")
    _shot(tab, "portal_history_keyboard.png")
    tab_to(tab, "nav button.link")  # Sign out
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{server}/login")
