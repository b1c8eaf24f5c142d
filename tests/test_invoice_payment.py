"""An invoice a centre can pay (issue 21): exempt fees say "VAT: exempt" (never "VAT at 0%"), every
format carries the bank details with the invoice number as the payment reference, an issued
invoice keeps the details it was issued with, and the issuer's bank details are validated.

The store copies the issuer's details onto an invoice when it issues it (`issuer_json`);
`_carry_issuer_details` writes them there the way an invoice issued with them holds them, so these
tests read and render invoices exactly as the reports do.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest

from entries.core.errors import EntriesError, ReferenceDataError
from entries.reports.invoice import build_invoice, produce_invoices
from entries.reports.invoice_csv import CSV_COLUMNS, PAYMENT_COLUMNS
from entries.store.refdata import read_reference
from tests.test_reports import seed

ON = dt.date(2027, 3, 2)
NUMBER = "OCR-2027-000001"
FILES = ("xlsx", "csv", "html", "json")


def _issuer_row(con) -> dict:
    names = [d[0] for d in con.execute("SELECT * FROM ref_issuer").description]
    return dict(zip(names, con.execute("SELECT * FROM ref_issuer").fetchone(), strict=True))


def _carry_issuer_details(con, number: str = NUMBER) -> None:
    """Put the issuer's VAT treatment and bank details, as the reference data has them now, onto the
    issued invoice `number` (its issuer_json), as an invoice issued with them carries them."""
    issuer = _issuer_row(con)
    (stored,) = con.execute("SELECT issuer_json FROM invoices WHERE invoice_number = ?", [number]).fetchone()
    details = json.loads(stored)
    details["vat_treatment"] = issuer["vat_treatment"]
    details["payment"] = {
        "bank": issuer["bank_name"],
        "sort_code": issuer["sort_code"],
        "account_number": issuer["account_number"],
        "account_name": issuer["account_name"],
    }
    con.execute(
        "UPDATE invoices SET issuer_json = ? WHERE invoice_number = ?", [json.dumps(details, sort_keys=True), number]
    )


def _issued_payable(con, out: Path):
    seed(con)
    produce_invoices(con, "12345", out / "first", on=ON, series="2027-06")
    _carry_issuer_details(con)
    (made,) = produce_invoices(con, "12345", out / "payable", on=ON, series="2027-06")
    return made


def _xlsx_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    return [tuple(c for c in row if c is not None) for row in ws.iter_rows(values_only=True)]


def _csv_records(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _texts(made) -> dict[str, str]:
    """Each format's words: the HTML page without its style sheet (whose widths are percentages), the
    JSON as written, the workbook's cells and the CSV."""
    cells = [str(c) for row in _xlsx_rows(made.files["xlsx"]) for c in row]
    page = made.files["html"].read_text(encoding="utf-8")
    return {
        "html": re.sub(r"<style>.*?</style>", "", page, flags=re.S),
        "xlsx": "\n".join(cells),
        "csv": made.files["csv"].read_text(encoding="utf-8-sig"),
        "json": made.files["json"].read_text(encoding="utf-8"),
    }


def test_the_sample_issuer_is_exempt_with_sample_bank_details(con):
    issuer = _issuer_row(con)
    assert (issuer["vat_treatment"], issuer["vat_rate_basis_points"]) == ("exempt", 0)
    assert (issuer["sort_code"], issuer["account_number"]) == ("12-34-56", "12345678")
    assert "sample" in issuer["bank_name"].lower() and "sample" in issuer["account_name"].lower()


def test_exempt_fees_say_vat_exempt_with_the_note_in_every_format_and_never_a_rate(con, tmp_path):
    made = _issued_payable(con, tmp_path)
    note = made.invoice.vat_note
    assert "exempt" in note.lower()
    for kind, text in _texts(made).items():
        assert "VAT: exempt" in text, kind
        assert note in text, kind
        assert "0%" not in text and "VAT at" not in text, kind
    found = json.loads(made.files["json"].read_text(encoding="utf-8"))
    assert (found["vat_treatment"], found["vat_rate"], found["vat_pence"]) == ("exempt", None, 0)
    assert found["total_pence"] == found["subtotal_pence"] == 23910
    _, records = _csv_records(made.files["csv"])
    (vat,) = [r for r in records if r["record"] == "vat"]
    assert (vat["title"], vat["amount_pence"], vat["note"]) == ("VAT: exempt", "0", note)


@pytest.mark.parametrize(
    ("treatment", "basis_points", "label", "vat_pence"),
    [("zero", 0, "VAT at 0% (zero-rated)", 0), ("standard", 2000, "VAT at 20%", 4782)],
)
def test_a_rate_is_shown_when_fees_are_zero_rated_or_standard_rated(
    con, tmp_path, treatment, basis_points, label, vat_pence
):
    seed(con)
    con.execute("UPDATE ref_issuer SET vat_treatment = ?, vat_rate_basis_points = ?", [treatment, basis_points])
    produce_invoices(con, "12345", tmp_path / "first", on=ON, series="2027-06")
    _carry_issuer_details(con)
    (made,) = produce_invoices(con, "12345", tmp_path / "again", on=ON, series="2027-06")
    assert (made.invoice.vat_label, made.invoice.vat_pence) == (label, vat_pence)
    assert made.invoice.total_pence == 23910 + vat_pence
    for kind, text in _texts(made).items():
        assert "VAT: exempt" not in text, kind
        assert label in text, kind
    assert json.loads(made.files["json"].read_text(encoding="utf-8"))["vat_rate"] == label.split()[2]


def test_every_format_carries_the_bank_details_and_the_invoice_number_as_reference(con, tmp_path):
    made = _issued_payable(con, tmp_path)
    bank = {
        "bank": "Example Bank plc (sample)",
        "sort_code": "12-34-56",
        "account_number": "12345678",
        "account_name": "OCR Entry Fees (sample)",
    }
    found = json.loads(made.files["json"].read_text(encoding="utf-8"))
    assert found["payment"] == {**bank, "reference": NUMBER}

    page = made.files["html"].read_text(encoding="utf-8")
    assert '<section class="payment"><h2>How to pay</h2>' in page
    for label, value in (
        ("Bank", bank["bank"]),
        ("Account name", bank["account_name"]),
        ("Sort code", "12-34-56"),
        ("Account number", "12345678"),
        ("Payment reference", NUMBER),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page, label
    assert f"quoting the payment reference <strong>{NUMBER}</strong>" in page

    rows = _xlsx_rows(made.files["xlsx"])
    start = rows.index(("How to pay",))
    assert rows[start + 2 :] == [
        ("Bank", bank["bank"]),
        ("Account name", bank["account_name"]),
        ("Sort code", "12-34-56"),
        ("Account number", "12345678"),  # text: an account number's leading zeros would survive
        ("Payment reference", NUMBER),
    ]

    header, records = _csv_records(made.files["csv"])
    assert tuple(header) == CSV_COLUMNS + PAYMENT_COLUMNS
    (pay,) = [r for r in records if r["record"] == "payment"]
    assert records[-1] is pay
    assert {k: pay[k] for k in bank} == bank
    assert (pay["payment_reference"], pay["invoice_number"]) == (NUMBER, NUMBER)
    assert int(pay["amount_pence"]) == made.invoice.total_pence
    assert "2027-04-01" in pay["note"]


def test_a_reissued_invoice_keeps_the_details_it_was_issued_with_and_its_bytes(con, tmp_path):
    made = _issued_payable(con, tmp_path)
    before = {kind: made.files[kind].read_bytes() for kind in FILES}
    con.execute(
        """UPDATE ref_issuer SET bank_name = 'Another Bank plc', sort_code = '65-43-21', account_number = '87654321',
                  account_name = 'Someone Else', vat_treatment = 'standard', vat_rate_basis_points = 2000"""
    )
    (again,) = produce_invoices(con, "12345", tmp_path / "again", on=dt.date(2027, 5, 1), series="2027-06")
    assert (again.invoice.invoice_number, again.new) == (NUMBER, False)
    assert {kind: again.files[kind].read_bytes() for kind in FILES} == before
    assert again.invoice.payment is not None and again.invoice.payment.sort_code == "12-34-56"


def test_an_invoice_issued_without_bank_details_keeps_its_words(con, tmp_path):
    seed(con)
    produce_invoices(con, "12345", tmp_path / "first", on=ON, series="2027-06")
    (issuer_json,) = con.execute("SELECT issuer_json FROM invoices WHERE invoice_number = ?", [NUMBER]).fetchone()
    older = {k: v for k, v in json.loads(issuer_json).items() if k not in ("vat_treatment", "payment")}
    con.execute("UPDATE invoices SET issuer_json = ? WHERE invoice_number = ?", [json.dumps(older), NUMBER])
    invoice = build_invoice(con, NUMBER)
    assert (invoice.payment, invoice.vat_treatment, invoice.vat_label) == (None, None, "VAT at 0%")
    assert "payment" not in invoice.as_json() and "vat_treatment" not in invoice.as_json()
    (made,) = produce_invoices(con, "12345", tmp_path / "again", on=ON, series="2027-06")
    assert "How to pay" not in made.files["html"].read_text(encoding="utf-8")
    header, _ = _csv_records(made.files["csv"])
    assert tuple(header) == CSV_COLUMNS


def test_the_payment_reference_is_the_invoice_number(con, tmp_path):
    made = _issued_payable(con, tmp_path)
    other = dataclasses.replace(made.invoice, invoice_number="OCR-2027-000042")
    assert other.payment is not None
    assert other.payment_reference == "OCR-2027-000042"
    assert ("Payment reference", "OCR-2027-000042") in other.payment.fields(other.payment_reference)


def _edit_issuer(reference: Path, **values: str) -> None:
    path = reference / "issuer.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0].update(values)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _refused(reference: Path) -> set[tuple[str, str | None]]:
    with pytest.raises(ReferenceDataError) as caught:
        read_reference(reference)
    return {(p.code, p.column) for p in caught.value.problems}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("sort_code", "123456"),
        ("sort_code", "12-34-5"),
        ("sort_code", ""),
        ("account_number", "1234567"),
        ("account_number", "12345678A"),
        ("account_number", ""),
        ("bank_name", ""),
        ("account_name", ""),
        ("vat_treatment", "reduced"),
        ("vat_treatment", ""),
    ],
)
def test_issuer_bank_details_and_vat_treatment_are_validated(reference_copy, column, value):
    _edit_issuer(reference_copy, **{column: value})
    assert ("REF_03", column) in _refused(reference_copy)


@pytest.mark.parametrize(("treatment", "basis_points"), [("exempt", "2000"), ("zero", "500"), ("standard", "0")])
def test_a_rate_that_disagrees_with_the_vat_treatment_is_refused(reference_copy, treatment, basis_points):
    _edit_issuer(reference_copy, vat_treatment=treatment, vat_rate_basis_points=basis_points)
    assert _refused(reference_copy) == {("REF_03", "vat_rate_basis_points")}


def test_an_issuer_file_without_the_bank_columns_is_refused(reference_copy):
    path = reference_copy / "issuer.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r[:-5] for r in csv.reader(fh)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(ReferenceDataError) as caught:
        read_reference(reference_copy)
    (problem,) = caught.value.problems
    assert problem.code == "REF_02" and "sort_code" in problem.params["missing"]


def test_no_invoice_is_issued_while_the_issuer_has_no_bank_details(con, tmp_path):
    # A store whose reference data was loaded before the bank columns existed has them blank.
    seed(con)
    con.execute("UPDATE ref_issuer SET sort_code = NULL")
    with pytest.raises(EntriesError):
        produce_invoices(con, "12345", tmp_path, on=ON, series="2027-06")
    assert con.execute("SELECT count(*) FROM invoices").fetchone() == (0,)
