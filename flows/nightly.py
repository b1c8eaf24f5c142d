"""The nightly import as a Prefect flow: claim, prepare ahead, then one `deliver` task per file
(commit, report, move) in the order received. Retries only where files or the database are
touched; the loop itself is `entries.pipeline.nightly.run_night`, shared with `--in-process`.

Tasks pass paths, hashes and counts; prepared rows go through the private spool folder, never
through Prefect's results. Files are prepared in the night's worker processes beside the writer, as
`--in-process` does, not as task runs: a task run costs API calls and the temporary API's CPU, on
the cores that check and store files. With `dask_address`, prepare runs as a task per file on a
Dask cluster through prefect-dask while deliver stays in this process (DuckDB admits one writer).
One task run a file: the steps of one delivery never run apart. The deliver tasks
share one connection to the store (opening it costs about 25 ms), closed when an operator's command
waits for the store and when the night ends; the night's counts are one table artifact, not one a
file (an artifact costs about 15 ms of API calls).

What an operator reads in the UI: the flow run is named for its night (`nightly 2027-01-15`); a
deliver task ends Completed for a stored file, Completed under the guide's status for a file the
checks refused (`Read and rejected`, `Upload failed`, `Empty file`, `Duplicate file`) or held
(`OCR handling this`), and Failed as `Machine fault` when a fault of the machine left the file for
the next run (never a verdict on the centre's file); the night's table has every file's status.
A night killed before it ended is closed as Crashed by the next (`flows.runrecord`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from entries.checks.reference import Reference
from entries.core import clock, config
from entries.core.status import ACCEPTED, Status
from entries.pipeline import file_steps, nightly
from entries.pipeline.claiming import Claim, claim_files
from entries.pipeline.inbox import Layout
from entries.pipeline.run_result import Delivered, Left, Spooled
from entries.store import database
from entries.store.runlock import backup
from flows import runrecord
from flows.ingest import reference_task  # the same step as a single upload's
from flows.retry import busy_store

DB_RETRY: dict[str, Any] = {"retries": 2, "retry_delay_seconds": [2, 10]}
QUIET: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE}
NIGHT_ARTIFACT = "nightly-import"  # each night adds a version under this key: the UI keeps the history

# The deliver tasks' connection to the store, by store path: deliver runs one file at a time in the
# flow's own thread, so one connection serves the night; `release_store` closes it.
_OPEN: dict[str, database.Connection] = {}


def _store(db: str) -> database.Connection:
    if db not in _OPEN:
        _OPEN[db] = database.connect(Path(db), wait_seconds=nightly.STORE_WAIT_SECONDS)
    return _OPEN[db]


def release_store(db: str) -> None:
    """Close the deliver tasks' connection to the store at `db`, if open (the next task reopens it)."""
    con = _OPEN.pop(db, None)
    if con is not None:
        con.close()


@task(name="backup", retry_condition_fn=busy_store, **DB_RETRY, **QUIET)
def backup_task(db: str) -> str | None:
    """Checkpoint and copy the store before the run writes (for `entries restore`)."""
    copy = backup(Path(db))
    return None if copy is None else str(copy)


@task(name="claim", **DB_RETRY, **QUIET)
def claim_task(db: str, inbox: str, series: str | None, received_on: str | None, settle_seconds: float) -> list[Claim]:
    """Finish-or-claim: unfinished claims of an interrupted run, then the settled inbox files."""
    con = database.connect(Path(db), wait_seconds=nightly.STORE_WAIT_SECONDS)
    try:
        day = dt.date.fromisoformat(received_on) if received_on else None
        return claim_files(con, Layout(Path(inbox), series), day, settle_seconds)
    finally:
        con.close()


@task(name="prepare", task_run_name="prepare {claim.centre}/{claim.file_name}", **QUIET)
def prepare_task(claim: Claim, reference: Reference, spool: str) -> Spooled:
    """Read and check one claimed file where the task runs (a Dask worker); returns its spool path
    (or why a fault of the machine left it for the next run)."""
    return file_steps.prepare_claim(claim, reference, Path(spool))


@task(
    name="deliver",
    task_run_name="deliver {claim.centre}/{claim.file_name}",
    retry_condition_fn=busy_store,
    **DB_RETRY,
    **QUIET,
)
def deliver_task(
    db: str, inbox: str, claim: Claim, spooled: Spooled, reference: Reference, out: str
) -> Delivered | State:
    """Commit one prepared file, write its report, move it: one task per file, in the order received.
    Ends in the state that says what became of the file (`delivered_state`)."""
    try:
        delivered = file_steps.deliver(_store(db), Layout(Path(inbox)), claim, spooled, reference, Path(out))
    except BaseException:
        release_store(db)  # a retry starts from a fresh connection
        raise
    return delivered_state(delivered)


MACHINE_FAULT = "Machine fault"  # the deliver task's state when a fault of the machine left its file


def delivered_state(delivered: Delivered) -> Delivered | State:
    """What the UI shows for a file: a stored file is plain Completed; a file the checks refused or
    held is Completed under the guide's status (the verdict on the centre's file); a file a fault
    of the machine left for the next run is Failed (`Machine fault`: the operator's to see to); one
    still being written when claimed is Completed as `Left for the next run`. The data is always
    the outcome, so the night reads it the same way. Messages: counts and codes, nothing personal."""
    if isinstance(delivered, Left):
        if delivered.reason == file_steps.STILL_CHANGING:
            return Completed(name=delivered.status, message=delivered.reason, data=delivered)
        return Failed(name=MACHINE_FAULT, message=f"left for the next run: {delivered.reason}", data=delivered)
    if delivered.status == Status.PROCESSING_COMPLETE:
        return delivered
    errors = [i.code for i in delivered.issues if i.severity == "error"] or [c for c in [delivered.reason] if c]
    said = f"{len(errors)} error(s), the first {errors[0]}" if errors else f"{delivered.held} row(s) held for review"
    kind = "accepted" if delivered.status in ACCEPTED else "refused"
    return Completed(name=str(delivered.status), message=f"{kind}: {said}", data=delivered)


def _delivered(state: State) -> Delivered:
    """The outcome a deliver task's final state carries; its exception when it failed by one."""
    value = state.result(raise_on_failure=False)
    if isinstance(value, Left):
        return value  # a machine fault: Failed, but the night goes on to the next file
    return state.result()  # the outcome, or the exception that failed the task after its retries


class FlowSteps:
    """The night's steps as this flow's tasks: prepare ahead (in worker processes, or as tasks on a
    Dask cluster), then deliver one file at a time in the order received."""

    def __init__(
        self, db: str, inbox: str, out: str, received_on: str | None, settle_seconds: float, series: str | None = None
    ) -> None:
        self.db, self.inbox, self.out, self.series = db, inbox, out, series
        self.received_on, self.settle_seconds = received_on, settle_seconds
        self.logger = get_run_logger()

    def backup(self) -> None:
        # The night's first step under the run lock: the moment to take over from a killed night.
        self.take_over()
        backup_task(self.db)

    def take_over(self) -> None:
        """Close a killed night's flow run as Crashed and record this one (`flows.runrecord`)."""
        context = FlowRunContext.get()
        if context is None or context.flow_run is None:
            return
        this = context.flow_run
        try:
            closed = runrecord.take_over(Path(self.db), str(this.id), this.name)
        except Exception as exc:  # noqa: BLE001 - telling Prefect about an old run never costs the night
            self.logger.warning("nightly: could not close a killed night's flow run (%s)", type(exc).__name__)
            return
        if closed is not None:
            self.logger.warning(
                "nightly: the night's earlier flow run %r (%s) was killed: marked Crashed",
                closed.flow_run_name,
                closed.flow_run_id,
            )

    def reference(self) -> Reference:
        return reference_task(self.db)

    def claim(self) -> list[Claim]:
        claims = claim_task(self.db, self.inbox, self.series, self.received_on, self.settle_seconds)
        self.logger.info("nightly: %d file(s) to import", len(claims))
        return claims

    def prepare_all(self, claims: list[Claim], reference: Reference, folder: Path) -> Iterator[Spooled]:
        context = FlowRunContext.get()
        if context is None or isinstance(context.task_runner, ThreadPoolTaskRunner):
            yield from file_steps.prepare_ahead(claims, reference, folder)
            return
        # On another runner (a Dask cluster) each file is a task, checked where it runs.
        futures = [prepare_task.submit(claim, reference, str(folder)) for claim in claims]
        for future in futures:
            yield future.result()

    def deliver(self, claim: Claim, spooled: Spooled, reference: Reference) -> Delivered:
        return _delivered(deliver_task(self.db, self.inbox, claim, spooled, reference, self.out, return_state=True))

    def pause(self) -> None:
        """Close the store when another process waits for it; the next deliver task reopens it."""
        database.hand_over(Path(self.db), lambda: release_store(self.db))

    def tell(self, done: int, total: int, claim: Claim, outcome: Delivered) -> None:
        # File names and centre numbers only: never cell contents.
        self.logger.info("nightly: %d/%d centre %s %s: %s", done, total, claim.centre, claim.file_name, outcome.status)
        nightly.progress(done, total, claim, str(outcome.status))


def night_rows(summary: dict) -> list[dict]:
    """The night's files as table rows for a Prefect artifact, those a fault of the machine left
    included: each file's status, whose it is to act (`outcome`) and counts; no personal data."""
    rows = [
        {
            "centre": f["centre"],
            "file": f["file"],
            "status": f["status"],
            "outcome": "stored" if f["status"] in ACCEPTED else "refused: the centre's file",
            "note": ", ".join(sorted({i["code"] for i in f["issues"] if i["severity"] == "error"})),
            "rows": f["rows"],
            "accepted": f["accepted"],
            "rejected": f["rejected"],
            "held": f["held"],
            "entries": sum(f["entries"].values()),
            "fees (pence)": f["fees_pence"],
            "errors": sum(1 for i in f["issues"] if i["severity"] == "error"),
            "warnings": sum(1 for i in f["issues"] if i["severity"] == "warning"),
        }
        for f in summary["files"]
    ]
    for left in summary["left_by_fault"]:
        fault = left["reason"] != file_steps.STILL_CHANGING
        rows.append(
            {
                "centre": left["centre"],
                "file": left["file"],
                "status": Left.status,
                "outcome": "fault of the machine: the operator's" if fault else "still being written",
                "note": left["reason"],
            }
            | dict.fromkeys(("rows", "accepted", "rejected", "held", "entries", "fees (pence)", "errors", "warnings"))
        )
    return rows


def publish_night(summary: dict) -> None:
    """The night's files and totals as one table artifact (from the flow itself, no task run)."""
    totals = summary["totals"]
    statuses = ", ".join(f"{status} {n}" for status, n in totals["by_status"].items()) or "no files"
    create_table_artifact(
        key=NIGHT_ARTIFACT,
        table=night_rows(summary),
        description=f"{totals['files']} file(s): {statuses}; {totals['entries']} entries, "
        f"{totals['fees_pence']} pence; {totals['left_by_fault']} claimed file(s) left for the next run "
        f"(see each one's outcome); {totals['left_for_next_run']} file(s) still being written, left in the inbox",
    )


def night_name() -> str:
    """The flow run's name: `nightly` and the night's received-on date (today unless given)."""
    received_on = flow_run.parameters.get("received_on")
    return f"nightly {received_on or clock.today().isoformat()}"


# Prefect's stubs type a runner by the futures it makes; these are the runners Prefect documents.
@flow(
    name="nightly-import",
    flow_run_name=night_name,
    persist_result=False,
    task_runner=ThreadPoolTaskRunner(max_workers=2),  # type: ignore[arg-type]
)
def nightly_flow(
    inbox: str,
    db: str | None = None,
    out: str | None = None,
    received_on: str | None = None,
    settle_seconds: float = 5.0,
    lock_wait_seconds: float = 600.0,
    series: str | None = None,
) -> dict:
    """Import every settled file of INBOX/<centre>/ (and INBOX/<centre>/<series>/); `series` is
    for files whose folder names none. Returns {"files": [...], "totals": {...}}."""
    db_file, out_dir = str(config.db_path(db)), str(config.out_dir(out))
    steps = FlowSteps(db_file, inbox, out_dir, received_on, settle_seconds, series)
    try:
        summary = nightly.run_night(
            Path(db_file), Layout(Path(inbox), series), steps, Path(out_dir), lock_wait_seconds
        ).as_json()
    finally:
        release_store(db_file)
    publish_night(summary)
    return summary


def runner_for(dask_address: str | None):
    """The flow with its prepare/report tasks on a Dask cluster when an address is given."""
    if not dask_address:
        return nightly_flow
    from prefect_dask import DaskTaskRunner  # imports Dask: only for a night that uses it

    runner = DaskTaskRunner(address=None if dask_address == "local" else dask_address)
    return nightly_flow.with_options(task_runner=runner)  # type: ignore[arg-type]
