"""The nightly import as a Prefect flow: claim, prepare on the task runner, commit one at a time in
the order received, report, move. Retries only where files or the database are touched.

Tasks pass paths, hashes and counts; prepared rows go through the private spool folder, never
through Prefect's results. With `dask_address`, prepare and report run on a Dask cluster through
prefect-dask while commit stays in this process (DuckDB admits one writer).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from entries.core import config
from entries.pipeline import nightly
from entries.store import database
from entries.checks.reference import Reference
from entries.store.runlock import backup, run_lock
from entries.store.spool import spool_dir
from entries.checks.upload import Outcome
from flows.ingest import reference_task  # the same snapshot step as a single upload's
from flows.retry import busy_store

DB_RETRY = {"retries": 2, "retry_delay_seconds": [2, 10]}
QUIET = {"persist_result": False, "cache_policy": NO_CACHE}


@task(name="backup", retry_condition_fn=busy_store, **DB_RETRY, **QUIET)
def backup_task(db: str) -> str | None:
    """Checkpoint and copy the store before the run writes (for `entries restore`)."""
    copy = backup(Path(db))
    return None if copy is None else str(copy)


@task(name="claim", **DB_RETRY, **QUIET)
def claim_task(db: str, inbox: str, received_on: str | None, settle_seconds: float) -> list[nightly.Claim]:
    """Finish-or-claim: unfinished claims of an interrupted run, then the settled inbox files."""
    con = database.connect(Path(db))
    try:
        day = dt.date.fromisoformat(received_on) if received_on else None
        return nightly.claim_files(con, nightly.Layout(Path(inbox)), day, settle_seconds)
    finally:
        con.close()


@task(name="prepare", **QUIET)
def prepare_task(claim: nightly.Claim, reference: Reference, spool: str) -> str:
    """Read and check one claimed file; returns its spool path."""
    return str(nightly.prepare_claim(claim, reference, Path(spool)))


@task(name="commit", retry_condition_fn=busy_store, **DB_RETRY, **QUIET)
def commit_task(db: str, claim: nightly.Claim, spooled: str, reference: Reference, out: str) -> Outcome:
    con = database.connect(Path(db))
    try:
        return nightly.commit_claim(con, claim, Path(spooled), reference, Path(out))
    finally:
        con.close()


@task(name="report", retries=2, retry_delay_seconds=2, **QUIET)
def report_task(spooled: str, outcome: Outcome, out: str) -> str | None:
    return nightly.report_claim(Path(spooled), outcome, Path(out))["annotated"]


@task(name="move", retries=2, retry_delay_seconds=[1, 5], **QUIET)
def move_task(db: str, inbox: str, claim: nightly.Claim, status: str, spooled: str) -> str:
    con = database.connect(Path(db))
    try:
        return str(nightly.finish_claim(con, nightly.Layout(Path(inbox)), claim, status, Path(spooled)))
    finally:
        con.close()


@flow(name="nightly-import", persist_result=False, task_runner=ThreadPoolTaskRunner(max_workers=2))
def nightly_flow(inbox: str, db: str | None = None, out: str | None = None, received_on: str | None = None,
                 settle_seconds: float = 5.0, lock_wait_seconds: float = 600.0) -> dict:
    """Import every settled file of INBOX/<centre>/; returns {"files": [...], "totals": {...}}."""
    db_file, out_dir = str(config.db_path(db)), str(config.out_dir(out))
    logger = get_run_logger()
    result = nightly.RunResult()
    with run_lock(Path(db_file), lock_wait_seconds):
        backup_task(db_file)
        reference = reference_task(db_file)
        claims = claim_task(db_file, inbox, received_on, settle_seconds)
        result.left = nightly.left_in_inbox(nightly.Layout(Path(inbox)))
        spool = str(spool_dir(Path(db_file)))
        logger.info("nightly: %d file(s) to import", len(claims))
        prepared = [prepare_task.submit(claim, reference, spool) for claim in claims]
        for n, (claim, future) in enumerate(zip(claims, prepared), start=1):
            spooled = future.result()
            outcome = commit_task(db_file, claim, spooled, reference, out_dir)
            outcome.reports["annotated"] = report_task.submit(spooled, outcome, out_dir).result()
            move_task(db_file, inbox, claim, str(outcome.status), spooled)
            result.files.append(outcome.as_json())
            # File names and centre numbers only: never cell contents.
            logger.info("nightly: %d/%d centre %s %s: %s", n, len(claims), claim.centre, claim.file_name, outcome.status)
            nightly.progress(n, len(claims), claim, str(outcome.status))
    return result.as_json()


def runner_for(dask_address: str | None):
    """The flow with its prepare/report tasks on a Dask cluster when an address is given."""
    if not dask_address:
        return nightly_flow
    from prefect_dask import DaskTaskRunner

    return nightly_flow.with_options(task_runner=DaskTaskRunner(address=None if dask_address == "local" else dask_address))
