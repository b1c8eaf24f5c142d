"""A damaged store is said at once and is never "in use"; the last good copy survives; `restore`
brings it back, also when the store is missing, and a kill at any point of `restore` leaves a
whole store (the next open finishes it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from entries.cli import main
from entries.core.errors import StoreBusy, StoreDamaged
from entries.core.faults import machine_fault
from entries.store import database, restoring, runlock
from tests.conftest import FIXTURES

NIGHT = dt.date(2027, 1, 15)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count(db: Path, table: str = "submission_issues") -> int:
    con = database.connect(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture
def store(tmp_path, loaded_store) -> Path:
    """A loaded store with enough rows that its middle holds table data (about 6 MB)."""
    db = tmp_path / "db" / "e.duckdb"
    db.parent.mkdir()
    shutil.copyfile(loaded_store, db)
    con = database.connect(db)
    con.execute(
        "INSERT INTO submission_issues SELECT range, range, 'A', 'X_01', 'error', md5(range::VARCHAR), NULL "
        "FROM range(200000)"
    )
    con.execute("CHECKPOINT")
    con.close()
    return db


def _truncate_half(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _truncate_4k(db: Path) -> None:
    os.truncate(db, 4096)


def _zero(db: Path) -> None:
    db.write_bytes(b"\0" * db.stat().st_size)


def _not_a_database(db: Path) -> None:
    db.write_text("centre,candidate\n" * 1000, encoding="utf-8")


def _random_64k_mid_file(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.seek(db.stat().st_size // 2)
        handle.write(random.Random(7).randbytes(65536))


DAMAGE = {
    "truncated_half": _truncate_half,
    "truncated_4k": _truncate_4k,
    "zeroed": _zero,
    "not_a_database": _not_a_database,
    "random_64k_mid_file": _random_64k_mid_file,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_store_is_said_damaged_at_once_never_in_use(store, damage):
    DAMAGE[damage](store)
    with pytest.raises(StoreDamaged, match="is damaged") as raised:
        # A long wait would show a store mistaken for one in use: damage must not wait at all.
        database.connect(store, wait_seconds=600.0, verify=True)
    assert not isinstance(raised.value, StoreBusy)
    assert "entries restore --force" in str(raised.value)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_the_command_line_says_damaged_and_how_to_restore(store, damage, capsys):
    DAMAGE[damage](store)
    code = main(["--db", str(store), "invoices", "--series", "2027-06", "--on", "2027-01-16"])
    err = capsys.readouterr().err
    assert code == 1
    assert "damaged" in err and "entries restore --force" in err
    assert "in use" not in err and "Traceback" not in err


def _damage_a_block_of(db: Path, table: str, column: str) -> None:
    """Random bytes in the middle of a block holding `table`.`column` (DuckDB: three 4 KiB headers,
    then blocks of the store's block size)."""
    con = database.connect(db)
    try:
        block = con.execute(
            f"SELECT max(block_id) FROM pragma_storage_info('{table}') WHERE block_id >= 0 AND column_name = ?",
            [column],
        ).fetchall()[0][0]
        size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    finally:
        con.close()
    with db.open("r+b") as handle:
        handle.seek(3 * 4096 + block * size + size // 2)
        handle.write(random.Random(7).randbytes(4096))


def test_a_damaged_block_a_query_reads_is_a_fault_of_the_machine_not_a_verdict(store):
    _damage_a_block_of(store, "submission_issues", "message")
    con = database.connect(store)  # the catalogue reads: the damage is in a table's blocks
    try:
        with pytest.raises(Exception) as raised:
            con.execute("SELECT max(hash(message)) FROM submission_issues").fetchall()
    finally:
        con.close()
    assert "store is damaged" in machine_fault(raised.value)


def test_a_missing_store_with_copies_is_refused_not_made_anew(store):
    runlock.backup(store, NIGHT)
    store.unlink()
    with pytest.raises(StoreDamaged, match="missing"):
        database.connect(store)
    assert not store.exists()


def test_a_night_never_copies_a_damaged_store_over_the_last_good_copy(store):
    copy = runlock.backup(store, NIGHT)
    good = _sha(copy)
    _random_64k_mid_file(store)
    with pytest.raises(StoreDamaged):
        runlock.backup(store, NIGHT + dt.timedelta(days=1))
    assert _sha(copy) == good
    assert restoring.copies(store) == [copy]


def test_three_nights_of_copies_are_kept(store):
    for n in range(4):
        con = database.connect(store)
        con.execute("INSERT INTO submission_issues VALUES (?, 1, 'A', 'X_01', 'error', 'night', NULL)", [-n])
        con.close()
        runlock.backup(store, NIGHT + dt.timedelta(days=n))
    kept = restoring.copies(store)
    assert [p.name for p in kept] == ["e.duckdb.before-run", "e.duckdb.before-run.2", "e.duckdb.before-run.3"]
    nights = [runlock._info(p).night for p in kept]
    assert nights == [NIGHT + dt.timedelta(days=d) for d in (3, 2, 1)]


@pytest.mark.parametrize("damage", [*sorted(DAMAGE), "missing"])
def test_restore_brings_back_a_damaged_or_missing_store(store, damage, capsys):
    runlock.backup(store, NIGHT)
    rows = _count(store)
    if damage == "missing":
        store.unlink()
    else:
        DAMAGE[damage](store)
    assert main(["--db", str(store), "restore"]) == 1  # undoes what cannot be listed: only when forced
    assert "--force" in capsys.readouterr().err
    assert main(["--db", str(store), "restore", "--force"]) == 0
    assert _count(store) == rows
    database.connect(store, verify=True).close()
    if damage != "missing":
        assert [p.name for p in runlock.replaced_copies(store)] == ["e.duckdb.replaced-1"]


def test_restore_passes_over_a_damaged_newer_copy(store):
    runlock.backup(store, NIGHT)
    rows = _count(store)
    con = database.connect(store)
    con.execute("INSERT INTO submission_issues VALUES (-1, 1, 'A', 'X_01', 'error', 'later', NULL)")
    con.close()
    runlock.backup(store, NIGHT + dt.timedelta(days=1))
    _random_64k_mid_file(runlock.backup_path(store))
    _zero(store)
    lost = runlock.since_copy(store)
    assert lost.source == restoring.copy_path(store, 2) and lost.skipped and lost.unreadable
    runlock.restore(store)
    assert _count(store) == rows


# Each os.replace and link of a restore, numbered: the kill lands just before the n-th.
KILL = """
import os, sys
from pathlib import Path
from entries.store import restoring, runlock
at = int(sys.argv[2]); calls = [0]
def dying(real):
    def step(*args, **kwargs):
        calls[0] += 1
        if calls[0] == at:
            os._exit(9)
        return real(*args, **kwargs)
    return step
os.replace = dying(os.replace)
os.link = dying(os.link)
runlock.restore(Path(sys.argv[1]))
"""


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_a_kill_at_any_step_of_restore_leaves_a_whole_store(store, step):
    runlock.backup(store, NIGHT)
    before = _count(store)
    con = database.connect(store)
    con.execute("INSERT INTO submission_issues VALUES (-1, 1, 'A', 'X_01', 'error', 'after the copy', NULL)")
    con.close()
    done = subprocess.run([sys.executable, "-c", KILL, str(store), str(step)], capture_output=True, text=True)
    assert done.returncode in (0, 9), done.stderr[-500:]
    # Whatever the kill left, the next open gives a whole store: the old one, or the copy with the
    # old one kept aside.
    now = _count(store)
    database.connect(store, verify=True).close()
    assert not restoring.journal_path(store).exists()
    if now == before:
        [aside] = runlock.replaced_copies(store)
        assert _count(aside) == before + 1
    else:
        assert now == before + 1 and not runlock.replaced_copies(store)


def test_a_restore_journaled_before_the_kill_is_finished_by_the_next_open(store):
    runlock.backup(store, NIGHT)
    before = _count(store)
    con = database.connect(store)
    con.execute("INSERT INTO submission_issues VALUES (-1, 1, 'A', 'X_01', 'error', 'after the copy', NULL)")
    con.close()
    # Killed at the first link after the journal: the swap is owed to the next open.
    subprocess.run([sys.executable, "-c", KILL, str(store), "3"], capture_output=True, check=False)
    assert restoring.journal_path(store).exists()
    assert _count(store) == before  # the open finished the restore
    [aside] = runlock.replaced_copies(store)
    assert _count(aside) == before + 1


def test_a_night_on_a_damaged_store_leaves_every_file_in_the_inbox(store, tmp_path, capsys):
    inbox = tmp_path / "inbox"
    (inbox / "12345").mkdir(parents=True)
    shutil.copy(FIXTURES / "commit" / "full_award_certificate.csv", inbox / "12345")
    runlock.backup(store, NIGHT)
    _random_64k_mid_file(store)
    code = main(
        ["--db", str(store), "--out", str(tmp_path / "out"), "nightly", str(inbox), "--in-process"]
        + ["--received-on", "2027-01-15", "--settle-seconds", "0"]
    )
    err = capsys.readouterr().err
    assert code == 1 and "damaged" in err and "Traceback" not in err
    assert [p.name for p in (inbox / "12345").iterdir()] == ["full_award_certificate.csv"]
    assert not (tmp_path / "failed").exists()


def test_checking_and_copying_the_store_keep_this_process_s_lock(store):
    # DuckDB's lock is a POSIX record lock: had this process opened and closed the file itself
    # (to read its header, its blocks, or to copy it), the kernel would have dropped the lock and
    # another process could open the store beside the night.
    night = database.connect(store)
    try:
        database.connect(store).close()  # a second connection of the same process (a flow's task)
        database.connect(store, verify=True).close()
        runlock.backup(store, NIGHT)
        other = subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1])", str(store)],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0 and "Could not set lock" in other.stderr
    finally:
        night.close()
