"""A series-wide invoicing run bills every centre at once: numbers in centre order, an invoice
issued earlier kept as it is, every entry billed once, and nothing new the second time."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from entries.cli import main
from entries.reports.invoice import write_series_invoices
from entries.store import database
from tests.conftest import PROJECT

SAMPLES = PROJECT / "data" / "samples"


@pytest.fixture
def store(tmp_path, capsys):
    """The store after the sample night, with centre 23456 invoiced on its own first."""
    shutil.copytree(SAMPLES / "inbox", tmp_path / "inbox")
    base = ["--db", str(tmp_path / "e.duckdb"), "--out", str(tmp_path / "out")]
    assert main([*base, "onboard", str(SAMPLES / "onboarding"), "--received-on", "2026-09-01"]) == 0
    night = ["nightly", str(tmp_path / "inbox"), "--in-process", "--received-on", "2027-01-15", "--settle-seconds", "0"]
    assert main([*base, *night]) == 0
    capsys.readouterr()
    assert main([*base, "invoice", "--centre", "23456", "--series", "2027-06", "--on", "2027-02-01", "--json"]) == 0
    (earlier,) = json.loads(capsys.readouterr().out)
    con = database.connect(tmp_path / "e.duckdb")
    yield con, earlier["invoice_number"]
    con.close()


@pytest.mark.slow
def test_a_series_run_numbers_every_centre_in_order_and_bills_each_entry_once(store, tmp_path):
    con, earlier = store
    done = write_series_invoices(con, "2027-06", tmp_path / "out", on=dt.date(2027, 3, 1))
    listed = [(i["centre"]["number"], i["invoice_number"], i["new"]) for i in done["invoices"]]
    assert [centre for centre, _, _ in listed] == ["12345", "23456", "56789"]
    assert (listed[1][1], listed[1][2]) == (earlier, False)
    new_numbers = [number for _, number, new in listed if new]
    assert len(new_numbers) == 2 and new_numbers == sorted(new_numbers) and earlier < new_numbers[0]
    billed, entries = con.execute(
        """SELECT (SELECT count(*) FROM invoice_entries b JOIN entries e USING (entry_id) WHERE e.series = '2027-06'),
                  (SELECT count(*) FROM entries WHERE series = '2027-06')"""
    ).fetchall()[0]
    assert billed == entries == sum(c["entries"] for c in done["centres"])
    for invoice in done["invoices"]:
        assert invoice["subtotal_pence"] == sum(line["amount_pence"] for o in invoice["orders"] for line in o["lines"])

    again = write_series_invoices(con, "2027-06", tmp_path / "out", on=dt.date(2027, 3, 2))
    assert [i["invoice_number"] for i in again["invoices"]] == [number for _, number, _ in listed]
    assert not any(i["new"] for i in again["invoices"])
