"""The nightly import of an inbox laid out as INBOX/<centre number>/<files>, exactly once.

A centre's folder may hold series folders (INBOX/<centre>/2027-06/<files>): their files are for
that series; other files are for the run's --series, else the default series (entries.store.series).

Each file is claimed by an atomic rename into `processing/` and journalled in `nightly_claims`;
its commit writes its submission and marks its claim in one transaction; it then moves to
`processed/`, `rejected/` or `failed/` beside the inbox. A run killed at any moment is finished by
the next: claims already committed are only reported and moved, the rest are processed. Prepared
rows wait in a private spool folder (never in an orchestrator's result store) between stages.

This module is the run itself: `run_night` orders the steps (`NightSteps`), `run_nightly` runs them
in this process. The inbox is read in `entries.pipeline.inbox`, files are claimed and finished in
`entries.pipeline.claiming`, each file's steps are `entries.pipeline.file_steps`, and what a run
returns is `entries.pipeline.run_result`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from entries.checks.reference import Reference
from entries.core import crash
from entries.core.errors import EntriesError
from entries.intake.reader import start_readers
from entries.pipeline.claiming import Claim, claim_files
from entries.pipeline.file_steps import deliver, prepare_ahead
from entries.pipeline.inbox import Layout, left_in_inbox, not_taken
from entries.pipeline.run_result import Delivered, Left, RunResult, Spooled
from entries.reports.files import sweep_temporary
from entries.store import database, refdata
from entries.store.database import Connection
from entries.store.runlock import backup, run_lock
from entries.store.spool import private_temp, spool_dir, sweep

STORE_WAIT_SECONDS = 600.0  # how long a step waits for an operator's command to let go of the store


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
