"""Faults of the machine are never a verdict on a centre's file (slow lane).

A small real filesystem (ext4 in a file, loop-mounted for the test; skipped where this process may
not mount) holds the store, the spool and the reports. It is filled to the last byte after the night's first
file: no valid file may end `Upload failed` or in failed/, the night says why in words, and once
space is freed the next night stores every entry.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from entries.core.errors import EntriesError
from entries.core.faults import MachineFault, machine_fault
from entries.core.status import Status
from entries.pipeline import file_steps, hall, nightly
from entries.store import database, refdata
from tests.conftest import FIXTURES

HEADER = (FIXTURES / "commit" / "full_award_certificate.csv").read_text(encoding="utf-8").splitlines()[0]
FILES, ROWS = 12, 50


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/srv/entries/e.duckdb"), "no space left on the disk"),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/out"), "permission denied on /srv/out"),
        (RuntimeError("IO Error: Could not write file: No space left on device"), "no space left"),
        (RuntimeError("FATAL Error: database has been invalidated because of a previous fatal error"), "store stopped"),
    ],
)
def test_a_fault_of_the_machine_is_named_in_words(exc, words):
    assert words in machine_fault(exc)


@pytest.mark.parametrize("exc", [ValueError("bad cell"), KeyError("Unit 1"), MemoryError()])
def test_a_fault_of_the_file_is_not_a_fault_of_the_machine(exc):
    assert machine_fault(exc) is None


@pytest.fixture
def small_disk(tmp_path):
    """A 48 MiB ext4 filesystem in a file, loop-mounted (a real disk's behaviour when full)."""
    mount, image = tmp_path / "small", tmp_path / "small.img"
    mount.mkdir()
    with image.open("wb") as handle:
        handle.truncate(48 << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], capture_output=True)
    done = made.returncode == 0 and subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True)
    if not done or done.returncode != 0:
        pytest.skip("this process may not loop-mount a small filesystem")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    (inbox / "12345").mkdir(parents=True)
    for n in range(FILES):
        rows = [HEADER] + [
            f"12345,{1000 + n * ROWS + i:04d},,,{chr(65 + n)}{chr(97 + i % 26)}{chr(97 + i // 26)}son,Pat,F,"
            f"{1 + i % 28:02d}/{1 + n:02d}/2009,05838,,,,,,,13A"
            for i in range(ROWS)
        ]
        (inbox / "12345" / f"entries_{n:02d}.csv").write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return inbox


def _fill(disk: Path) -> Path:
    """Write until the disk has no byte left; returns the filler to delete."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@pytest.mark.slow
def test_a_disk_that_fills_mid_night_loses_no_file_and_the_next_night_stores_them(
    small_disk, tmp_path, loaded_store, monkeypatch
):
    inbox = _inbox(tmp_path)
    db = small_disk / "db" / "e.duckdb"
    db.parent.mkdir()
    shutil.copyfile(loaded_store, db)
    out = small_disk / "out"
    told = nightly.progress
    filled: list[Path] = []

    def fill_after_the_first(done, total, claim, status):
        told(done, total, claim, status)
        if not filled:
            filled.append(_fill(small_disk))

    monkeypatch.setattr(nightly, "progress", fill_after_the_first)
    first = nightly.run_nightly(inbox, db, out, received_on=dt.date(2027, 1, 15), settle_seconds=0)
    statuses = {f["status"] for f in first.files}
    assert "Upload failed" not in statuses and statuses <= {"Processing complete"}
    assert not list((tmp_path / "failed").rglob("*.csv"))
    assert first.faulted and all(
        "no space left on the disk" in f["reason"] or "store" in f["reason"] for f in first.faulted
    )
    assert len(first.files) + len(first.faulted) == FILES

    filled[0].unlink()
    monkeypatch.setattr(nightly, "progress", told)
    second = nightly.run_nightly(inbox, db, out, received_on=dt.date(2027, 1, 15), settle_seconds=0)
    assert not second.faulted
    assert len(first.files) + len(second.files) == FILES
    assert sorted(p.name for p in (tmp_path / "processed" / "12345").iterdir()) == [
        f"entries_{n:02d}.csv" for n in range(FILES)
    ]
    con = database.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM entries").fetchall()[0][0] == FILES * ROWS
    finally:
        con.close()
    # Nothing of the candidates' outside the store and the reports: the spool is empty, and no
    # log holds a name (every fixture candidate's forename is Pat, every surname ends in "son").
    assert [p for p in (db.parent / "spool").rglob("*") if p.is_file()] == []
    for log in (db.parent / "logs").rglob("*"):
        if log.is_file():
            text = log.read_text(encoding="utf-8", errors="replace")
            assert "Pat" not in text and "son," not in text


def _no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "/srv/out")


def test_reports_a_full_disk_stopped_are_written_by_the_same_ingest_again(con, tmp_path, monkeypatch):
    sent = tmp_path / "clean.csv"
    sent.write_text(f"{HEADER}\r\n12345,0042,123450260042C,,Smith,Amy,F,14/05/2009,05838,,,,,,,13A\r\n")
    reference = refdata.snapshot(con)
    context = hall.context_for(reference, "12345", dt.date(2027, 1, 15), "2027-06")
    out = tmp_path / "out"
    monkeypatch.setattr(hall, "confirm", _no_space)
    with pytest.raises(MachineFault, match="no space left on the disk that holds /srv/out"):
        hall.submit(con, sent, context=context, reference=reference, order_ref=None, out_dir=out)
    assert con.execute("SELECT status FROM submissions").fetchall() == [("Processing complete",)]
    assert not list(out.rglob("*.confirmation.xlsx"))
    monkeypatch.undo()
    again = hall.submit(con, sent, context=context, reference=reference, order_ref=None, out_dir=out)
    assert again.status == Status.DUPLICATE_FILE
    assert [p.name for p in out.rglob("*.confirmation.xlsx")] == [
        "2027-01-15_clean_" + again.sha256[:8] + ".confirmation.xlsx"
    ]


def test_reports_a_full_disk_stopped_are_written_by_the_next_night(tmp_path, loaded_store, monkeypatch):
    inbox = tmp_path / "inbox"
    (inbox / "12345").mkdir(parents=True)
    shutil.copy(FIXTURES / "commit" / "full_award_certificate.csv", inbox / "12345")
    db = tmp_path / "db" / "e.duckdb"
    db.parent.mkdir()
    shutil.copyfile(loaded_store, db)
    out = tmp_path / "out"
    monkeypatch.setattr(hall, "confirm", _no_space)
    first = nightly.run_nightly(inbox, db, out, received_on=dt.date(2027, 1, 15), settle_seconds=0)
    assert first.files == [] and "its reports are not written yet" in first.faulted[0]["reason"]
    assert [p.name for p in (tmp_path / "processing" / "12345").iterdir()] == ["full_award_certificate.csv"]
    monkeypatch.undo()
    second = nightly.run_nightly(inbox, db, out, received_on=dt.date(2027, 1, 15), settle_seconds=0)
    [done] = second.files
    assert done["status"] == "Processing complete" and Path(done["reports"]["confirmation"]).is_file()
    assert [p.name for p in (tmp_path / "processed" / "12345").iterdir()] == ["full_award_certificate.csv"]
    con = database.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM submissions").fetchall() == [(1,)]  # stored once
    finally:
        con.close()


def test_a_file_written_to_after_its_claim_is_left_for_the_next_night(tmp_path, loaded_store, monkeypatch):
    inbox = tmp_path / "inbox"
    (inbox / "12345").mkdir(parents=True)
    shutil.copy(FIXTURES / "commit" / "full_award_certificate.csv", inbox / "12345")
    db = tmp_path / "db" / "e.duckdb"
    db.parent.mkdir()
    shutil.copyfile(loaded_store, db)
    claimed = tmp_path / "processing" / "12345" / "full_award_certificate.csv"
    prepare = file_steps.prepare_claim

    def and_the_sender_appends(claim, reference, folder):
        spooled = prepare(claim, reference, folder)
        with claimed.open("a", encoding="utf-8") as more:  # the sender's program still had it open
            more.write("12345,0043,,,Jones,Ben,M,02/11/2008,05838,,,,,,,13A\r\n")
        return spooled

    monkeypatch.setattr(file_steps, "prepare_claim", and_the_sender_appends)
    first = nightly.run_nightly(inbox, db, tmp_path / "out", received_on=dt.date(2027, 1, 15), settle_seconds=0)
    assert first.files == [] and first.faulted[0]["reason"] == file_steps.STILL_CHANGING
    monkeypatch.undo()
    second = nightly.run_nightly(inbox, db, tmp_path / "out", received_on=dt.date(2027, 1, 15), settle_seconds=0)
    assert [(f["status"], f["rows"]) for f in second.files] == [("Processing complete", 2)]  # both rows, read whole


def test_a_missing_inbox_is_an_error_and_odd_entries_are_named_and_left(tmp_path, loaded_store):
    db = tmp_path / "db" / "e.duckdb"
    db.parent.mkdir()
    shutil.copyfile(loaded_store, db)
    with pytest.raises(EntriesError, match="no inbox folder"):
        nightly.run_nightly(tmp_path / "nowhere", db, tmp_path / "out", settle_seconds=0)
    inbox = tmp_path / "inbox"
    (inbox / "12345").mkdir(parents=True)
    (inbox / "Riverside").mkdir()
    (inbox / "Riverside" / "entries.csv").write_text(HEADER + "\r\n")
    (inbox / "stray.csv").write_text(HEADER + "\r\n")
    result = nightly.run_nightly(inbox, db, tmp_path / "out", received_on=dt.date(2027, 1, 15), settle_seconds=0)
    assert result.files == [] and result.ignored == ["Riverside/", "stray.csv"]
    assert (inbox / "Riverside" / "entries.csv").exists() and (inbox / "stray.csv").exists()
