"""The invoice's HTML as a person sees it: printed to PDF by headless Chromium (Debian's package) on
A4, and a screenshot kept under data/screenshots/ (not committed) to look at."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from entries.reports.invoice import produce_invoices
from tests.conftest import PROJECT
from tests.test_reports import seed

SHOTS = PROJECT / "data" / "screenshots"


def _headless(browser: str, *args: str) -> None:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_invoice_prints_on_one_a4_page_with_everything_finance_needs(con, tmp_path, chromium):
    browser = chromium
    seed(con)
    (made,) = produce_invoices(con, "12345", tmp_path, on=dt.date(2027, 3, 2))
    page = made.files["html"]
    pdf = tmp_path / "invoice.pdf"
    _headless(browser, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\b", info), info
    assert re.search(r"Page size:\s+[0-9.]+ x [0-9.]+ pts \(A4\)", info), info
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for shown in (
        "INVOICE",
        "OCR-2027-000001",
        "Bill to",
        "Northfield Academy",
        "LE4 7AB",
        "Tax point",
        "Due date",
        "2027-04-01",
        "Subtotal",
        "VAT: exempt",
        "Total due",
        "£239.10",
        "exempt from VAT",
        "Payment due within 30 days",
        "Registered number",
        "How to pay",
        "Example Bank plc (sample)",
        "OCR Entry Fees (sample)",
        "12-34-56",
        "12345678",
        "Payment reference",
    ):
        assert shown in text, shown
    assert "0%" not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    _headless(browser, f"--screenshot={SHOTS / 'invoice.png'}", "--window-size=900,1300", page.as_uri())
    assert (SHOTS / "invoice.png").stat().st_size > 10_000
