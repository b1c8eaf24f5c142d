"""A private folder where prepared rows wait between stages, so orchestrators pass only paths.

Prefect (or Dask) moves task results between processes and may keep them; candidates' rows must not
go that way. Prepare writes its result here, commit and report read it, and it is deleted when the
file is done. The folder is owner-only and sits beside the store.

A spooled file is a folder of typed data, never a pickle (loading a pickle runs code): the rows as
read and the normalised rows as Parquet (their pandas types kept), everything else as JSON. It is
written under a temporary name and renamed into place, so a reader never sees half of one.

While a run works, its readers' temporary files (the cells a reader child wrote, its copy of a
sheet) are made inside `tmp/` of the same folder (`private_temp`, `temp_dir`: passed to the readers
as their `work_dir`), and `sweep` removes whatever a killed run left there, so candidates' data never
lingers in the system's temporary folder. Nothing here changes the process's environment or
`tempfile.tempdir`: another thread of the same process (the portal's) is not affected.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from entries.checks.upload import Prepared
from entries.checks.validate import Context
from entries.core.processes import alive
from entries.core.rules import Issue

_META = "prepared.json"
_FRAMES = ("rows", "entries")
TEMP = "tmp"


def spool_dir(db: Path) -> Path:
    """The spool folder beside the store at `db`, created owner-only."""
    folder = db.parent / "spool"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def spool(prepared: Prepared, folder: Path, name: str) -> Path:
    """Write `prepared` as `folder/name/` (JSON and Parquet) atomically; returns that path."""
    target = folder / name
    temp = folder / f".{name}.writing"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(mode=0o700)
    try:
        for frame_name in _FRAMES:
            frame = getattr(prepared, frame_name)
            if frame is not None:
                frame.to_parquet(temp / f"{frame_name}.parquet", index=True)
        (temp / _META).write_text(json.dumps(_meta(prepared), default=str), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)  # a retried prepare replaces its own earlier spool
        os.replace(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target


def load_spooled(path: Path) -> Prepared:
    """Read back what `spool` wrote: typed data only, nothing that runs code."""
    meta = json.loads((path / _META).read_text(encoding="utf-8"))
    frames = {
        name: pd.read_parquet(path / f"{name}.parquet") if (path / f"{name}.parquet").exists() else None
        for name in _FRAMES
    }
    context = Context(
        centre=meta["centre"],
        series=meta["series"],
        received_on=dt.date.fromisoformat(meta["received_on"]),
        series_source=meta.get("series_source", "stated"),
    )
    issues = [Issue(**i) for i in meta["issues"]]
    return Prepared(
        path=Path(meta["path"]),
        sha256=meta["sha256"],
        context=context,
        issues=issues,
        refusal=meta["refusal"],
        file_format=meta["file_format"],
        encoding=meta["encoding"],
        sheet=meta["sheet"],
        header_row=meta["header_row"],
        positions=meta["positions"],
        rows=frames["rows"],
        entries=frames["entries"],
    )


def unspool(path: Path) -> None:
    """Delete a spooled file (its rows are stored or refused: they need not wait any longer)."""
    shutil.rmtree(path, ignore_errors=True)


# Folders of the spool that other services keep while a night runs beside them (the portal's
# uploads, an onboarding's reader files, the portal's blank templates): each removes its own dead
# processes' leftovers.
SERVICES = ("portal", "onboard", "templates")


def sweep(folder: Path, keep: Iterable[Path] = ()) -> int:
    """Remove everything in the spool folder but the spooled files in `keep` and the other
    services' folders (a killed run's leftovers: half-written spools, temporary files). Returns how
    many entries were removed."""
    kept = {Path(p).name for p in keep} | set(SERVICES)
    removed = 0
    for entry in folder.iterdir():
        if entry.name in kept:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def temp_dir(folder: Path) -> Path:
    """`folder/tmp` (made owner-only): where a run's readers make their temporary files, given
    to them as `work_dir` (for instance `read_upload(path, limits, work_dir=temp_dir(spool_dir(db)))`)."""
    temp = folder / TEMP
    temp.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(temp, 0o700)
    return temp


@contextmanager
def private_temp(folder: Path) -> Iterator[Path]:
    """`temp_dir(folder)` for the block (a run), removed with everything in it when the block ends.

    The run hands it to its readers as `work_dir`, in this process and in its workers alike; the
    process's environment and `tempfile.tempdir` are left as they are."""
    temp = temp_dir(folder)
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # nothing made for this run outlives it


@contextmanager
def service_temp(folder: Path, service: str) -> Iterator[Path]:
    """A folder of this process's own under `folder/service` (made owner-only) for the block,
    removed with what is in it when the block ends. First the folders that killed processes of
    the same service left are removed (the folder's name carries its process id), never a live
    one's: a night and an onboarding may run side by side."""
    parent = folder / service
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(parent, 0o700)
    for leftover in parent.iterdir():
        pid = leftover.name.split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)
    own = parent / f"{os.getpid()}-{uuid.uuid4().hex}"
    own.mkdir(mode=0o700)
    try:
        yield own
    finally:
        shutil.rmtree(own, ignore_errors=True)


def _meta(prepared: Prepared) -> dict:
    return {
        "path": str(prepared.path),
        "sha256": prepared.sha256,
        "centre": prepared.context.centre,
        "series": prepared.context.series,
        "series_source": prepared.context.series_source,
        "received_on": prepared.context.received_on.isoformat(),
        "issues": [
            {
                "code": i.code,
                "severity": i.severity,
                "message": i.message,
                "fix": i.fix,
                "row": i.row,
                "column": i.column,
                "file": i.file,
                "params": i.params,
            }
            for i in prepared.issues
        ],
        "refusal": prepared.refusal,
        "file_format": prepared.file_format,
        "encoding": prepared.encoding,
        "sheet": prepared.sheet,
        "header_row": prepared.header_row,
        "positions": prepared.positions,
    }
