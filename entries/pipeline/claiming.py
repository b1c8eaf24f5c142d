"""Claiming the inbox's files for a night, exactly once, and finishing each claim.

In: the store's connection and the inbox's `Layout`. A claim is an atomic rename into
`processing/<centre>/` followed by a row of the `nightly_claims` journal (entries.store.claims);
claims an interrupted run left open are taken up first. Out: the `Claim`s, oldest first; when a
file's end is known, `finish_claim` moves it to `processed/`, `rejected/` or `failed/` beside the
inbox and closes its claim.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from entries.core import clock
from entries.core.status import Status
from entries.pipeline.hall import file_sha256
from entries.pipeline.inbox import ORDER_SIDECAR, Layout, centre_folders, pending, series_folders
from entries.store import claims as journal
from entries.store.database import Connection
from entries.store.spool import unspool

FOLDERS = ("processing", "processed", "rejected", "failed")


@dataclass(frozen=True)
class Claim:
    """A file taken for this run: where it is now, and what the journal knows (no personal data)."""

    claim_id: int
    centre: str
    file_name: str
    path: Path
    sha256: str
    received_on: dt.date
    order_ref: str | None
    submission_id: int | None = None
    series: str | None = None  # stated by its folder or the run's --series; None: the default rule
    series_source: str = "default"


def folder_for(status: Status | str) -> str:
    """processed/ for stored files, failed/ for unreadable ones, rejected/ for the rest."""
    status = Status(status)
    if status in (Status.PROCESSING_COMPLETE, Status.OCR_HANDLING_THIS):
        return "processed"
    return "failed" if status == Status.UPLOAD_FAILED else "rejected"


def _stated(folder_series: str | None, layout: Layout) -> tuple[str | None, str]:
    """The series a claimed file is for (its folder's, else the run's --series) and where from."""
    if folder_series is not None:
        return folder_series, "folder"
    if layout.series is not None:
        return layout.series, "option"
    return None, "default"


def _claim_row(
    con: Connection,
    centre: str,
    path: Path,
    received_on: dt.date,
    order_ref: str | None,
    stated: tuple[str | None, str],
) -> Claim:
    sha = file_sha256(path)
    series, source = stated
    claim_id = journal.journal_claim(
        con,
        sha256=sha,
        centre=centre,
        file_name=path.name,
        path=path,
        received_on=received_on,
        order_ref=order_ref,
        series=series,
        series_source=source,
    )
    return Claim(claim_id, centre, path.name, path, sha, received_on, order_ref, None, series, source)


def claim_files(
    con: Connection, layout: Layout, received_on: dt.date | None = None, settle_seconds: float = 5.0
) -> list[Claim]:
    """Unfinished claims of an interrupted run first, then the inbox's settled files, claimed.

    A claim is the atomic rename into processing/<centre>/ followed by a journal row; a file found
    in processing/ without a journal row (killed between the two) is journalled now.
    """
    for name in FOLDERS:
        layout.folder(name).mkdir(parents=True, exist_ok=True)
    claims: list[Claim] = []
    journalled = set()
    for cid, centre, name, claimed, sha, received, order_ref, sid, series, source in journal.open_claims(con):
        path = Path(claimed)
        journalled.add(path)
        if sid is None and path.exists() and (now := file_sha256(path)) != sha:
            journal.rehash(con, cid, now)  # written to after its claim: these are its bytes now
            sha = now
        claim = Claim(cid, centre, name, path, sha, received, order_ref, sid, series, source)
        if path.exists():
            claims.append(claim)
        else:
            # The move out of processing/ happened but the journal did not hear of it: close the
            # claim, saying where the file went.
            _close_claim(con, claim, _moved_to(layout, centre, name, sha), None)
    processing = layout.folder("processing")
    for centre_dir in centre_folders(processing):
        # A series folder under processing/<centre>/ keeps the series its inbox folder stated.
        for series, folder in [(None, centre_dir), *series_folders(centre_dir)]:
            for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(ORDER_SIDECAR)):
                if path not in journalled:
                    received = _received(path, received_on)
                    stated = _stated(series, layout)
                    claims.append(_claim_row(con, centre_dir.name, path, received, _order_ref(path), stated))
    for centre, series, path in pending(layout, settle_seconds):
        target_dir = processing / centre if series is None else processing / centre / series
        target_dir.mkdir(parents=True, exist_ok=True)
        target = _free_name(target_dir, path.name)
        sidecar = path.with_name(path.name + ORDER_SIDECAR)
        if sidecar.exists():
            os.replace(sidecar, target.with_name(target.name + ORDER_SIDECAR))
        received = _received(path, received_on)
        os.replace(path, target)  # atomic on one filesystem: the file is ours from here
        claims.append(_claim_row(con, centre, target, received, _order_ref(target), _stated(series, layout)))
    return claims


def _received(path: Path, received_on: dt.date | None) -> dt.date:
    """The day the file arrived: as given, else its modification date (never after today)."""
    if received_on is not None:
        return received_on
    return min(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date(), clock.now().date())


def _order_ref(path: Path) -> str | None:
    sidecar = path.with_name(path.name + ORDER_SIDECAR)
    if not sidecar.exists():
        return None
    text = sidecar.read_text(encoding="utf-8", errors="replace").strip()
    return text[:100] or None


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target = folder / f"{stem}.{n}{dot}{suffix}"
        n += 1
    return target


def finish_claim(con: Connection, layout: Layout, claim: Claim, status: Status | str, spooled: Path | None) -> Path:
    """Move the claimed file (and its order sidecar) to its final folder, close the claim, drop the spool."""
    target = _move_claimed(layout, claim, status)
    _close_claim(con, claim, target, spooled)
    return target


def _move_claimed(layout: Layout, claim: Claim, status: Status | str) -> Path:
    folder = layout.folder(folder_for(status)) / claim.centre
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, claim.file_name)
    sidecar = claim.path.with_name(claim.path.name + ORDER_SIDECAR)
    if sidecar.exists():
        os.replace(sidecar, target.with_name(target.name + ORDER_SIDECAR))
    os.replace(claim.path, target)  # atomic: the file is in exactly one folder at every moment
    return target


def _close_claim(con: Connection, claim: Claim, target: Path | None, spooled: Path | None) -> None:
    journal.close_claim(con, claim.claim_id, target)
    if spooled is not None:
        unspool(spooled)


def _moved_to(layout: Layout, centre: str, file_name: str, sha256: str) -> Path | None:
    """Where a claimed file went when a run was killed after moving it and before journalling that:
    the file of its name (or a numbered twin) with its bytes in processed/, rejected/ or failed/."""
    stem, dot, suffix = file_name.partition(".")
    for name in ("processed", "rejected", "failed"):
        folder = layout.folder(name) / centre
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob(f"{stem}*{dot}{suffix}")):
            if candidate.is_file() and file_sha256(candidate) == sha256:
                return candidate
    return None
