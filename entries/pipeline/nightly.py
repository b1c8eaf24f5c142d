"""The nightly import of an inbox laid out as INBOX/<centre number>/<files>, exactly once.

A centre's folder may hold series folders (INBOX/<centre>/2027-06/<files>): their files are for
that series; other files are for the run's --series, else the default series (entries.store.series).

Each file is claimed by an atomic rename into `processing/` and journalled in `nightly_claims`;
its commit writes its submission and marks its claim in one transaction; it then moves to
`processed/`, `rejected/` or `failed/` beside the inbox. A run killed at any moment is finished by
the next: claims already committed are only reported and moved, the rest are processed. Prepared
rows wait in a private spool folder (never in an orchestrator's result store) between stages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from entries.checks.reference import Reference
from entries.checks.upload import Outcome, Prepared
from entries.checks.validate import Context
from entries.core import clock, crash
from entries.core.errors import EntriesError, StoreBusy
from entries.core.faults import MachineFault, machine_fault
from entries.core.rules import issue
from entries.core.series import parse_series
from entries.core.status import Status
from entries.intake.reader import start_readers
from entries.pipeline import hall, workers
from entries.pipeline.hall import file_sha256
from entries.reports.files import sweep_temporary
from entries.store import claims as journal
from entries.store import database, refdata
from entries.store.database import Connection
from entries.store.outcomes import outcome_from_store
from entries.store.runlock import backup, run_lock
from entries.store.spool import load_spooled, private_temp, spool, spool_dir, sweep, temp_dir, unspool

FOLDERS = ("processing", "processed", "rejected", "failed")
SKIP_SUFFIXES = (".order.txt", ".tmp", ".part", ".crdownload")
CENTRE_FOLDER = re.compile(r"[0-9]{5}")  # INBOX/<centre number>/: any other folder is not read
ORDER_SIDECAR = ".order.txt"  # INBOX/<centre>/<file>.order.txt: the order number given with the upload
CLOCK_SKEW_SECONDS = 60  # a modification time further ahead than this is the sender's clock, not a write
PREPARE_THREADS = 2  # files read and checked ahead of the one being stored (2 cores here)
STORE_WAIT_SECONDS = 600.0  # how long a step waits for an operator's command to let go of the store


@dataclass(frozen=True)
class Layout:
    """The inbox and the folders beside it; `series` is the run's --series, for files whose folder
    names none (INBOX/<centre>/<series>/ names one)."""

    inbox: Path
    series: str | None = None

    def folder(self, name: str) -> Path:
        return self.inbox.parent / name


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


@dataclass(frozen=True)
class Left:
    """A claimed file that a fault of the machine (a full disk, a refused permission) stopped: it
    stays in processing/ with its claim open, and the next run takes it. Never a verdict on it."""

    reason: str
    status: str = "Left for the next run"


Spooled = Path | Left  # what prepare hands the writer: a spool file, or why a fault stopped the file
Delivered = Outcome | Left


@dataclass
class RunResult:
    """Every file's docs/architecture.md §5 object and the run's totals."""

    files: list[dict] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # centre/file still being written: next run
    ignored: list[str] = field(default_factory=list)  # files at the inbox's root, folders not a centre
    faulted: list[dict] = field(default_factory=list)  # centre, file, reason: left by a fault

    def totals(self) -> dict:
        by_status: dict[str, int] = {}
        for f in self.files:
            by_status[f["status"]] = by_status.get(f["status"], 0) + 1
        return {
            "files": len(self.files),
            "by_status": dict(sorted(by_status.items())),
            "entries": sum(sum(f["entries"].values()) for f in self.files),
            "fees_pence": sum(f["fees_pence"] for f in self.files),
            "held": sum(f["held"] for f in self.files),
            "left_for_next_run": len(self.left),
            "left_by_fault": len(self.faulted),
            "ignored": len(self.ignored),
        }

    def as_json(self) -> dict:
        return {
            "files": self.files,
            "totals": self.totals(),
            "left_for_next_run": self.left,
            "left_by_fault": self.faulted,
            "ignored": self.ignored,
        }


def folder_for(status: Status | str) -> str:
    """processed/ for stored files, failed/ for unreadable ones, rejected/ for the rest."""
    status = Status(status)
    if status in (Status.PROCESSING_COMPLETE, Status.OCR_HANDLING_THIS):
        return "processed"
    return "failed" if status == Status.UPLOAD_FAILED else "rejected"


def _future_dated(path: Path, now: float | None = None) -> bool:
    """The file's modification time is ahead of this machine's clock (beyond a little skew)."""
    return path.stat().st_mtime > (time.time() if now is None else now) + CLOCK_SKEW_SECONDS


def _stable(path: Path, settle_seconds: float, now: float) -> bool:
    first = path.stat()
    if _future_dated(path, now):
        return True  # it would look "just written" for ever: import it now, with RUN_02 saying why
    if now - first.st_mtime < settle_seconds:
        return False  # written moments ago: may still be arriving
    if settle_seconds > 0:
        time.sleep(min(0.2, settle_seconds))
        second = path.stat()
        return (first.st_size, first.st_mtime_ns) == (second.st_size, second.st_mtime_ns)
    return True


def _uploads(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIP_SUFFIXES)
    )


def series_folders(centre_dir: Path) -> list[tuple[str, Path]]:
    """(series, folder) for each sub-folder of a centre's folder that names a series (`2027-06` or
    `June 2027`); other sub-folders are not read (their files are listed as left in the inbox)."""
    found = []
    for sub in sorted(p for p in centre_dir.iterdir() if p.is_dir()):
        series = parse_series(sub.name)
        if series is not None:
            found.append((series, sub))
    return found


def centre_folders(folder: Path) -> list[Path]:
    """The sub-folders of `folder` named as a centre number (5 digits), in order."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and CENTRE_FOLDER.fullmatch(p.name))


def not_taken(layout: Layout) -> list[str]:
    """What the inbox holds that a night never takes, each named once for the summary: files at the
    inbox's root, and folders whose name is not a centre number (they are left where they are)."""
    if not layout.inbox.is_dir():
        return []
    return sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in layout.inbox.iterdir()
        if not p.name.startswith(".") and (p.is_file() or (p.is_dir() and not CENTRE_FOLDER.fullmatch(p.name)))
    )


def pending(layout: Layout, settle_seconds: float = 5.0) -> list[tuple[str, str | None, Path]]:
    """(centre, series named by its folder or None, file) waiting in the inbox, oldest first;
    files still being written are left."""
    if not layout.inbox.is_dir():
        return []
    now = time.time()
    found = []
    for centre_dir in centre_folders(layout.inbox):
        places: list[tuple[str | None, Path]] = [(None, centre_dir), *series_folders(centre_dir)]
        for series, folder in places:
            for path in _uploads(folder):
                if _stable(path, settle_seconds, now):
                    found.append((path.stat().st_mtime, centre_dir.name, str(path), series, path))
    return [(centre, series, path) for _, centre, _, series, path in sorted(found)]


def left_in_inbox(layout: Layout) -> list[str]:
    """`centre/file` (or `centre/folder/file`) for every upload still in the inbox after claiming:
    still being written, or in a sub-folder that names no series."""
    if not layout.inbox.is_dir():
        return []
    return sorted(
        str(p.relative_to(layout.inbox))
        for centre_dir in centre_folders(layout.inbox)
        for pattern in ("*", "*/*")
        for p in centre_dir.glob(pattern)
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIP_SUFFIXES)
    )


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


def prepare_claim(claim: Claim, reference: Reference, folder: Path) -> Spooled:
    """Prepare a claimed file through the hall and spool the result; returns the spool file (a
    path, not the rows).

    A fault of the machine (the spool's disk full, say) leaves the file for the next run (`Left`).
    Any other failure nobody foresaw while reading or checking fails this file alone (RUN_01,
    `Upload failed`), with the place in the code logged: the night goes on."""
    # A folder's series the reference data does not know is refused row by row (SER_02).
    context = Context(
        centre=claim.centre,
        series=claim.series or hall.context_for(reference, claim.centre, claim.received_on).series,
        received_on=claim.received_on,
        series_source=claim.series_source,
    )
    name = f"{claim.claim_id}-{claim.sha256[:16]}"
    try:
        prepared = hall.prepare(claim.path, context, reference, work_dir=temp_dir(folder))
        if _future_dated(claim.path):
            prepared.issues.insert(0, issue("RUN_02", file=claim.file_name))
        return spool(prepared, folder, name)
    except Exception as exc:  # noqa: BLE001 - one file's failure must not cost the rest of the night
        fault = machine_fault(exc, str(folder))
        if fault is not None:
            return Left(fault)
        try:
            return spool(_failed(claim, context, "checking", exc), folder, name)
        except OSError as again:
            return Left(machine_fault(again, str(folder)) or f"the spool could not be written ({type(again).__name__})")


def _failed(claim: Claim, context: Context, step: str, exc: Exception) -> Prepared:
    """A claimed file that a step could not handle, as a refusal the store records (no rows)."""
    crash.record(exc, f"nightly {step} centre {claim.centre} file {claim.file_name}")
    found = issue("RUN_01", file=claim.file_name, step=step, detail=type(exc).__name__)
    return Prepared(claim.path, claim.sha256, context, [found], refusal="RUN_01")


def commit_claim(
    con: Connection, claim: Claim, prepared: Prepared, reference: Reference, out_dir: Path
) -> Outcome | Left:
    """A claimed, prepared file through the hall's writer, its journal row in the same transaction.

    A claim committed by an interrupted run is not committed again: its outcome is read back (and
    its reports written again: the same bytes)."""
    if claim.submission_id is not None:
        return hall.with_reports(con, prepared, outcome_from_store(con, claim.submission_id), out_dir)

    def noted(c: Connection, submission_id: int) -> None:
        journal.note_submission(c, claim.claim_id, submission_id)

    try:
        return hall.finish(con, prepared, reference, order_ref=claim.order_ref, out_dir=out_dir, on_commit=noted)
    except StoreBusy:
        raise  # the store, not the file: nothing later can be stored either
    except MachineFault as owed:
        return Left(str(owed))  # stored, reports owed: the claim stays open and the next run writes them
    except Exception as exc:  # noqa: BLE001 - the transaction rolled back; record this file as failed
        fault = machine_fault(exc)
        if fault is not None:
            return Left(fault)  # nothing was stored: the next run stores it
        failed = _failed(claim, prepared.context, "storing", exc)
        return hall.finish(con, failed, reference, order_ref=claim.order_ref, out_dir=out_dir, on_commit=noted)


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


def say(line: str) -> None:
    """One line for the operator on stderr (logs and terminals alike)."""
    sys.stderr.write(f"nightly: {line}\n")
    sys.stderr.flush()


def progress(done: int, total: int, claim: Claim, status: str) -> None:
    """One plain line per file on stderr (logs and CI); a bar when stderr is a terminal."""
    if sys.stderr.isatty():
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {claim.centre}/{claim.file_name[:30]:30s}"
        )
        if done == total:
            sys.stderr.write("\n")
    else:
        sys.stderr.write(f"nightly: {done}/{total} centre {claim.centre} {claim.file_name}: {status}\n")
    sys.stderr.flush()


def deliver(
    con: Connection, layout: Layout, claim: Claim, spooled: Spooled, reference: Reference, out_dir: Path
) -> Delivered:
    """One claimed, prepared file to its end: through the hall (commit, confirmation, the report back
    to the centre), then the move to its folder. A file a fault stopped stays where it is."""
    if isinstance(spooled, Left):
        return spooled
    prepared = load_spooled(spooled)  # once: the commit and the report read the same rows
    if claim.submission_id is None and not _unchanged(claim, prepared):
        unspool(spooled)
        return Left(STILL_CHANGING)
    outcome = commit_claim(con, claim, prepared, reference, out_dir)
    if isinstance(outcome, Left):
        unspool(spooled)  # checked again next run, from the file itself
        return outcome
    finish_claim(con, layout, claim, outcome.status, spooled)
    return outcome


STILL_CHANGING = "the file changed after it was claimed (still being written?): it is left for the next night"


def _unchanged(claim: Claim, prepared: Prepared) -> bool:
    """The bytes checked are the bytes claimed, and still the file's: what is stored is what was read."""
    return prepared.sha256 == claim.sha256 and claim.path.exists() and file_sha256(claim.path) == claim.sha256


class NightSteps(Protocol):
    """How each step of a night runs: plain calls in this process, or tasks of a Prefect flow.

    `run_night` orders them; an implementation only decides where each runs (and may prepare
    files in parallel: `prepare_all` yields spool paths in the order of the claims)."""

    def backup(self) -> None: ...
    def reference(self) -> Reference: ...
    def claim(self) -> list[Claim]: ...
    def prepare_all(self, claims: list[Claim], reference: Reference, folder: Path) -> Iterable[Spooled]: ...
    def deliver(self, claim: Claim, spooled: Spooled, reference: Reference) -> Delivered: ...
    def tell(self, done: int, total: int, claim: Claim, outcome: Delivered) -> None: ...
    def pause(self) -> None: ...


def run_night(
    db: Path, layout: Layout, steps: NightSteps, out_dir: Path, lock_wait_seconds: float = 600.0
) -> RunResult:
    """The nightly import, written once: lock, back up, claim, then per file in the order received
    commit, report and move (`deliver`; prepare may run ahead). Returns every file's outcome."""
    if not layout.inbox.is_dir():
        raise EntriesError(
            f"there is no inbox folder at {layout.inbox}: check the path (a night reads INBOX/<centre number>/<files>)"
        )
    result = RunResult(ignored=not_taken(layout))
    with run_lock(db, lock_wait_seconds, notify=say):
        steps.backup()
        reference = steps.reference()
        claims = steps.claim()
        result.left = left_in_inbox(layout)
        folder = spool_dir(db)
        # What a killed run left in the private folder (half-written spools, the reader's and
        # openpyxl's temporary files) goes now, and so do half-written reports; every claim is
        # prepared again below.
        sweep(folder)
        sweep_temporary(out_dir)
        start_readers()  # the readers' fork server outlives this run's private folder
        with private_temp(folder), crash.logging_to(db.parent / "logs"):
            prepared = steps.prepare_all(claims, reference, folder)
            for n, (claim, spooled) in enumerate(zip(claims, prepared, strict=True), start=1):
                outcome = steps.deliver(claim, spooled, reference)
                if isinstance(outcome, Left):
                    result.faulted.append({"centre": claim.centre, "file": claim.file_name, "reason": outcome.reason})
                else:
                    result.files.append(outcome.as_json())
                steps.tell(n, len(claims), claim, outcome)
                steps.pause()  # between files: let an operator's command in if one is waiting
    return result


def prepare_ahead(claims: list[Claim], reference: Reference, folder: Path) -> Iterator[Spooled]:
    """Every claim prepared ahead of the writer (in the night's worker processes), in claim order."""
    return workers.prepare_ahead(prepare_claim, claims, reference, folder)


@dataclass
class InProcess:
    """Every step in this process, one after another, on one connection to the store."""

    db: Path
    layout: Layout
    out_dir: Path
    received_on: dt.date | None = None
    settle_seconds: float = 5.0
    con: Connection | None = None

    def _store(self) -> Connection:
        if self.con is None:
            # After a pause, an operator's command may still be reading: wait for it to finish.
            self.con = database.connect(self.db, wait_seconds=STORE_WAIT_SECONDS, notify=say)
        return self.con

    def pause(self) -> None:
        """Close the store when another process waits for it; the next step reopens it."""
        if self.con is not None:
            database.hand_over(self.db, self.close)

    def backup(self) -> None:
        backup(self.db)

    def reference(self) -> Reference:
        return refdata.snapshot(self._store())

    def claim(self) -> list[Claim]:
        return claim_files(self._store(), self.layout, self.received_on, self.settle_seconds)

    def prepare_all(self, claims: list[Claim], reference: Reference, folder: Path) -> Iterator[Spooled]:
        return prepare_ahead(claims, reference, folder)

    def deliver(self, claim: Claim, spooled: Spooled, reference: Reference) -> Delivered:
        return deliver(self._store(), self.layout, claim, spooled, reference, self.out_dir)

    def tell(self, done: int, total: int, claim: Claim, outcome: Delivered) -> None:
        progress(done, total, claim, str(outcome.status))

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def run_nightly(
    inbox: Path,
    db: Path,
    out_dir: Path,
    *,
    received_on: dt.date | None = None,
    settle_seconds: float = 5.0,
    lock_wait_seconds: float = 600.0,
    series: str | None = None,
) -> RunResult:
    """The whole nightly job in this process (`entries nightly --in-process`); `series` is for
    files whose folder names none."""
    layout = Layout(inbox, series)
    steps = InProcess(db, layout, out_dir, received_on, settle_seconds)
    try:
        return run_night(db, layout, steps, out_dir, lock_wait_seconds)
    finally:
        steps.close()
