"""One nightly run at a time, and a copy of the store to come back to.

`run_lock` holds an exclusive lock file beside the database; a second run waits a bounded time and
then stops with a clear message. `backup` checkpoints the store and copies it before a night's first
run writes: once per night, so a resumed night or a run that waited for the lock keeps the copy from
before the night began. Copies are taken only from a store that reads whole
(every block), checked again once written, and kept for `restoring.GENERATIONS` nights. `restore` puts
the newest good copy back, but first `since_copy` lists what it would undo (submissions and review
decisions made after the copy), and it refuses unless forced; it works on a damaged or missing store.
"""

from __future__ import annotations

import dataclasses
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
from entries.core.errors import EntriesError, StoreBusy
from entries.store import database, health, numbering, restoring


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def backup_path(db: Path) -> Path:
    """The newest pre-run copy (generation 1; older ones: `restoring.copy_path`)."""
    return restoring.copy_path(db)


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


def copy_marker(db: Path) -> Path:
    return restoring.marker_path(backup_path(db))


@dataclass(frozen=True)
class CopyInfo:
    """When the pre-run copy was taken, and for which night."""

    taken_at: dt.datetime
    night: dt.date


def _info(copy: Path) -> CopyInfo | None:
    marker = restoring.marker_path(copy)
    if not copy.exists() or not marker.exists():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        return CopyInfo(dt.datetime.fromisoformat(data["taken_at"]), dt.date.fromisoformat(data["night"]))
    except (ValueError, KeyError, TypeError):
        return None  # a marker a kill cut short: the copy is still a copy, of an unknown night


def copy_info(db: Path) -> CopyInfo | None:
    """What the marker beside the newest copy says; None when there is no copy (or no marker)."""
    return _info(backup_path(db))


def _open_claims(con: duckdb.DuckDBPyConnection) -> int:
    try:
        return int(con.execute("SELECT count(*) FROM nightly_claims WHERE done_at IS NULL").fetchall()[0][0])
    except duckdb.CatalogException:
        return 0  # a store from before the claims journal: no run was interrupted


def _rotate(db: Path) -> None:
    """Make room for a new newest copy: each generation moves one older, the oldest is dropped."""
    for generation in range(restoring.GENERATIONS, 1, -1):
        older, newer = restoring.copy_path(db, generation), restoring.copy_path(db, generation - 1)
        if newer.exists():
            os.replace(newer, older)
            if restoring.marker_path(newer).exists():
                os.replace(restoring.marker_path(newer), restoring.marker_path(older))
            else:
                restoring.marker_path(older).unlink(missing_ok=True)


def backup(db: Path, night: dt.date | None = None) -> Path | None:
    """Check the store reads whole, CHECKPOINT it, copy it beside itself and check the copy; None
    if no store yet. A damaged store raises StoreDamaged and no copy is touched.

    Taken once per night: when the copy is already this night's, or an interrupted run left claims
    open (this run finishes that night), the copy from before the night began is kept."""
    if not db.exists() and not restoring.copies(db):
        return None
    night = night or clock.today()
    staged = backup_path(db).with_name(backup_path(db).name + ".tmp")
    # An operator's command may be reading: let it finish. `verify` reads every block first.
    con = database.connect(db, wait_seconds=600.0, verify=True)
    try:
        resuming = _open_claims(con) > 0
        con.execute("CHECKPOINT")
        info = copy_info(db)
        if info is not None and (info.night == night or resuming):
            return backup_path(db)
        taken_at = clock.now()
        # Copied while this connection holds the store, so no other process writes it meanwhile;
        # by a child process, so this one's lock is kept (entries.store.health).
        health.copy_apart(db, staged)
    finally:
        con.close()
    try:
        health.verify_file(staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _rotate(db)
    os.replace(staged, backup_path(db))
    restoring.write_durably(copy_marker(db), json.dumps({"taken_at": taken_at.isoformat(), "night": night.isoformat()}))
    return backup_path(db)


@dataclass(frozen=True)
class SinceCopy:
    """What `restore` would undo: submissions and review decisions made after the copy was taken.

    `unreadable` says the store is damaged, so what it holds beyond the copy cannot be listed."""

    taken_at: dt.datetime | None
    submissions: list[dict]  # submission_id, centre, file_name, received_on, sha256, status (no personal data)
    decisions: list[dict]  # review_id, submission_id, resolution
    source: Path | None = None
    unreadable: str | None = None
    skipped: tuple[str, ...] = ()  # newer copies that do not read back, and why
    # Invoices issued since the copy (their numbers are never reused, but their bills are undone):
    # the store's own rows when it reads, else the numbers the ledger says were issued.
    invoices: list[str] = dataclasses.field(default_factory=list)
    credit_notes: list[str] = dataclasses.field(default_factory=list)  # the same, for credit notes

    @property
    def empty(self) -> bool:
        return (
            not self.submissions
            and not self.decisions
            and not self.invoices
            and not self.credit_notes
            and self.unreadable is None
        )


def good_copy(db: Path) -> tuple[Path, tuple[str, ...]]:
    """The newest pre-run copy that reads whole, and why each newer one was passed over."""
    skipped: list[str] = []
    for copy in restoring.copies(db):
        try:
            health.verify_file(copy)
            return copy, tuple(skipped)
        except EntriesError as exc:
            skipped.append(str(exc))
    if skipped:
        raise EntriesError(f"no pre-run copy of {db} reads back: {'; '.join(skipped)}")
    raise EntriesError(f"no pre-run copy at {backup_path(db)}: nothing to restore")


def since_copy(db: Path) -> SinceCopy:
    """Submissions recorded and review items resolved since the newest good pre-run copy
    (read-only). Compared with the copy itself, not only by time: a submission the copy lacks is new."""
    source, skipped = good_copy(db)
    info = _info(source)
    taken = info.taken_at if info else None
    copy = duckdb.connect(str(source), read_only=True)
    try:
        known_ids = {r[0] for r in copy.execute("SELECT submission_id FROM submissions").fetchall()}
        resolved = {r[0] for r in copy.execute("SELECT review_id FROM review_items WHERE status <> 'open'").fetchall()}
        billed = {r[0] for r in copy.execute("SELECT invoice_number FROM invoices").fetchall()}
        copy_highest = int(copy.execute(numbering.KINDS["invoice"][1]).fetchall()[0][0])
        credited = _numbers_in(copy, "credit_notes", "credit_note_number")
        copy_credit_highest = int(copy.execute(numbering.KINDS["credit_note"][1]).fetchall()[0][0]) if credited else 0
    finally:
        copy.close()
    # Unreadable store: the ledger still says how far invoice numbers went (the numbers, not who).
    ledger = numbering.highest(db)
    issued = [f"invoice number {n}" for n in range(copy_highest + 1, ledger["invoice"] + 1)]
    issued_credits = [f"credit note number {n}" for n in range(copy_credit_highest + 1, ledger["credit_note"] + 1)]

    def unreadable(why: str) -> SinceCopy:
        return SinceCopy(taken, [], [], source, why, skipped, issued, issued_credits)

    if not db.exists():
        return unreadable("the store is missing")
    try:
        health.check_header(db)
        con = duckdb.connect(str(db), read_only=True)
    except EntriesError as exc:
        return unreadable(str(exc))
    except duckdb.Error as exc:
        if health.is_locked(exc):
            raise
        return unreadable("the store cannot be opened")
    try:
        health.read_everything(con, db)  # a store that opens may still be damaged further in
    except EntriesError as exc:
        con.close()
        return unreadable(str(exc))
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
        invoices = [
            r[0]
            for r in con.execute("SELECT invoice_number FROM invoices ORDER BY seq").fetchall()
            if r[0] not in billed
        ]
        credit_notes = [n for n in _numbers_in(con, "credit_notes", "credit_note_number") if n not in credited]
    except duckdb.Error:
        return unreadable("the store cannot be read")
    finally:
        con.close()
    return SinceCopy(taken, subs, decisions, source, None, skipped, invoices, credit_notes)


def _numbers_in(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str]:
    """The document numbers in `table` (by its seq), or none when the store predates the table."""
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall():
        return []
    return [r[0] for r in con.execute(f"SELECT {column} FROM {table} ORDER BY seq").fetchall()]


def restore(db: Path, source: Path | None = None) -> Path:
    """Put the newest good pre-run copy (or `source`) back in place of the store; the store being
    replaced is kept aside (`replaced_copies`). Staged and checked first, then journaled: a kill at
    any moment leaves either the old store or the copy, whole (the next open finishes the swap)."""
    restoring.finish_interrupted(db)
    source = source or good_copy(db)[0]
    if db.exists():
        try:  # a store another process holds is in use, not damaged: never swap it from under them
            health.check_header(db)
            con = duckdb.connect(str(db))
            con.close()
        except duckdb.Error as exc:
            if health.is_locked(exc):
                raise StoreBusy(f"the store {db} is in use by another process: stop it, then restore") from None
        except EntriesError:
            pass  # damaged: that is what restoring is for
    staged = restoring.staged_path(db)
    shutil.copyfile(source, staged)
    # Numbers issued since the copy are never handed out again: its sequences move past the ledger's
    # marks before it goes live (a kill before the swap leaves the old store, untouched).
    con = duckdb.connect(str(staged))
    try:
        database.bring_up_to_date(con)  # a copy older than a sequence must have it before catching up
        numbering.catch_up(con, numbering.highest(db))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    with staged.open("rb") as handle:
        os.fsync(handle.fileno())
    health.verify_file(staged)
    restoring.begin(db, restoring.next_aside(db))
    return db


def replaced_copies(db: Path) -> list[Path]:
    """The stores `restore` set aside, oldest first."""
    return restoring.replaced_copies(db)
