"""Credit notes through the command line (DESIGN §10): a withdrawn entry an invoice billed is credited
once, on a numbered credit note naming that invoice, in four formats that keep their bytes; the
finance summary shows invoiced, credited and net per centre; figures checked against fees.csv."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from entries.store import runlock
from tests.conftest import withdraw
from tests.test_withdraw import deadline, published_fee

FEE = published_fee("2027-06", "05838")


def documents(cli, *extra: str, on: str) -> tuple[list[dict], list[dict]]:
    """`entries invoice --centre 12345 --json` on `on`: (its invoices, its credit notes)."""
    code, out, err = cli("invoice", "--centre", "12345", "--on", on, *extra, "--json")
    assert code == 0, err
    found = json.loads(out)
    return [d for d in found if d["document"] == "invoice"], [d for d in found if d["document"] == "credit_note"]


def file_bytes(tmp_path: Path, pattern: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((tmp_path / "out" / "12345").glob(pattern))}


def test_a_billed_entry_withdrawn_before_the_deadline_is_credited_on_a_numbered_note(cli, ingest, tmp_path):
    claim = ingest([("0042", "05838"), ("0043", "05838")])["claim_number"]
    (invoice,), notes = documents(cli, on="2027-01-16")
    assert notes == [] and invoice["total_pence"] == 2 * FEE
    assert withdraw(cli, "--candidate", "0042", "--on", deadline("2027-06"))[0] == 0

    (again,), (note,) = documents(cli, on="2027-01-21")
    assert again["invoice_number"] == invoice["invoice_number"] and again["total_pence"] == 2 * FEE  # as issued
    assert note["credit_note_number"] == "OCR-CN-2027-000001" and note["new"] is True
    assert note["date"] == "2027-01-21" and note["invoice_numbers"] == [invoice["invoice_number"]]
    assert (note["centre"]["number"], note["series"]) == ("12345", "2027-06")
    assert [(line["claim_number"], line["entry_code"], line["amount_pence"]) for line in note["lines"]] == [
        (claim, "05838", FEE)
    ]
    assert note["total_pence"] == FEE and note["vat_label"] == "VAT: exempt" and note["vat_pence"] == 0
    assert sorted(Path(p).suffix for p in note["files"].values()) == [".csv", ".html", ".json", ".xlsx"]
    assert json.loads(Path(note["files"]["json"]).read_text(encoding="utf-8")) == {
        k: v for k, v in note.items() if k not in ("new", "files")
    }


def test_a_credit_note_produced_again_keeps_its_number_and_bytes(cli, ingest, tmp_path):
    ingest([("0042", "05838")])
    documents(cli, on="2027-01-16")
    withdraw(cli, "--candidate", "0042", "--on", "2027-01-20")
    _, (first,) = documents(cli, on="2027-01-21")
    before = file_bytes(tmp_path, "credit_note_*")
    assert len(before) == 4
    _, (second,) = documents(cli, on="2027-03-30")  # a later run: the same document, not a new one
    assert second["credit_note_number"] == first["credit_note_number"] and second["new"] is False
    assert second["date"] == "2027-01-21"
    assert file_bytes(tmp_path, "credit_note_*") == before


def test_no_credit_note_for_an_entry_withdrawn_after_the_deadline(cli, ingest):
    ingest([("0042", "05838")])
    documents(cli, on="2027-01-16")
    after = (dt.date.fromisoformat(deadline("2027-06")) + dt.timedelta(days=1)).isoformat()
    assert withdraw(cli, "--candidate", "0042", "--on", after)[1]["total_credit_pence"] == 0
    (invoice,), notes = documents(cli, on=after)
    assert notes == [] and invoice["total_pence"] == FEE  # the fee stays due


def test_an_entry_withdrawn_before_it_was_billed_is_never_billed_nor_credited(cli, ingest):
    ingest([("0042", "05838"), ("0043", "05838")])
    withdraw(cli, "--candidate", "0042", "--on", "2027-01-16")
    (invoice,), notes = documents(cli, on="2027-01-17")
    assert notes == [] and invoice["total_pence"] == FEE


def test_a_later_withdrawal_gets_a_credit_note_of_its_own(cli, ingest, tmp_path):
    ingest([("0042", "05838"), ("0043", "05838")])
    second_claim = ingest([("0044", "05838")])["claim_number"]
    (first_invoice,), _ = documents(cli, on="2027-01-16")
    withdraw(cli, "--candidate", "0042", "--on", "2027-01-18")
    _, (first,) = documents(cli, on="2027-01-19")
    before = file_bytes(tmp_path, "credit_note_*")
    withdraw(cli, "--claim", second_claim, "--on", "2027-01-25")
    _, notes = documents(cli, on="2027-01-26")
    assert [n["credit_note_number"] for n in notes] == ["OCR-CN-2027-000001", "OCR-CN-2027-000002"]
    assert notes[0] == first | {"new": False}
    assert [(line["claim_number"], line["amount_pence"]) for line in notes[1]["lines"]] == [(second_claim, FEE)]
    assert notes[1]["invoice_numbers"] == [first_invoice["invoice_number"]]
    after = file_bytes(tmp_path, "credit_note_*")
    assert {name: after[name] for name in before} == before


def test_the_credit_note_names_every_invoice_it_credits(cli, ingest):
    ingest([("0042", "05838")])
    (one,), _ = documents(cli, on="2027-01-16")
    ingest([("0043", "05838")], received="2027-01-17")
    invoices, _ = documents(cli, on="2027-01-18")
    two = invoices[1]
    assert withdraw(cli, "--candidate", "0042", "--on", "2027-01-19")[0] == 0
    assert withdraw(cli, "--candidate", "0043", "--on", "2027-01-19")[0] == 0
    _, (note,) = documents(cli, on="2027-01-20")
    assert note["invoice_numbers"] == [one["invoice_number"], two["invoice_number"]]
    assert sorted((line["invoice_number"], line["amount_pence"]) for line in note["lines"]) == [
        (one["invoice_number"], FEE),
        (two["invoice_number"], FEE),
    ]
    assert note["total_pence"] == 2 * FEE


def test_a_credit_note_reverses_the_vat_its_invoice_charged(cli, ingest, tmp_path):
    with duckdb.connect(str(tmp_path / "e.duckdb")) as con:  # an issuer that charges VAT at 20%
        con.execute("UPDATE ref_issuer SET vat_treatment = 'standard', vat_rate_basis_points = 2000")
    ingest([("0042", "05838"), ("0043", "05838")])
    (invoice,), _ = documents(cli, on="2027-01-16")
    assert invoice["vat_pence"] == (2 * FEE * 2000 + 5000) // 10000
    withdraw(cli, "--candidate", "0043", "--on", "2027-01-18")
    _, (note,) = documents(cli, on="2027-01-19")
    vat = (FEE * 2000 + 5000) // 10000
    assert (note["subtotal_pence"], note["vat_pence"], note["total_pence"]) == (FEE, vat, FEE + vat)
    assert note["vat_label"] == "VAT at 20%" and note["vat_rate"] == "20%"


def test_the_credit_note_files_agree_with_its_json(cli, ingest):
    claim = ingest([("0042", "05838"), ("0043", "05838")])["claim_number"]
    documents(cli, on="2027-01-16")
    withdraw(cli, "--claim", claim, "--on", "2027-01-18")
    _, (note,) = documents(cli, on="2027-01-19")
    with Path(note["files"]["csv"]).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(None not in row for row in rows)  # no row is wider than the header
    by_record = {row["record"]: row for row in rows}
    assert [(r["claim_number"], r["entry_code"], r["quantity"], r["amount_pence"]) for r in rows[:-3]] == [
        (claim, "05838", "2", str(2 * FEE))
    ]
    assert by_record["subtotal"]["amount_pence"] == str(2 * FEE) and by_record["subtotal"]["quantity"] == "2"
    assert by_record["vat"]["title"] == "VAT: exempt" and by_record["vat"]["amount_pence"] == "0"
    assert by_record["total"]["amount_pence"] == str(2 * FEE)
    assert note["invoice_numbers"][0] in by_record["total"]["note"]
    cells = [
        [c for c in row if c is not None]
        for row in openpyxl.load_workbook(note["files"]["xlsx"])["Credit note"].iter_rows(values_only=True)
    ]
    assert ["Credit note number", note["credit_note_number"]] in cells
    assert ["Credits invoices", note["invoice_numbers"][0]] in cells
    assert ["Total credited", 2 * FEE / 100] in cells
    page = Path(note["files"]["html"]).read_text(encoding="utf-8")
    assert note["credit_note_number"] in page and note["invoice_numbers"][0] in page and "£196.80" in page
    assert "Smith" not in page and "Okafor" not in page  # no candidate is named on a money document


def test_the_finance_summary_shows_invoiced_credited_and_net_per_centre(cli, ingest, tmp_path):
    ingest([("0042", "05838"), ("0043", "05838"), ("0044", "05838")])
    documents(cli, on="2027-01-16")
    withdraw(cli, "--candidate", "0042", "--on", "2027-01-18")
    code, out, err = cli("invoices", "--series", "2027-06", "--on", "2027-01-19", "--json")
    assert code == 0, err
    done = json.loads(out)
    (centre,) = done["centres"]
    assert (centre["invoiced_pence"], centre["credited_pence"], centre["net_pence"]) == (3 * FEE, FEE, 2 * FEE)
    assert (done["invoiced_pence"], done["credited_pence"], done["net_pence"]) == (3 * FEE, FEE, 2 * FEE)
    assert [d["document"] for d in done["invoices"]] == ["invoice", "credit_note"]
    book = openpyxl.load_workbook(done["summary"])
    assert book.sheetnames == ["Invoices", "Credit notes", "Centres"]
    centres = list(book["Centres"].iter_rows(values_only=True))
    assert centres[0] == (
        "Centre",
        "Centre name",
        "Invoices",
        "Credit notes",
        "Invoiced (£)",
        "Credited (£)",
        "Net (£)",
    )
    assert centres[1][0] == "12345" and centres[1][2:] == (1, 1, 3 * FEE / 100, FEE / 100, 2 * FEE / 100)
    notes = list(book["Credit notes"].iter_rows(values_only=True))
    assert notes[1][0] == "OCR-CN-2027-000001" and notes[1][9] == FEE / 100
    with (Path(done["summary"]).with_name("invoices_2027-06_centres.csv")).open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["centre"], r["invoiced_pence"], r["credited_pence"], r["net_pence"]) for r in rows] == [
        ("12345", str(3 * FEE), str(FEE), str(2 * FEE)),
        ("Total", str(3 * FEE), str(FEE), str(2 * FEE)),
    ]
    code, out, _ = cli("invoices", "--series", "2027-06", "--on", "2027-01-20")
    assert code == 0 and "credited £98.40, net £196.80" in out


@pytest.fixture
def copied(tmp_path):
    """The store's pre-run copy taken now (as a night takes it), for `restore`."""

    def take() -> None:
        runlock.backup(tmp_path / "e.duckdb", dt.date(2027, 1, 17))

    return take


def test_restore_names_the_credit_notes_since_its_copy_and_never_reissues_their_numbers(cli, ingest, copied, tmp_path):
    ingest([("0042", "05838"), ("0043", "05838")])
    documents(cli, on="2027-01-16")
    copied()  # the copy: the invoice, no withdrawal yet
    withdraw(cli, "--candidate", "0042", "--on", "2027-01-18")
    _, (note,) = documents(cli, on="2027-01-19")
    before = file_bytes(tmp_path, "credit_note_*")
    code, out, err = cli("restore")
    assert code == 1 and f"credit note {note['credit_note_number']}" in out and "--force" in err
    assert cli("restore", "--force")[0] == 0
    withdraw(cli, "--candidate", "0043", "--on", "2027-01-20")
    _, (after,) = documents(cli, on="2027-01-21")
    assert after["credit_note_number"] == "OCR-CN-2027-000002"  # above the highest ever issued
    assert [line["amount_pence"] for line in after["lines"]] == [FEE]
    now = file_bytes(tmp_path, "credit_note_*")
    assert {name: now[name] for name in before} == before  # the first credit note's files are untouched


def test_an_old_copy_without_credit_notes_restored_still_never_reissues_their_numbers(cli, ingest, copied, tmp_path):
    ingest([("0042", "05838"), ("0043", "05838")])
    documents(cli, on="2027-01-16")
    copied()
    with duckdb.connect(str(tmp_path / "e.duckdb.before-run")) as con:  # a copy from before credit notes
        con.execute("DROP TABLE credit_note_entries")
        con.execute("DROP TABLE credit_notes")
        con.execute("DROP SEQUENCE credit_note_numbers")
        con.execute("DELETE FROM schema_fingerprint")
    withdraw(cli, "--candidate", "0042", "--on", "2027-01-18")
    documents(cli, on="2027-01-19")
    assert cli("restore", "--force")[0] == 0
    withdraw(cli, "--candidate", "0043", "--on", "2027-01-20")
    _, (after,) = documents(cli, on="2027-01-21")
    assert after["credit_note_number"] == "OCR-CN-2027-000002"
