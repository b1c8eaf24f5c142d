"""Every workbook the streaming writer makes holds typed cells a finance officer can sort and sum.

Each report (confirmation, history, invoice, credit note, finance summary, onboarding) is made from
a small store state and read back with openpyxl: dates are date cells in a day-month-year format,
money numbers in a `£` format, counts integers, codes text with their leading zeros; columns are
wide enough for their longest value (up to the writer's cap); sheet names are ones Excel accepts;
`<dimension>` names the used range; no cell holds empty text. The builders here make the reports
tests/test_report_print.py prints.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from entries.core.claims import claim_number
from entries.reports.confirmation import write_confirmation
from entries.reports.invoice import produce_invoices
from entries.reports.listing import submission_history, write_history
from entries.reports.xlsx_stream import DATE_FORMAT, MAX_WIDTH, MONEY_FORMAT, check_sheet_names
from tests.conftest import withdraw
from tests.test_credit_notes import documents
from tests.test_onboard import run as onboard
from tests.test_reports import add_candidate, add_entry, add_submission

ON = dt.date(2027, 3, 2)
SURNAMES = ("O'Brien", "Okafor", "Novak", "Smith", "Fitzgerald-Hughes", "Lee", "Nowak", "Adeyemi-Johnson")


def full_award_codes(con, count: int) -> list[tuple[str, str]]:
    """`count` full-award entry codes of the 2027-06 series with a fee, and their qualification."""
    found = con.execute(
        """SELECT DISTINCT e.entry_code, e.qualification_code FROM ref_entry_codes e
           JOIN ref_fees f ON f.entry_code = e.entry_code
           WHERE e.kind = 'full_award' AND f.series = '2027-06' ORDER BY e.entry_code"""
    ).fetchall()
    assert len(found) >= count, "the reference data has too few full-award codes"
    return [(str(code), str(qualification)) for code, qualification in found[:count]]


def store_entries(con, entries: int, codes: int) -> None:
    """Submission 1 of centre 12345 (claim number, order PO-1001, received 15 January 2027): one
    candidate per entry, the entries spread over `codes` full-award entry codes."""
    add_submission(con, 1, order_ref="PO-1001", file_name="Year 13 entries.xlsx", claim=claim_number(1))
    fees = dict(con.execute("SELECT entry_code, fee_pence FROM ref_fees WHERE series = '2027-06'").fetchall())
    chosen = full_award_codes(con, codes)
    for n in range(entries):
        number = f"{n + 1:04d}"
        add_candidate(con, n + 1, number, SURNAMES[n % len(SURNAMES)], f"Forename{n}")
        code, qualification = chosen[n % codes]
        add_entry(con, n + 1, 1, n + 1, number, code, "full_award", qualification, int(fees[code]), order_ref="PO-1001")


def make_confirmation(con, out: Path, entries: int = 30) -> Path:
    store_entries(con, entries, codes=5)
    xlsx, _ = write_confirmation(con, 1, out)
    return xlsx


def make_invoice(con, out: Path, lines: int = 20) -> tuple[Path, dict]:
    """An invoice of `lines` lines (one entry code a line); returns its workbook and its JSON."""
    store_entries(con, lines, codes=lines)
    (made,) = produce_invoices(con, "12345", out, on=ON, series="2027-06")
    return made.files["xlsx"], made.invoice.as_json()


def make_history(con, out: Path) -> Path:
    store_entries(con, 6, codes=2)
    add_submission(con, 2, order_ref="PO-1002", received_on=dt.date(2027, 3, 1), file_name="late.xlsx", claim=None)
    return Path(write_history(submission_history(con, "12345"), out, centre="12345")["xlsx"])


def make_credit_note_and_summary(cli, ingest, out: Path) -> tuple[dict, dict]:
    """Three entries invoiced on 16 January, one withdrawn on the 18th: (the credit note's JSON, the
    finance summary's JSON), both made through the command line."""
    ingest([("0042", "05838"), ("0043", "05838"), ("0044", "05839")])
    documents(cli, on="2027-01-16")
    assert withdraw(cli, "--candidate", "0042", "--on", "2027-01-18")[0] == 0
    _, (note,) = documents(cli, on="2027-01-19")
    code, found, err = cli("invoices", "--series", "2027-06", "--on", "2027-01-19", "--json")
    assert code == 0, err
    return note, json.loads(found)


def make_onboarding(con, tmp_path: Path) -> Path:
    return Path(onboard(con, tmp_path, "good_onboarding.xlsx").reports["xlsx"])


def cells_of(path: Path) -> dict[str, list[list[openpyxl.cell.cell.Cell]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [list(row) for row in ws.iter_rows()] for ws in book.worksheets}


def labelled(path: Path, sheet: str) -> dict[str, openpyxl.cell.cell.Cell]:
    """A sheet's label rows: the cell beside each text in column A."""
    ws = openpyxl.load_workbook(path)[sheet]
    return {str(row[0].value): row[1] for row in ws.iter_rows(max_col=2) if row[0].value and row[1].value is not None}


def column(path: Path, sheet: str, heading: str) -> list[openpyxl.cell.cell.Cell]:
    """The cells under `heading` in a sheet whose first row holds its column headings."""
    rows = cells_of(path)[sheet]
    at = [c.value for c in rows[0]].index(heading)
    return [row[at] for row in rows[1:] if row[at].value is not None]


def assert_date_cell(cell, day: dt.date) -> None:
    assert cell.is_date and cell.number_format == DATE_FORMAT, (cell.coordinate, cell.value, cell.number_format)
    assert cell.value.date() == day


def assert_money(cell) -> None:
    assert isinstance(cell.value, (int, float)) and cell.number_format == MONEY_FORMAT, cell.coordinate


def assert_well_made(path: Path) -> None:
    """What every streamed workbook keeps: valid sheet names, a right <dimension>, no empty text,
    and each column as wide as its longest value (text of a row's last cell, which may run on over
    the empty cells beside it, aside), up to the cap."""
    book = openpyxl.load_workbook(path)
    check_sheet_names(book.sheetnames)
    quick = openpyxl.load_workbook(path, read_only=True)
    with zipfile.ZipFile(path) as archive:
        for n, ws in enumerate(book.worksheets, start=1):
            xml = archive.read(f"xl/worksheets/sheet{n}.xml").decode()
            assert "<dimension " in xml
            used = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"
            assert quick[ws.title].calculate_dimension() == used
            assert quick[ws.title].max_row == ws.max_row
            assert "<t></t>" not in xml and "<t/>" not in xml
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.value != "", cell.coordinate
            for c in range(1, ws.max_column + 1):
                letter = get_column_letter(c)
                width = ws.column_dimensions[letter].width
                assert width, f"{ws.title}!{letter} has no width"
                values = [
                    row[c - 1]
                    for row in ws.iter_rows(min_col=1, max_col=ws.max_column)
                    if row[c - 1].value is not None
                    and (c == ws.max_column or any(x.value is not None for x in row[c:]))
                ]
                for cell in values:
                    text = str(cell.value)
                    if cell.alignment.wrap_text:
                        longest = max(len(w) for w in text.split())
                    elif cell.is_date:
                        longest = 10
                    elif cell.number_format == MONEY_FORMAT:
                        longest = len(f"£{cell.value:,.2f}")
                    else:
                        longest = len(text)
                    assert width >= min(longest, MAX_WIDTH), f"{ws.title}!{cell.coordinate}: {text!r} in {width}"


def test_the_confirmation_holds_a_date_money_counts_and_codes(con, tmp_path):
    xlsx = make_confirmation(con, tmp_path, entries=6)
    fields = labelled(xlsx, "Confirmation")
    assert_date_cell(fields["Date received"], dt.date(2027, 1, 15))
    assert fields["Claim number"].value == claim_number(1) and fields["Centre number"].value == "12345"
    rows = cells_of(xlsx)["Confirmation"]
    header = [c.value for c in rows[9]]
    entries = rows[10:16]
    candidate, code, fee = (header.index(h) for h in ("Candidate number", "Entry code", "Fee"))
    assert [r[candidate].value for r in entries] == [f"{n:04d}" for n in range(1, 7)]
    assert all(r[candidate].data_type == "s" and r[code].data_type == "s" for r in entries)
    assert all(r[code].value.startswith("0") for r in entries)
    for r in entries:
        assert_money(r[fee])
    total = next(r for r in rows if r[0].value == "Total")
    assert type(total[1].value) is int and total[1].value == 6
    assert_money(total[2])
    assert_well_made(xlsx)


def test_the_history_holds_dates_integers_and_text_codes(con, tmp_path):
    xlsx = make_history(con, tmp_path)
    received = column(xlsx, "Submissions", "Received on")
    assert sorted(c.value.date() for c in received) == [dt.date(2027, 1, 15), dt.date(2027, 3, 1)]
    for cell in received:
        assert cell.is_date and cell.number_format == DATE_FORMAT
    assert all(
        type(c.value) is int for h in ("Submission", "Rows", "Full award") for c in column(xlsx, "Submissions", h)
    )
    assert {c.value for c in column(xlsx, "Submissions", "Centre")} == {"12345"}
    assert all(c.data_type == "s" for c in column(xlsx, "Submissions", "Claim number"))
    assert_well_made(xlsx)


def test_the_invoice_holds_dates_money_and_integer_quantities(con, tmp_path):
    xlsx, invoice = make_invoice(con, tmp_path, lines=4)
    fields = labelled(xlsx, "Invoice")
    assert fields["Invoice number"].value == invoice["invoice_number"]
    for label, key in (("Invoice date", "invoice_date"), ("Tax point", "tax_point"), ("Due date", "due_date")):
        assert_date_cell(fields[label], dt.date.fromisoformat(invoice[key]))
    rows = cells_of(xlsx)["Invoice"]
    codes = {line["entry_code"] for order in invoice["orders"] for line in order["lines"]}
    lines = [r for r in rows if r[1].value in codes]
    assert len(lines) == 4
    for r in lines:
        assert r[1].data_type == "s" and r[1].value.startswith("0")
        assert type(r[4].value) is int
        assert_money(r[5])
        assert_money(r[6])
    total = next(r for r in rows if r[5].value == "Total due")
    assert_money(total[6])
    assert round(total[6].value * 100) == invoice["total_pence"]
    assert_well_made(xlsx)


def test_the_credit_note_and_the_finance_summary_hold_dates_and_money(cli, ingest, tmp_path):
    note, summary = make_credit_note_and_summary(cli, ingest, tmp_path)
    xlsx = Path(note["files"]["xlsx"])
    fields = labelled(xlsx, "Credit note")
    assert fields["Credit note number"].value == note["credit_note_number"]
    assert_date_cell(fields["Date"], dt.date(2027, 1, 19))
    rows = cells_of(xlsx)["Credit note"]
    (line,) = [r for r in rows if r[3].value == "05838"]
    assert type(line[6].value) is int and line[6].value == 1
    assert_money(line[8])
    assert_well_made(xlsx)

    book = Path(summary["summary"])
    (issued,) = column(book, "Invoices", "Invoice date")
    assert_date_cell(issued, dt.date(2027, 1, 16))
    (credited,) = column(book, "Credit notes", "Date")
    assert_date_cell(credited, dt.date(2027, 1, 19))
    for sheet, heading in (("Invoices", "Total (£)"), ("Centres", "Net (£)")):
        for cell in column(book, sheet, heading):
            assert_money(cell)
    assert [c.value for c in column(book, "Centres", "Centre")] == ["12345", "Total"]
    assert all(type(c.value) is int for c in column(book, "Invoices", "Entries"))
    assert_well_made(book)


def test_the_onboarding_report_holds_a_date_counts_and_text_numbers(con, tmp_path):
    xlsx = make_onboarding(con, tmp_path)
    fields = labelled(xlsx, "Summary")
    assert fields["Received on"].is_date and fields["Received on"].value.date() == dt.date(2026, 9, 15)
    assert type(fields["Errors"].value) is int
    numbers = column(xlsx, "Changes", "Candidate Number")
    assert numbers and all(c.data_type == "s" and re.fullmatch(r"[0-9]{4}", c.value) for c in numbers)
    assert all(type(c.value) is int for c in column(xlsx, "Changes", "Row"))
    assert_well_made(xlsx)
