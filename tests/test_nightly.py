"""The nightly import: folders, statuses and reports per file; exactly once under kills; locks."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest

from entries.core.errors import EntriesError
from entries.pipeline.nightly import run_nightly
from entries.store import database, runlock
from tests.conftest import PROJECT

SAMPLES = PROJECT / "data" / "samples" / "inbox"
RECEIVED = dt.date(2027, 1, 15)
EXPECTED = {
    "12345/entries_june_2027.xlsx": ("processed", "Processing complete"),
    "12345/topups_june_2027.csv": ("rejected", "Read and rejected"),  # its moving-down needs results not loaded here
    "23456/mis_export.csv": ("processed", "Processing complete"),
    "34567/entries_with_mistakes.xlsx": ("rejected", "Read and rejected"),
    "45678/empty.xlsx": ("rejected", "Empty file"),
    "45678/old_format.xlsx": ("failed", "Upload failed"),
    "56789/entries.xlsx": ("processed", "Processing complete"),
}


def make_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    shutil.copytree(SAMPLES, inbox)
    return inbox


def final_state(root: Path, db: Path) -> dict:
    """Everything a run leaves, without ids and times: the store's rows and the folders' files."""
    con = database.connect(db, read_only=True)
    try:
        state = {
            "submissions": sorted(
                con.execute(
                    "SELECT file_name, centre, sha256, status, reason_code, rows, accepted, rejected, held FROM submissions"
                ).fetchall()
            ),
            "statuses": sorted(
                con.execute(
                    """SELECT s.file_name, list(t.status ORDER BY t.seq) FROM submissions s JOIN submission_status t USING (submission_id)
                   GROUP BY ALL"""
                ).fetchall()
            ),
            "entries": sorted(
                con.execute(
                    """SELECT centre_number, candidate_number, entry_code, kind, coalesce(unit_number, 0), series, fee_pence, late,
                          replaced_by IS NOT NULL FROM entries"""
                ).fetchall()
            ),
            "candidates": sorted(
                con.execute(
                    "SELECT centre_number, candidate_number, coalesce(uci, ''), surname, forenames, date_of_birth FROM candidates"
                ).fetchall()
            ),
            "claims_open": con.execute("SELECT count(*) FROM nightly_claims WHERE done_at IS NULL").fetchall(),
        }
    finally:
        con.close()
    state["folders"] = sorted(
        str(p.relative_to(root))
        for name in ("inbox", "processing", "processed", "rejected", "failed")
        for p in (root / name).rglob("*")
        if p.is_file()
    )
    state["reports"] = sorted(
        str(p.relative_to(root)) for p in (root / "out").rglob("*") if p.is_file() and ".tmp" not in p.name
    )
    return state


def test_nightly_run_in_process_ends_every_file_in_its_folder(tmp_path):
    inbox = make_inbox(tmp_path)
    result = run_nightly(inbox, tmp_path / "db" / "e.duckdb", tmp_path / "out", received_on=RECEIVED, settle_seconds=0)
    seen = {f"{f['centre']}/{f['file']}": f for f in result.files}
    assert set(seen) == set(EXPECTED)
    for name, (folder, status) in EXPECTED.items():
        assert seen[name]["status"] == status, name
        assert (tmp_path / folder / name).is_file(), name
    assert not any((tmp_path / "inbox").rglob("*.*")) and not any((tmp_path / "processing").rglob("*.*"))
    assert Path(seen["12345/entries_june_2027.xlsx"]["reports"]["confirmation"]).is_file()
    assert Path(seen["34567/entries_with_mistakes.xlsx"]["reports"]["annotated"]).is_file()
    assert result.totals()["by_status"]["Processing complete"] == 3


@pytest.mark.slow
def test_same_inbox_twice_stores_nothing_the_second_time(tmp_path):
    db = tmp_path / "db" / "e.duckdb"
    run_nightly(make_inbox(tmp_path), db, tmp_path / "out", received_on=RECEIVED, settle_seconds=0)
    before = final_state(tmp_path, db)
    shutil.rmtree(tmp_path / "inbox")
    second = run_nightly(make_inbox(tmp_path), db, tmp_path / "out", received_on=RECEIVED, settle_seconds=0)
    after = final_state(tmp_path, db)
    assert after["entries"] == before["entries"] and after["candidates"] == before["candidates"]
    stored_again = [f for f in second.files if f["status"] in ("Processing complete", "OCR handling this")]
    assert stored_again == []
    assert {f["status"] for f in second.files if f["file"] == "entries_june_2027.xlsx"} == {"Duplicate file"}


@pytest.mark.slow
def test_file_still_being_written_is_left_for_the_next_run(tmp_path):
    inbox = make_inbox(tmp_path)
    fresh = inbox / "12345" / "entries_june_2027.xlsx"
    os.utime(fresh, None)  # just written
    for other in inbox.rglob("*.*"):
        if other != fresh:
            os.utime(other, (time.time() - 3600, time.time() - 3600))
    result = run_nightly(inbox, tmp_path / "db" / "e.duckdb", tmp_path / "out", received_on=RECEIVED, settle_seconds=60)
    assert "entries_june_2027.xlsx" not in {f["file"] for f in result.files}
    assert fresh.exists()
    assert result.left == ["12345/entries_june_2027.xlsx"] and result.totals()["left_for_next_run"] == 1


def test_second_run_waits_for_the_lock_then_gives_up(tmp_path, capsys):
    db = tmp_path / "e.duckdb"
    with runlock.run_lock(db), pytest.raises(EntriesError, match="another run"):
        run_nightly(make_inbox(tmp_path), db, tmp_path / "out", settle_seconds=0, lock_wait_seconds=0.5)
    assert len(list((tmp_path / "inbox").rglob("*.*"))) == len(EXPECTED)  # nothing was claimed
    assert capsys.readouterr().err.count("waiting up to 0 s") == 1  # said once, while it waited


@pytest.mark.slow
def test_the_copy_is_taken_once_a_night_and_restore_says_what_it_undoes(tmp_path, monkeypatch, capsys):
    from entries.cli import main
    from entries.core import clock

    night = [dt.date(2027, 1, 15)]
    monkeypatch.setattr(clock, "today", lambda: night[0])
    db, out = tmp_path / "db" / "e.duckdb", tmp_path / "out"
    run_nightly(make_inbox(tmp_path), db, out, received_on=RECEIVED, settle_seconds=0)
    first = final_state(tmp_path, db)["entries"]

    def more(folder: str, fixture: str) -> Path:
        (tmp_path / folder / "12345").mkdir(parents=True)
        shutil.copy(PROJECT / "tests" / "fixtures" / "commit" / fixture, tmp_path / folder / "12345" / f"{folder}.csv")
        return tmp_path / folder

    night[0] = dt.date(2027, 1, 16)
    run_nightly(more("second", "unit_entries_two_candidates.csv"), db, out, received_on=RECEIVED, settle_seconds=0)
    # A second run the same night (resumed, or one that waited for the lock) keeps the night's copy.
    run_nightly(more("third", "unit_entry_unit_1.csv"), db, out, received_on=RECEIVED, settle_seconds=0)
    assert runlock.copy_info(db).night == dt.date(2027, 1, 16)
    lost = runlock.since_copy(db)
    assert [s["file_name"] for s in lost.submissions] == ["second.csv", "third.csv"] and lost.decisions == []
    reports = sorted(p.name for p in (out / "12345").glob("*second*"))
    assert reports  # the undone submission's reports, to be moved aside

    capsys.readouterr()
    assert main(["--db", str(db), "--out", str(out), "restore"]) == 1  # refused: it would undo work
    said = capsys.readouterr()
    assert "second.csv" in said.out and "third.csv" in said.out and "--force" in said.err
    assert len(final_state(tmp_path, db)["entries"]) > len(first)  # nothing was restored

    assert main(["--db", str(db), "--out", str(out), "restore", "--force"]) == 0
    assert final_state(tmp_path, db)["entries"] == first
    assert not list((out / "12345").glob("*second*"))
    assert sorted(p.name for p in (out / "undone" / "e.duckdb.replaced-1" / "12345").glob("*second*")) == reports
    assert [p.name for p in runlock.replaced_copies(db)] == ["e.duckdb.replaced-1"]
