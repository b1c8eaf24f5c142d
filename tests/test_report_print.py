"""Every report the streaming writer makes prints as a person prints it: LibreOffice to PDF on A4.

Each report (confirmation, history, invoice, credit note, finance summary, onboarding) is made from
a small, realistic store state (tests/test_report_types.py's builders) and printed through
tests/printing.py: its pages are A4, it is one page wide (a confirmation of 30 entries and an
invoice of 20 lines on one page), and the figures a reader looks for first (the invoice's number,
date and total; the claim number; the counts) are on the first page with the page's footer.
The first page of each is kept as a PNG under data/screenshots/ to look at. Skipped, saying why,
where LibreOffice is not installed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from entries.core.claims import claim_number
from entries.reports.files import pounds_text
from tests.printing import Printed, page_pictures, read_pdf, to_pdf
from tests.test_report_types import (
    make_confirmation,
    make_credit_note_and_summary,
    make_history,
    make_invoice,
    make_onboarding,
)

SCREENSHOTS = Path(__file__).resolve().parent.parent / "data" / "screenshots"


def printed(xlsx: Path, folder: Path, name: str) -> Printed:
    """`xlsx` printed to PDF; its first page kept as data/screenshots/<name>-1.png."""
    pdf = to_pdf(xlsx, folder)
    for old in SCREENSHOTS.glob(f"{name}-*.png"):
        old.unlink()
    page_pictures(pdf, SCREENSHOTS, name, dpi=80)
    for later in sorted(SCREENSHOTS.glob(f"{name}-*.png"))[1:]:
        later.unlink()
    return read_pdf(pdf)


def test_a_confirmation_of_30_entries_prints_on_one_a4_page(libreoffice, con, tmp_path):
    xlsx = make_confirmation(con, tmp_path, entries=30)
    paper = printed(xlsx, tmp_path / "pdf", "confirmation")
    assert paper.pages == 1 and paper.all_a4()
    first = paper.texts[0]
    assert claim_number(1) in first and "15/01/2027" in first
    assert "0001" in first and "0030" in first  # the first entry and the last
    assert "Page 1 of 1" in first


def test_an_invoice_of_20_lines_prints_on_one_a4_page_with_its_number_date_and_total(libreoffice, con, tmp_path):
    xlsx, invoice = make_invoice(con, tmp_path, lines=20)
    paper = printed(xlsx, tmp_path / "pdf", "invoice")
    assert paper.pages == 1 and paper.all_a4()
    first = paper.texts[0]
    assert first.count(invoice["invoice_number"]) >= 2  # its details, and the footer
    assert dt.date.fromisoformat(invoice["invoice_date"]).strftime("%d/%m/%Y") in first
    assert pounds_text(invoice["total_pence"]) in first
    assert all(line["entry_code"] in first for order in invoice["orders"] for line in order["lines"])


def test_the_history_prints_one_page_wide_on_a4(libreoffice, con, tmp_path):
    xlsx = make_history(con, tmp_path)
    paper = printed(xlsx, tmp_path / "pdf", "history")
    assert paper.pages == 1 and paper.all_a4()
    first = paper.texts[0]
    assert claim_number(1) in first and "15/01/2027" in first and "01/03/2027" in first
    assert "Status changes" in first and "centre 12345" in first  # the last column, and the footer


def test_the_credit_note_and_finance_summary_print_on_a4(libreoffice, cli, ingest, tmp_path):
    note, summary = make_credit_note_and_summary(cli, ingest, tmp_path)
    paper = printed(Path(note["files"]["xlsx"]), tmp_path / "pdf", "credit_note")
    assert paper.pages == 1 and paper.all_a4()
    first = paper.texts[0]
    assert first.count(note["credit_note_number"]) >= 2 and "19/01/2027" in first
    assert pounds_text(note["total_pence"]) in first and note["invoice_numbers"][0] in first

    paper = printed(Path(summary["summary"]), tmp_path / "pdf", "finance_summary")
    # One page a sheet (invoices, credit notes, centres), each one page wide.
    assert paper.pages == 3 and paper.all_a4()
    first = paper.texts[0]
    (invoice,) = [d for d in summary["invoices"] if d["document"] == "invoice"]
    assert invoice["invoice_number"] in first and "16/01/2027" in first
    assert pounds_text(invoice["total_pence"]) in first
    assert "Finance summary" in first


def test_the_onboarding_report_prints_on_a4_with_its_counts_first(libreoffice, con, tmp_path):
    xlsx = make_onboarding(con, tmp_path)
    paper = printed(xlsx, tmp_path / "pdf", "onboarding")
    assert paper.all_a4() and paper.pages == 3  # a page a sheet: summary, changes, issues
    first = paper.texts[0]
    assert "15/09/2026" in first and "good_onboarding.xlsx" in first
    assert "Added" in first and "Candidates" in first


@pytest.fixture(autouse=True)
def _screenshots_folder():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
