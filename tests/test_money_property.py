"""The money property (issue 21): after any sequence of entries, withdrawals and invoice runs through
the command line, what was invoiced less what was credited is the fees still due on billed entries
(live ones, and those withdrawn after their deadline), every fee is the published one, and no
number is ever on two different documents."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from entries.cli import main
from entries.intake.uci import complete
from tests.conftest import ENTRIES_HEADER, ENTRY_PEOPLE, REFERENCE

SERIES = "2027-06"
START = dt.date(2027, 1, 10)  # five weeks before June 2027's entry deadline: runs cross it

step = st.one_of(
    st.tuples(st.just("enter"), st.sampled_from(sorted(ENTRY_PEOPLE))),
    st.tuples(st.just("withdraw"), st.sampled_from(sorted(ENTRY_PEOPLE))),
    st.tuples(st.just("invoice"), st.just("")),
    st.tuples(st.just("wait"), st.sampled_from(["1", "9", "20"])),
)


def _fees() -> dict[str, tuple[int, int]]:
    with (REFERENCE / "fees.csv").open(newline="") as f:
        return {
            r["entry_code"]: (int(r["fee_pence"]), int(r["late_fee_pence"]))
            for r in csv.DictReader(f)
            if r["series"] == SERIES
        }


class Centre:
    """Centre 12345 on a store of its own, driven through `entries` as an operator would."""

    def __init__(self, folder: Path, loaded_store: Path) -> None:
        self.folder = folder
        shutil.copyfile(loaded_store, folder / "e.duckdb")
        self.base = ["--db", str(folder / "e.duckdb"), "--out", str(folder / "out")]
        self.day = START
        self.files = 0
        self.invoiced_claims: set[str] = set()  # claims stored before the last invoice run: billed
        self.claims: list[str] = []
        self.withdrawn: list[tuple[dict, bool]] = []  # each withdrawn entry, and whether it was billed then
        self.seen: dict[str, dict] = {}  # document number -> its content, every time it was produced

    def run(self, *args: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main([*self.base, *args])
        return code, out.getvalue()

    def enter(self, number: str) -> None:
        self.files += 1
        path = self.folder / f"entries_{self.files}.csv"
        path.write_text(
            f"{ENTRIES_HEADER}\n12345,{number},{complete(f'12345026{number}')},,{ENTRY_PEOPLE[number]},F,"
            f"{int(number) % 28 + 1:02d}/05/2009,05838,,,,,,,G{self.files}\n"
        )
        code, out = self.run(
            "ingest",
            str(path),
            "--centre",
            "12345",
            "--series",
            SERIES,
            "--received-on",
            self.day.isoformat(),
            "--json",
        )
        found = json.loads(out)
        if found.get("claim_number"):
            self.claims.append(found["claim_number"])

    def withdraw(self, number: str) -> None:
        code, out = self.run(
            "withdraw", "--centre", "12345", "--candidate", number, "--on", self.day.isoformat(), "--json"
        )
        if code == 0:
            for entry in json.loads(out)["withdrawn"]:
                self.withdrawn.append((entry, entry["claim_number"] in self.invoiced_claims))

    def invoice(self) -> list[dict]:
        code, out = self.run("invoice", "--centre", "12345", "--on", self.day.isoformat(), "--json")
        documents = json.loads(out) if code == 0 else []
        self.invoiced_claims |= set(self.claims)
        for d in documents:
            number = d.get("invoice_number") or d["credit_note_number"]
            content = {k: v for k, v in d.items() if k not in ("new", "files")}
            assert self.seen.setdefault(number, content) == content, f"{number} was given to other content"
        return documents


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=8))
# Always tried too: a credit, a withdrawal after the deadline (no credit) and a late entry.
@example(
    steps=[
        ("enter", "0042"),
        ("invoice", ""),
        ("withdraw", "0042"),
        ("enter", "0043"),
        ("invoice", ""),
        *[("wait", "20")] * 2,
        ("wait", "9"),
        ("withdraw", "0043"),
        ("enter", "0044"),
    ]
)
@pytest.mark.slow
def test_invoiced_less_credited_is_the_fees_still_due(loaded_store, steps):
    with tempfile.TemporaryDirectory(prefix="money-") as folder:
        centre = Centre(Path(folder), loaded_store)
        for kind, value in steps:
            if kind == "wait":
                centre.day += dt.timedelta(days=int(value))
            elif kind == "invoice":
                centre.invoice()
            else:
                getattr(centre, kind)(value)
        documents = centre.invoice()  # the run that bills and credits whatever is left

        fees = _fees()
        code, out = centre.run("list", "--centre", "12345", "--json")
        live = json.loads(out) if code == 0 else []
        for entry in live:  # every fee, to the penny, the published standard or late one
            assert entry["fee_pence"] == fees[entry["entry_code"]][1 if entry["late"] else 0]
        invoices = [d for d in documents if d["document"] == "invoice"]
        notes = [d for d in documents if d["document"] == "credit_note"]
        invoiced = sum(d["total_pence"] for d in invoices)
        credited = sum(d["total_pence"] for d in notes)
        billed_withdrawn = [entry for entry, billed in centre.withdrawn if billed]
        still_due = sum(e["fee_pence"] for e in live) + sum(
            e["fee_pence"] for e in billed_withdrawn if not e["credit_pence"]
        )
        assert invoiced - credited == still_due
        assert credited == sum(e["credit_pence"] for e in billed_withdrawn)
        numbers = [d["invoice_number"] for d in invoices] + [d["credit_note_number"] for d in notes]
        assert len(numbers) == len(set(numbers))  # never one number on two documents
        assert set(centre.seen) == set(numbers)  # every document ever produced is produced again, the same
