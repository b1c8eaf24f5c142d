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

from entries import config
from entries.ingest import Outcome, Prepared, commit_to_store, prepare


@task(name="prepare", persist_result=False, cache_policy=NO_CACHE)
def prepare_task(path: str) -> Prepared:
    """Read and check one file (no database writes)."""
    return prepare(Path(path))


@task(
    name="commit",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    # Only a busy database file is worth another try; a bad file stays bad.
    retry_condition_fn=lambda _task, _run, state: isinstance(state.result(raise_on_failure=False), duckdb.IOException),
)
def commit_task(db: str, prepared: Prepared, centre: str, series: str | None, order_ref: str | None, received_on: str) -> Outcome:
    """Record the upload in the store in one transaction."""
    return commit_to_store(
        Path(db), prepared, centre=centre, series=series, order_ref=order_ref, received_on=dt.date.fromisoformat(received_on)
    )


@flow(name="ingest-file", persist_result=False)
def ingest_flow(
    path: str,
    centre: str,
    series: str | None = None,
    order_ref: str | None = None,
    received_on: str | None = None,
    db: str | None = None,
) -> dict:
    """Ingest one file; returns the DESIGN.md §5 object (no personal data)."""
    received = received_on or dt.date.today().isoformat()
    prepared = prepare_task(path)
    outcome = commit_task(str(config.db_path(db)), prepared, centre, series, order_ref, received)
    return outcome.as_json()
