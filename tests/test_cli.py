"""The command line's contracts (docs/architecture.md §5): JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from entries.cli import main
from entries.core.claims import claim_number
from tests.conftest import PROJECT

SAMPLES = PROJECT / "data" / "samples"


@pytest.fixture(scope="module")
def sample_night(tmp_path_factory) -> tuple[Path, dict]:
    """The sample nightly import (in-process), run once for the module (it costs ~5 s): its folder
    (store, reports, inbox and the folders the files went to) and its JSON summary."""
    root = tmp_path_factory.mktemp("sample-night")
    shutil.copytree(SAMPLES / "inbox", root / "inbox")
    base = ["--db", str(root / "e.duckdb"), "--out", str(root / "out")]
    # The results' candidates were entered in an earlier series: on record before their results.
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*base, "onboard", str(SAMPLES / "onboarding"), "--received-on", "2026-09-01"]) == 0
        assert main([*base, "results", "load", str(SAMPLES / "results.csv")]) == 0
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        night = [*base, "nightly", str(root / "inbox"), "--in-process", "--received-on", "2027-01-15"]
        assert main([*night, "--settle-seconds", "0", "--json"]) == 0
    return root, json.loads(printed.getvalue())


@pytest.fixture
def stored(sample_night, tmp_path):
    """A copy, in this test's folder, of the store and folders after the sample nightly import, and
    the night's summary: each test changes its own copy."""
    root, summary = sample_night
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return ["--db", str(tmp_path / "e.duckdb"), "--out", str(tmp_path / "out")], summary


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_nightly_json_has_files_and_totals(stored):
    _, summary = stored
    assert set(summary) >= {"files", "totals"} and summary["left_for_next_run"] == []
    assert summary["totals"]["files"] == 7 and summary["totals"]["by_status"]["Processing complete"] == 4
    assert all(set(f) >= {"file", "sha256", "centre", "status", "issues", "reports"} for f in summary["files"])


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_list_json_fields(stored, capsys):
    base, _ = stored
    assert main([*base, "list", "--centre", "12345", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    required = {
        "centre",
        "candidate_number",
        "uci",
        "surname",
        "forenames",
        "date_of_birth",
        "entry_code",
        "kind",
        "unit",
        "series",
        "fee_pence",
        "late",
    }
    assert entries and all(required <= set(e) for e in entries)
    assert {e["kind"] for e in entries} >= {"full_award", "unit", "top_up", "move_down"}


INVOICE_KEYS = {
    "invoice_number",
    "invoice_date",
    "tax_point",
    "issuer",
    "centre",
    "series",
    "orders",
    "subtotal_pence",
    "vat_rate",
    "vat_pence",
    "vat_note",
    "total_pence",
    "payment_terms",
    "due_date",
    "vat_treatment",
    "vat_label",
    "payment",
}
LINE_KEYS = {"entry_code", "title", "quantity", "unit_fee_pence", "late", "amount_pence"}


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_invoice_json_follows_the_contract_and_totals_match_the_entries(stored, capsys):
    base, _ = stored
    assert main([*base, "list", "--centre", "12345", "--series", "2027-06", "--json"]) == 0
    fees = sum(e["fee_pence"] for e in json.loads(capsys.readouterr().out))
    assert main([*base, "invoice", "--centre", "12345", "--series", "2027-06", "--on", "2027-01-16", "--json"]) == 0
    (invoice,) = json.loads(capsys.readouterr().out)
    assert set(invoice) >= INVOICE_KEYS and invoice["subtotal_pence"] == fees
    assert invoice["total_pence"] == invoice["subtotal_pence"] + invoice["vat_pence"]
    assert (invoice["invoice_date"], invoice["tax_point"], invoice["due_date"]) == (
        "2027-01-16",
        "2027-01-16",
        "2027-02-15",
    )
    assert set(invoice["issuer"]) >= {"name", "address", "registration"} and invoice["issuer"]["address"]
    assert invoice["centre"] == {
        "number": "12345",
        "name": "Northfield Academy",
        "address": ["Northfield Road", "Leicester", "LE4 7AB"],
    }
    assert (invoice["vat_treatment"], invoice["vat_label"], invoice["vat_rate"], invoice["vat_pence"]) == (
        "exempt",
        "VAT: exempt",
        None,
        0,
    )
    assert "VAT" in invoice["vat_note"]
    assert invoice["payment"] == {
        "bank": "Example Bank plc (sample)",
        "sort_code": "12-34-56",
        "account_number": "12345678",
        "account_name": "OCR Entry Fees (sample)",
        "reference": invoice["invoice_number"],
    }
    assert all(set(o) >= {"order_ref", "lines"} for o in invoice["orders"])
    assert all(set(line) >= LINE_KEYS and line["claim_number"] for o in invoice["orders"] for line in o["lines"])
    # Produced again: the same invoice, the same number, nothing new.
    assert main([*base, "invoice", "--centre", "12345", "--series", "2027-06", "--on", "2027-03-01", "--json"]) == 0
    (again,) = json.loads(capsys.readouterr().out)
    assert again["new"] is False and {k: v for k, v in again.items() if k != "new"} == {
        k: v for k, v in invoice.items() if k != "new"
    }


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_history_filters(stored, capsys):
    base, _ = stored
    assert main([*base, "history", "--centre", "12345", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main([*base, "history", "--qualification", "05860", "--json"]) == 0
    assert {s["centre"] for s in json.loads(capsys.readouterr().out)} == {"23456", "56789"}
    assert main([*base, "history", "--group", "no-such-group", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_every_accepted_submission_has_a_claim_number_history_finds(stored, capsys):
    base, summary = stored
    accepted = [f for f in summary["files"] if f["status"] in ("Processing complete", "OCR handling this")]
    refused = [f for f in summary["files"] if f not in accepted]
    claims = [f["claim_number"] for f in accepted]
    assert all(claims) and len(set(claims)) == len(claims) and all(f["claim_number"] is None for f in refused)
    wanted = accepted[0]
    assert main([*base, "history", "--claim", wanted["claim_number"].lower(), "--json"]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    assert (found["claim_number"], found["file"], found["centre"]) == (
        wanted["claim_number"],
        wanted["file"],
        wanted["centre"],
    )
    assert main([*base, "history", "--claim", "C0000999A"]) == 2  # a wrong check letter is a usage error
    assert main([*base, "history", "--claim", claim_number(9999)]) == 1
    assert "no submission has the claim number" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_invoices_for_a_series_write_a_finance_summary(stored, capsys, tmp_path):
    base, _ = stored
    assert main([*base, "invoices", "--series", "2027-06", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert [c["centre"] for c in done["centres"]] == ["12345", "23456", "56789"]
    assert done["total_pence"] == sum(c["total_pence"] for c in done["centres"])
    assert done["total_pence"] == sum(i["total_pence"] for i in done["invoices"])
    numbers = [i["invoice_number"] for i in done["invoices"]]
    assert len(numbers) == len(set(numbers)) == 3 and all(i["new"] for i in done["invoices"])
    assert (tmp_path / "out" / "finance" / "invoices_2027-06.csv").is_file()


@pytest.mark.parametrize(
    "command",
    [
        "reference",
        "qualifications",
        "template",
        "ingest",
        "results",
        "list",
        "history",
        "review",
        "invoice",
        "invoices",
        "nightly",
        "onboard",
        "serve",
        "restore",
    ],
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and "usage: entries" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_invoices_for_a_date_range(stored, capsys, tmp_path):
    base, _ = stored
    assert main([*base, "invoices", "--received-from", "2027-01-01", "--received-to", "2027-01-31", "--json"]) == 0
    in_range = json.loads(capsys.readouterr().out)
    assert in_range["total_pence"] > 0 and in_range["received"] == ["2027-01-01", "2027-01-31"]
    assert main([*base, "invoices", "--received-from", "2026-01-01", "--received-to", "2026-01-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["centres"] == []
    assert main([*base, "invoices", "--received-from", "2027-01-01"]) == 2


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_history_report_file(stored, capsys, tmp_path):
    import openpyxl

    base, _ = stored
    assert main([*base, "history", "--centre", "12345"]) == 0
    assert "report" in capsys.readouterr().out
    sheet = openpyxl.load_workbook(tmp_path / "out" / "history" / "history_centre_12345.xlsx")["Submissions"]
    header = [c.value for c in sheet[1]]
    assert sheet.max_row == 3 and header[:3] == ["Submission", "Claim number", "Centre"]
    status = header.index("Status") + 1
    assert {sheet.cell(r, status).value for r in (2, 3)} == {"Processing complete"}
    assert all(sheet.cell(r, 2).value.startswith("C") for r in (2, 3))


@pytest.mark.slow
@pytest.mark.xdist_group("cli_sample_night")  # one worker runs the night once
def test_invoice_for_an_unknown_centre_or_order(stored, capsys, tmp_path):
    base, _ = stored
    assert main([*base, "invoice", "--centre", "99999", "--series", "2027-06"]) == 2
    assert main([*base, "invoice", "--centre", "12345", "--series", "2027-06", "--order-ref", "NOPE"]) == 1
    assert "no invoice written" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("99999/*")) and not list((tmp_path / "out").glob("12345/*NOPE*"))
    assert main([*base, "invoices", "--received-from", "2027-01-12", "--received-to", "2027-01-10"]) == 2


def test_an_unexpected_failure_is_one_line_and_a_log_without_personal_data(tmp_path, monkeypatch, capsys):
    from entries.reports import listing

    def broken(*_args, **_kwargs):
        raise ValueError("could not convert 'Zoë O'Neill 123450260042C' to a number")  # a cell in the message

    monkeypatch.setattr(listing, "list_entries", broken)
    monkeypatch.setenv("ENTRIES_LOG_DIR", str(tmp_path / "logs"))
    assert main(["--db", str(tmp_path / "e.duckdb"), "list"]) == 1
    said = capsys.readouterr()
    lines = said.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in said.err and "ValueError" in lines[0]
    log = (tmp_path / "logs" / "entries-errors.log").read_text(encoding="utf-8")
    assert "entries list: ValueError" in log and "in broken" in log
    for personal in ("Zoë", "O'Neill", "123450260042C"):
        assert personal not in said.err and personal not in said.out and personal not in log
