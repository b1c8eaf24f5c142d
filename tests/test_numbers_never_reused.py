"""Claim and invoice numbers, once issued, are never given to other content: not after
`restore --force` puts back a copy taken before they were issued, not when the store being
replaced is damaged. `restore` names the invoices issued since its copy and refuses without
`--force`; issued invoices' files are never overwritten with other content."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from entries.cli import main
from entries.core.claims import claim_number
from entries.store import database, numbering, runlock
from tests.conftest import PROJECT

INBOX = PROJECT / "data" / "samples" / "inbox"
FIRST = INBOX / "12345" / "entries_june_2027.xlsx"
SECOND = INBOX / "56789" / "entries.xlsx"


@pytest.fixture
def base(tmp_path, loaded_store) -> list[str]:
    db = tmp_path / "db" / "e.duckdb"
    db.parent.mkdir()
    shutil.copyfile(loaded_store, db)
    runlock.backup(db, dt.date(2027, 1, 14))  # the copy: before any number was issued
    return ["--db", str(db), "--out", str(tmp_path / "out")]


def _ingest(base: list[str], path: Path, centre: str, capsys) -> str:
    capsys.readouterr()
    main([*base, "ingest", str(path), "--centre", centre, "--received-on", "2027-01-15", "--json"])
    return json.loads(capsys.readouterr().out)["claim_number"]


def _invoice(base: list[str], centre: str, capsys) -> list[str]:
    capsys.readouterr()
    assert main([*base, "invoice", "--centre", centre, "--series", "2027-06", "--on", "2027-01-16", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    documents = found if isinstance(found, list) else found.get("invoices", [found])
    return [d["invoice_number"] for d in documents]


def _issued_files(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((tmp_path / "out").rglob("invoice_OCR-*"))}


def test_numbers_issued_before_a_restore_are_never_issued_again(base, tmp_path, capsys):
    assert _ingest(base, FIRST, "12345", capsys) == "C0000001C"
    assert _invoice(base, "12345", capsys) == ["OCR-2027-000001"]
    second_claim = _ingest(base, SECOND, "56789", capsys)
    assert _invoice(base, "56789", capsys) == ["OCR-2027-000002"]
    before = _issued_files(tmp_path)

    capsys.readouterr()
    assert main([*base, "restore"]) == 1  # invoices since the copy: only when forced
    listed = capsys.readouterr().out
    assert "invoice OCR-2027-000001" in listed and "invoice OCR-2027-000002" in listed
    assert main([*base, "restore", "--force"]) == 0

    again = _ingest(base, SECOND, "56789", capsys)
    assert again not in ("C0000001C", second_claim) and again == claim_number(3)
    assert _invoice(base, "56789", capsys) == ["OCR-2027-000003"]
    after = _issued_files(tmp_path)
    assert {name: after[name] for name in before} == before  # the issued documents are untouched


def test_a_damaged_store_restored_still_never_reissues_its_numbers(base, tmp_path, capsys):
    db = Path(base[1])
    _ingest(base, FIRST, "12345", capsys)
    assert _invoice(base, "12345", capsys) == ["OCR-2027-000001"]
    db.write_bytes(b"\0" * db.stat().st_size)  # the store is lost: only the ledger knows
    capsys.readouterr()
    assert main([*base, "restore"]) == 1
    assert "invoice number 1" in capsys.readouterr().out
    assert main([*base, "restore", "--force"]) == 0
    assert _ingest(base, SECOND, "56789", capsys) == "C0000002E"
    assert _invoice(base, "56789", capsys) == ["OCR-2027-000002"]


def test_the_ledger_holds_the_highest_numbers_and_nothing_else(base, capsys):
    db = Path(base[1])
    _ingest(base, FIRST, "12345", capsys)
    _invoice(base, "12345", capsys)
    assert numbering.highest(db) == {"claim": 1, "invoice": 1, "credit_note": 0}
    assert json.loads(numbering.ledger_path(db).read_text(encoding="utf-8")) == {
        "claim": 1,
        "invoice": 1,
        "credit_note": 0,
    }


def test_catch_up_moves_each_sequence_past_the_marks(tmp_path, loaded_store):
    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    con = database.connect(db)
    try:
        marks = {"claim": 41, "invoice": 7, "credit_note": 3}
        assert numbering.catch_up(con, marks) == marks
        assert con.execute(
            "SELECT nextval('claim_numbers'), nextval('invoice_numbers'), nextval('credit_note_numbers')"
        ).fetchall() == [(42, 8, 4)]
        assert numbering.catch_up(con, {"claim": 10, "invoice": 2, "credit_note": 1}) == {
            "claim": 0,
            "invoice": 0,
            "credit_note": 0,
        }
    finally:
        con.close()
