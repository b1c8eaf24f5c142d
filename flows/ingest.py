"""Prefect flow for one upload: prepare (pure) then commit (the one writer).

The flow only orders the tasks and sets retries; the work is in `entries.ingest`. Task results hold
candidates' rows, so they are never persisted and never cached; the flow returns only the
non-personal outcome object (DESIGN.md §5).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from entries import config, refdata, store
from entries.ingest import Outcome, Prepared, commit_to_store, prepare, report
from entries.refdata import Reference
from entries.series import default_series
from entries.validate import Context


@task(name="reference", persist_result=False, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def reference_task(db: str) -> Reference:
    """The reference tables, read once for the run (loaded first if the store has none)."""
    con = store.connect(Path(db))
    try:
        return refdata.snapshot(con)
    finally:
        con.close()


@task(name="prepare", persist_result=False, cache_policy=NO_CACHE)
def prepare_task(path: str, context: Context, reference: Reference) -> Prepared:
    """Read and check one file (no database writes)."""
    return prepare(Path(path), context, reference)


@task(name="report", persist_result=False, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def report_task(prepared: Prepared, outcome: Outcome, out: str) -> dict:
    """Write what goes back to the centre; returns the report paths."""
    return report(prepared, outcome, Path(out))


@task(
    name="commit",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    # Only a busy database file is worth another try; a bad file stays bad.
    retry_condition_fn=lambda _task, _run, state: isinstance(state.result(raise_on_failure=False), duckdb.IOException),
)
def commit_task(db: str, prepared: Prepared, reference: Reference, order_ref: str | None) -> Outcome:
    """Record the upload in the store in one transaction."""
    return commit_to_store(Path(db), prepared, reference, order_ref=order_ref)


@flow(name="ingest-file", persist_result=False)
def ingest_flow(
    path: str,
    centre: str,
    series: str | None = None,
    order_ref: str | None = None,
    received_on: str | None = None,
    db: str | None = None,
    out: str | None = None,
) -> dict:
    """Ingest one file; returns the DESIGN.md §5 object (no personal data)."""
    db_file = str(config.db_path(db))
    received = dt.date.fromisoformat(received_on) if received_on else dt.date.today()
    reference = reference_task(db_file)
    chosen = series or default_series_for(reference, received)
    prepared = prepare_task(path, Context(centre=centre, series=chosen, received_on=received), reference)
    outcome = commit_task(db_file, prepared, reference, order_ref)
    outcome.reports = report_task(prepared, outcome, str(config.out_dir(out)))
    return outcome.as_json()


def default_series_for(reference: Reference, received_on: dt.date) -> str:
    """The first series still open on `received_on`, from the run's reference snapshot."""
    mem = reference.connect()
    try:
        return default_series(mem, received_on)
    finally:
        mem.close()
