"""Faults of the machine are never a verdict on a centre's file (slow lane).

A small real filesystem (tmpfs, mounted for the test; skipped where this process may not mount)
holds the store, the spool and the reports. It is filled to the last byte after the night's first
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

from entries.core.faults import machine_fault
from entries.pipeline import nightly
from entries.store import database
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
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("this process may not mount a small filesystem")
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
