"""One nightly run at a time, and a copy of the store to come back to.

`run_lock` holds an exclusive lock file beside the database; a second run waits a bounded time and
then stops with a clear message. `backup` checkpoints the store and copies it before a run writes;
`restore` puts that copy back.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from entries.core.errors import EntriesError


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def backup_path(db: Path) -> Path:
    return db.with_name(db.name + ".before-run")


@contextmanager
def run_lock(db: Path, wait_seconds: float = 600.0, poll: float = 0.5) -> Iterator[None]:
    """Hold the run lock for `db`; raise EntriesError if another run keeps it past `wait_seconds`."""
    db.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path(db).open("a+")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
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


def backup(db: Path) -> Path | None:
    """CHECKPOINT the store, copy it beside itself and check the copy opens; None if no store yet."""
    if not db.exists():
        return None
    con = duckdb.connect(str(db))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    target = backup_path(db)
    _copy_verified(db, target)
    return target


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
