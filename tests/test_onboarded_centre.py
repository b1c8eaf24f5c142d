"""An onboarded centre is a centre everywhere: onboard one, then use every command for it."""

from __future__ import annotations

import csv
import json
import shutil

import openpyxl
import pytest

from entries.cli import main
from tests.conftest import FIXTURES

ONBOARDING = FIXTURES / "onboard" / "centres_with_addresses.xlsx"
UPLOAD = FIXTURES / "onboarded" / "entries_for_onboarded_centre_90001.csv"


@pytest.mark.slow
def test_an_onboarded_centre_through_every_command(tmp_path, loaded_store, capsys):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    out = tmp_path / "out"
    base = ["--db", str(db), "--out", str(out)]

    def run(*args: str, code: int = 0):
        assert main([*base, *args]) == code, args
        return capsys.readouterr().out

    done = json.loads(run("onboard", str(ONBOARDING), "--received-on", "2026-09-15", "--json"))
    assert done["centres"]["added"] == 2

    found = json.loads(run("qualifications", "search", "--centre", "90001", "--json"))
    # Approved for L3-IT (0583x-05842) and L3-SPA (0587x), and nothing else.
    assert {q["qualification_code"] for q in found} == {
        "05838",
        "05839",
        "05840",
        "05841",
        "05842",
        "05870",
        "05871",
        "05872",
        "05873",
        "05874",
    }
    assert "No qualifications match" not in run("qualifications", "search", "--centre", "90001")

    template = tmp_path / "t.xlsx"
    assert "for centre 90001" in run("template", str(template), "--centre", "90001")
    lists = openpyxl.load_workbook(template)["Lists"]
    offered = {lists.cell(row=r, column=1).value for r in range(2, lists.max_row + 1)} - {None}
    assert {"05838", "05870"} <= offered and not any(code.startswith("0585") for code in offered)  # no L3-BUS

    ingest = json.loads(
        # January 2027 is late-fee only on 29 November 2026: the series is stated (else SER_03).
        run(
            "ingest",
            str(UPLOAD),
            "--centre",
            "90001",
            "--received-on",
            "2026-11-29",
            "--series",
            "2027-06",
            "--order-ref",
            "FSS-1",
            "--json",
        )
    )
    assert ingest["status"] == "Processing complete" and ingest["series"] == "2027-06" and ingest["claim_number"]
    with open(ingest["reports"]["confirmation"].replace(".xlsx", ".csv"), encoding="utf-8-sig", newline="") as fh:
        fields = {r[0]: r[1] for r in list(csv.reader(fh))[1:9] if len(r) > 1}
    assert fields["Centre name"] == "Fenwick Studio School" and fields["Claim number"] == ingest["claim_number"]

    listed = json.loads(run("list", "--centre", "90001", "--json"))
    assert {e["entry_code"] for e in listed} == {"05838", "05839"}
    (history,) = json.loads(run("history", "--centre", "90001", "--json"))
    assert history["claim_number"] == ingest["claim_number"]

    (invoice,) = json.loads(run("invoice", "--centre", "90001", "--on", "2026-11-30", "--json"))
    assert invoice["centre"] == {
        "number": "90001",
        "name": "Fenwick Studio School",
        "address": ["Fenwick Lane", "Priory Park", "Hexham", "NE46 1AA"],
    }
    assert invoice["orders"][0]["order_ref"] == "FSS-1"
    finance = json.loads(run("invoices", "--series", "2027-06", "--on", "2026-11-30", "--json"))
    (row,) = [c for c in finance["centres"] if c["centre"] == "90001"]
    assert row["centre_name"] == "Fenwick Studio School" and row["invoices"] == [invoice["invoice_number"]]
    with open(finance["summary"].replace(".xlsx", ".csv"), encoding="utf-8-sig", newline="") as fh:
        names = {r["centre"]: r["centre_name"] for r in csv.DictReader(fh)}
    assert names["90001"] == "Fenwick Studio School"

    # The other centre gave its address in parts.
    assert main([*base, "qualifications", "search", "--centre", "90002", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
