"""A private folder where prepared rows wait between stages, so orchestrators pass only paths.

Prefect (or Dask) moves task results between processes and may keep them; candidates' rows must not
go that way. Prepare writes its result here, commit and report read it, and it is deleted when the
file is done. The folder is owner-only and sits beside the store.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from entries.checks.upload import Prepared


def spool_dir(db: Path) -> Path:
    """The spool folder beside the store at `db`, created owner-only."""
    folder = db.parent / "spool"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def spool(prepared: Prepared, folder: Path, name: str) -> Path:
    """Write `prepared` to `folder/name.pickle` atomically; returns the path."""
    target = folder / f"{name}.pickle"
    temp = target.with_name(target.name + ".tmp")
    with temp.open("wb") as fh:
        pickle.dump(prepared, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temp, target)
    return target


def load_spooled(path: Path) -> Prepared:
    """Read back what `spool` wrote (this program's own file, in its owner-only folder)."""
    with path.open("rb") as fh:
        return pickle.load(fh)  # noqa: S301 - written by spool() above, never by a user
