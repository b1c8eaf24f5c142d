"""One claimed file's steps in a night: prepare (read and check, spooled; ahead of the writer, in
the night's workers), then deliver (commit with its claim marked, reports, the move to its folder).

In: a `Claim`, the reference data, the spool folder, the store's connection. Out: a spool file or
`Left` from prepare; the file's `Outcome` or `Left` from deliver. A fault of the machine leaves the
file for the next run; any other failure nobody foresaw fails that file alone (RUN_01).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entries.checks.reference import Reference
from entries.checks.upload import Outcome, Prepared
from entries.checks.validate import Context
from entries.core import crash
from entries.core.errors import StoreBusy
from entries.core.faults import MachineFault, machine_fault
from entries.core.rules import issue
from entries.pipeline import claiming, hall, workers
from entries.pipeline.claiming import Claim
from entries.pipeline.hall import file_sha256
from entries.pipeline.inbox import Layout, future_dated
from entries.pipeline.run_result import Delivered, Left, Spooled
from entries.store import claims as journal
from entries.store.database import Connection
from entries.store.outcomes import outcome_from_store
from entries.store.spool import load_spooled, spool, temp_dir, unspool

STILL_CHANGING = "the file changed after it was claimed (still being written?): it is left for the next night"


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
        if future_dated(claim.path):
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
    claiming.finish_claim(con, layout, claim, outcome.status, spooled)
    return outcome


def _unchanged(claim: Claim, prepared: Prepared) -> bool:
    """The bytes checked are the bytes claimed, and still the file's: what is stored is what was read."""
    return prepared.sha256 == claim.sha256 and claim.path.exists() and file_sha256(claim.path) == claim.sha256


def prepare_ahead(claims: list[Claim], reference: Reference, folder: Path) -> Iterator[Spooled]:
    """Every claim prepared ahead of the writer (in the night's worker processes), in claim order."""
    return workers.prepare_ahead(prepare_claim, claims, reference, folder)
