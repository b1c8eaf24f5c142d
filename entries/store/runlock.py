"""One nightly run at a time, and a copy of the store to come back to.

`run_lock` holds an exclusive lock file beside the database; a second run waits a bounded time and
then stops with a clear message. `backup` checkpoints the store and copies it before a night's first
run writes: once per night, so a resumed night or a run that waited for the lock keeps the copy from
before the night began. `restore` puts that copy back, but first `since_copy` lists what it would
undo (submissions and review decisions made after the copy), and it refuses unless forced.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from entries.core import clock
from entries.core.errors import EntriesError
from entries.store import database


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def backup_path(db: Path) -> Path:
    return db.with_name(db.name + ".before-run")


@contextmanager
def run_lock(
    db: Path, wait_seconds: float = 600.0, poll: float = 0.5, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the run lock for `db`; raise EntriesError if another run keeps it past `wait_seconds`.

    `notify` hears one line when this run has to wait (which process holds the lock, how long)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path(db).open("a+")
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if notify is not None and not told:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                notify(
                    f"another run (process {holder}) is using {db}; waiting up to {wait_seconds:.0f} s for it to finish"
                )
                told = True
            if time.monotonic() >= deadline:
                handle.close()
                raise EntriesError(
                    f"another run is using {db} (lock {lock_path(db)} held); waited {wait_seconds:.0f} s. "
                    "Try again when it has finished."
                ) from None
            time.sleep(poll)
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _copy_verified(source: Path, target: Path) -> None:
    temp = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, temp)
    os.fsync(os.open(temp, os.O_RDONLY))
    check = duckdb.connect(str(temp), read_only=True)  # the copy must open before it replaces anything
    check.execute("SELECT count(*) FROM submissions").fetchall()
    check.close()
    os.replace(temp, target)


def copy_marker(db: Path) -> Path:
    return db.with_name(db.name + ".before-run.json")


@dataclass(frozen=True)
class CopyInfo:
    """When the pre-run copy was taken, and for which night."""

    taken_at: dt.datetime
    night: dt.date


def copy_info(db: Path) -> CopyInfo | None:
    """What the marker beside the copy says; None when there is no copy (or no marker)."""
    marker = copy_marker(db)
    if not backup_path(db).exists() or not marker.exists():
        return None
    data = json.loads(marker.read_text(encoding="utf-8"))
    return CopyInfo(dt.datetime.fromisoformat(data["taken_at"]), dt.date.fromisoformat(data["night"]))


def _open_claims(con: duckdb.DuckDBPyConnection) -> int:
    try:
        return int(con.execute("SELECT count(*) FROM nightly_claims WHERE done_at IS NULL").fetchall()[0][0])
    except duckdb.CatalogException:
        return 0  # a store from before the claims journal: no run was interrupted


def backup(db: Path, night: dt.date | None = None) -> Path | None:
    """CHECKPOINT the store, copy it beside itself and check the copy opens; None if no store yet.

    Taken once per night: when the copy is already this night's, or an interrupted run left claims
    open (this run finishes that night), the copy from before the night began is kept."""
    if not db.exists():
        return None
    night = night or clock.today()
    con = database.connect(db, wait_seconds=600.0)  # an operator's command may be reading: let it finish
    try:
        resuming = _open_claims(con) > 0
        con.execute("CHECKPOINT")
    finally:
        con.close()
    info = copy_info(db)
    if info is not None and (info.night == night or resuming):
        return backup_path(db)
    target = backup_path(db)
    taken_at = clock.now()
    _copy_verified(db, target)
    copy_marker(db).write_text(
        json.dumps({"taken_at": taken_at.isoformat(), "night": night.isoformat()}), encoding="utf-8"
    )
    return target


@dataclass(frozen=True)
class SinceCopy:
    """What `restore` would undo: submissions and review decisions made after the copy was taken."""

    taken_at: dt.datetime | None
    submissions: list[dict]  # submission_id, centre, file_name, received_on, sha256, status (no personal data)
    decisions: list[dict]  # review_id, submission_id, resolution

    @property
    def empty(self) -> bool:
        return not self.submissions and not self.decisions


def since_copy(db: Path) -> SinceCopy:
    """Submissions recorded and review items resolved since the pre-run copy (read-only).

    Compared with the copy itself, not only by time: a submission the copy lacks is new."""
    source = backup_path(db)
    if not source.exists():
        raise EntriesError(f"no pre-run copy at {source}: nothing to restore")
    info = copy_info(db)
    copy = duckdb.connect(str(source), read_only=True)
    try:
        known_ids = {r[0] for r in copy.execute("SELECT submission_id FROM submissions").fetchall()}
        resolved = {r[0] for r in copy.execute("SELECT review_id FROM review_items WHERE status <> 'open'").fetchall()}
    finally:
        copy.close()
    if not db.exists():
        return SinceCopy(info.taken_at if info else None, [], [])
    con = duckdb.connect(str(db), read_only=True)
    try:
        subs = [
            dict(zip(("submission_id", "centre", "file_name", "received_on", "sha256", "status"), r, strict=True))
            for r in con.execute(
                "SELECT submission_id, centre, file_name, received_on, sha256, status FROM submissions "
                "ORDER BY submission_id"
            ).fetchall()
            if r[0] not in known_ids
        ]
        decisions = [
            dict(zip(("review_id", "submission_id", "resolution"), r, strict=True))
            for r in con.execute(
                "SELECT review_id, submission_id, resolution FROM review_items "
                "WHERE status <> 'open' ORDER BY review_id"
            ).fetchall()
            if r[0] not in resolved
        ]
    finally:
        con.close()
    return SinceCopy(info.taken_at if info else None, subs, decisions)


def restore(db: Path) -> Path:
    """Put the pre-run copy back in place of the store (the store being replaced is kept aside)."""
    source = backup_path(db)
    if not source.exists():
        raise EntriesError(f"no pre-run copy at {source}: nothing to restore")
    # Every store replaced is kept (numbered), so restoring twice never loses the newer one.
    n = 1
    while db.with_name(f"{db.name}.replaced-{n}").exists():
        n += 1
    aside = db.with_name(f"{db.name}.replaced-{n}")
    if db.exists():
        os.replace(db, aside)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal"))
    _copy_verified(source, db)
    return db


def replaced_copies(db: Path) -> list[Path]:
    """The stores `restore` set aside, oldest first."""
    return sorted(db.parent.glob(f"{db.name}.replaced-*[0-9]"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
