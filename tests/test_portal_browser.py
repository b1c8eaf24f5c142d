"""The portal in a real browser: Debian's headless Chromium driven by Playwright (its own browser
downloads are never used: `executable_path`). A person signs in, uploads a file with errors and
sees them in red; makes entries for a candidate group through the web form with one unit entry
and one removal; and sees both in the submission history. Screenshots go to data/screenshots/
(not committed) to look at."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time

import pytest

from entries.store import database, users
from entries.web.app import create_app
from tests.conftest import FIXTURES, PROJECT

PASSWORD = "correct horse battery staple"
SHOTS = PROJECT / "data" / "screenshots"


@pytest.fixture
def server(tmp_path, loaded_store):
    """The portal served by uvicorn on a free loopback port, in this process: centre 12345's user
    northfield and the operator ops, both with PASSWORD."""
    import uvicorn

    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    con = database.connect(db)
    users.add_user(con, "northfield", PASSWORD, centre="12345")
    users.add_user(con, "ops", PASSWORD, operator=True)
    con.close()
    app = create_app(db, tmp_path / "out", b"b" * 32)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(server, chromium):
    sync_api = pytest.importorskip("playwright.sync_api")
    browser_path = chromium
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        tab.goto(f"{server}/login")
        tab.fill("#username", "northfield")
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{server}/")
        yield tab, server
        browser.close()


def _shot(tab, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.slow
def test_upload_a_file_with_errors_and_see_them_in_red(page):
    """The amend journey: the errors come back in red as a form, corrected on screen, then Submit."""
    tab, server = page
    tab.goto(f"{server}/uploads")
    tab.set_input_files("#file", str(FIXTURES / "series" / "series_not_a_series.csv"))
    tab.fill("#order_ref", "PO-RED")
    tab.click("form[action='/uploads'] button[type=submit]")
    tab.wait_for_selector("#status")
    assert tab.inner_text("#status") == "Not submitted: errors to correct"
    message = tab.locator(".error-message", has_text="SER_01")
    assert message.count() == 1
    colour = message.first.evaluate("m => getComputedStyle(m).color")
    assert colour == "rgb(212, 53, 28)"  # errors in red
    assert "Write the series as 2027-06 or June 2027" in tab.inner_text("#row-2")
    _shot(tab, "portal_upload_errors.png")
    tab.click("#error-summary a")  # the summary links to the field
    assert tab.evaluate("document.activeElement.id") == "cell-2-series" or tab.url.endswith("#cell-2-series")
    tab.fill("#cell-2-series", "2027-06")
    tab.click("#submit")
    tab.wait_for_selector("#just-sent")
    assert tab.inner_text("#status") == "Processing complete"
    tab.reload()  # a refresh after the redirect never posts again
    assert tab.inner_text("#status") == "Processing complete"


@pytest.mark.slow
def test_entries_for_a_group_with_a_unit_entry_and_a_removal_then_history(page):
    tab, server = page
    tab.goto(f"{server}/uploads")
    tab.set_input_files("#file", str(FIXTURES / "series" / "no_series.csv"))  # group 13A: 0042 and 0043
    tab.click("form[action='/uploads'] button[type=submit]")
    tab.wait_for_selector("#status")
    assert tab.inner_text("#status") == "Processing complete"

    tab.goto(f"{server}/entries/new")
    tab.check("#code-05839")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/candidates")
    _shot(tab, "portal_form_candidates.png")
    tab.click("button:has-text('13A (2)')")
    assert "2 candidate(s) of group 13A added." in tab.inner_text("main")
    tab.click("#next")
    # The first candidate: a unit entry for unit 3 (applied); the other: the full award, then Next.
    boxes = tab.locator("input[name=key]")
    boxes.nth(1).uncheck()
    tab.check("input[name=option][value=units]")
    tab.check("#unit-3")
    tab.click("#options-form button[value=apply]")
    tab.check("input[name=option][value=full]")
    tab.click("#next")
    tab.wait_for_url(f"{server}/entries/summary")
    _shot(tab, "portal_form_summary.png")
    summary = tab.inner_text("table.summary")
    assert "Unit 3" in summary and "already entered" not in summary
    # Remove the candidate with the full award; one unit entry is left.
    tab.locator("tr", has_text="Full award").locator("button:has-text('Remove')").click()
    assert re.search(r"£34\.50", tab.inner_text("#total"))
    tab.fill("#order_ref", "WEB-7")
    tab.click("#submit")
    tab.wait_for_selector("#status")
    assert tab.inner_text("#status") == "Processing complete"

    tab.goto(f"{server}/submissions")
    history = tab.inner_text("table.history")
    assert "no_series.csv" in history and "Web entry form" in history and "WEB-7" in history
    _shot(tab, "portal_history.png")
