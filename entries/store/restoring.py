"""The copies of the store taken before nights, and putting one back so that a kill at any moment
leaves a whole store.

Generation 1 (`<db>.before-run`) is the newest copy; older ones are `<db>.before-run.2`, `.3`. A
restore first stages the chosen copy beside the store and checks it reads, then writes a journal
(`<db>.restoring.json`); from then on every step is repeatable, and every open of the store
(`entries.store.database.connect`) first finishes a restore a kill interrupted. The store replaced
is kept as `<db>.replaced-N` (a hard link, so no second copy of the bytes is written).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

GENERATIONS = 3  # copies kept: a damaged night's copy never leaves the operator with nothing


def copy_path(db: Path, generation: int = 1) -> Path:
    """The pre-run copy of generation `generation` (1 the newest) of the store at `db`."""
    name = f"{db.name}.before-run" if generation == 1 else f"{db.name}.before-run.{generation}"
    return db.with_name(name)


def marker_path(copy: Path) -> Path:
    """The note beside a copy saying when it was taken and for which night."""
    return copy.with_name(copy.name + ".json")


def copies(db: Path) -> list[Path]:
    """The pre-run copies of the store at `db` that exist, newest first."""
    return [p for p in (copy_path(db, g) for g in range(1, GENERATIONS + 1)) if p.exists()]


def journal_path(db: Path) -> Path:
    return db.with_name(db.name + ".restoring.json")


def staged_path(db: Path) -> Path:
    """Where a restore stages the copy it puts back (checked before the journal is written)."""
    return db.with_name(db.name + ".restoring")


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def next_aside(db: Path) -> Path:
    """The first free `<db>.replaced-N`: every store replaced is kept, so two restores lose nothing."""
    n = 1
    while db.with_name(f"{db.name}.replaced-{n}").exists():
        n += 1
    return db.with_name(f"{db.name}.replaced-{n}")


def replaced_copies(db: Path) -> list[Path]:
    """The stores a restore set aside, oldest first."""
    return sorted(db.parent.glob(f"{db.name}.replaced-*[0-9]"), key=lambda p: int(p.name.rsplit("-", 1)[1]))


def fsync_folder(folder: Path) -> None:
    """Make the folder's entries (a rename, a new link) survive a power cut."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_durably(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (a temporary file, fsync, rename)."""
    temp = path.with_name(path.name + ".tmp")
    with temp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_folder(path.parent)


def _keep(source: Path, target: Path) -> None:
    """`target` becomes another name for `source` (a copy where the disk has no hard links)."""
    try:
        os.link(source, target)
    except OSError:
        temp = target.with_name(target.name + ".tmp")
        shutil.copyfile(source, temp)
        os.replace(temp, target)


def begin(db: Path, aside: Path) -> None:
    """Commit to a restore whose copy is staged (and checked) at `staged_path(db)`, the replaced
    store to be kept as `aside`; then carry it out."""
    write_durably(journal_path(db), json.dumps({"aside": aside.name}))
    finish_interrupted(db)


def finish_interrupted(db: Path) -> bool:
    """Carry out the restore of `db` the journal records, from wherever a kill stopped it; False
    when no restore was under way. Each step checks what is done, so running it twice is harmless."""
    journal = journal_path(db)
    if not journal.exists():
        return False
    aside = db.with_name(json.loads(journal.read_text(encoding="utf-8"))["aside"])
    staged = staged_path(db)
    if staged.exists():  # not swapped yet: keep the store and its WAL aside, then swap
        if db.exists() and not aside.exists():
            _keep(db, aside)
        wal, aside_wal = wal_path(db), wal_path(aside)
        if wal.exists():
            if not aside_wal.exists():
                _keep(wal, aside_wal)
            wal.unlink()  # the old store's log must never be replayed onto the copy
        os.replace(staged, db)
        fsync_folder(db.parent)
    journal.unlink()
    return True
