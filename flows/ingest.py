"""Prefect flow for one upload: the hall's prepare (pure), then its finish (the one writer: commit,
confirmation, report).

The flow only orders the tasks and sets retries; the work is in `entries.pipeline.hall`. Task results hold
candidates' rows, so they are never persisted and never cached; the flow returns only the
non-personal outcome object (docs/architecture.md §5).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from entries.checks.reference import Reference
from entries.checks.upload import Outcome
from entries.checks.validate import Context
from entries.core import clock, config
from entries.pipeline import hall
from entries.store import database, refdata
from entries.store.spool import load_spooled, spool, spool_dir, temp_dir, unspool
from flows.retry import busy_store


@task(
    name="reference",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=busy_store,
)
def reference_task(db: str) -> Reference:
    """The reference tables, read once for the run (loaded first if the store has none)."""
    con = database.connect(Path(db))
    try:
        return refdata.snapshot(con)
    finally:
        con.close()


@task(name="prepare", task_run_name="prepare {context.centre}", persist_result=False, cache_policy=NO_CACHE)
def prepare_task(path: str, context: Context, reference: Reference, folder: str) -> str:
    """Read and check one file (no database writes); returns where its rows were spooled."""
    prepared = hall.prepare(Path(path), context, reference, work_dir=temp_dir(Path(folder)))
    return str(spool(prepared, Path(folder), prepared.sha256[:16]))


@task(
    name="commit",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    # Only a busy database file is worth another try; a bad file stays bad.
    retry_condition_fn=busy_store,
)
def commit_task(db: str, spooled: str, reference: Reference, order_ref: str | None, out: str) -> Outcome:
    """Record the upload in the store in one transaction, then its reports (the hall's finish)."""
    con = database.connect(Path(db))
    try:
        return hall.finish(con, load_spooled(Path(spooled)), reference, order_ref=order_ref, out_dir=Path(out))
    finally:
        con.close()


def artifact_rows(outcome: dict) -> list[dict]:
    """A submission's counts as table rows for a Prefect artifact: statuses and kinds, no personal data."""
    rows = [{"measure": "status", "value": outcome["status"]}]
    rows += [{"measure": name, "value": outcome[name]} for name in ("rows", "accepted", "rejected", "held")]
    rows += [{"measure": f"entries: {kind}", "value": n} for kind, n in outcome["entries"].items()]
    rows.append({"measure": "fees (pence)", "value": outcome["fees_pence"]})
    rows.append({"measure": "errors", "value": sum(1 for i in outcome["issues"] if i["severity"] == "error")})
    rows.append({"measure": "warnings", "value": sum(1 for i in outcome["issues"] if i["severity"] == "warning")})
    return rows


@task(
    name="publish",
    task_run_name="publish {outcome[centre]}/{outcome[file]}",
    persist_result=False,
    cache_policy=NO_CACHE,
)
def publish_task(outcome: dict) -> None:
    """Publish the submission's counts as a Prefect table artifact (visible in the UI)."""
    publish(outcome)


def publish(outcome: dict) -> None:
    """The submission's counts as a table artifact, from the flow itself (no task run of its own)."""
    create_table_artifact(
        key=f"submission-{outcome['centre']}-{outcome['sha256'][:12]}",
        table=artifact_rows(outcome),
        description=f"Centre {outcome['centre']}, file {outcome['file']}: {outcome['status']}",
    )


def ingest_name() -> str:
    """The flow run's name: `ingest <centre>/<file name>` (the centre's own file name, no path)."""
    parameters = flow_run.parameters
    return f"ingest {parameters.get('centre')}/{Path(str(parameters.get('path'))).name}"


@flow(name="ingest-file", flow_run_name=ingest_name, persist_result=False)
def ingest_flow(
    path: str,
    centre: str,
    series: str | None = None,
    order_ref: str | None = None,
    received_on: str | None = None,
    db: str | None = None,
    out: str | None = None,
) -> dict:
    """Ingest one file; returns the docs/architecture.md §5 object (no personal data)."""
    db_file = str(config.db_path(db))
    received = dt.date.fromisoformat(received_on) if received_on else clock.today()
    reference = reference_task(db_file)
    context: Context = hall.context_for(reference, centre, received, series)
    spooled = prepare_task(path, context, reference, str(spool_dir(Path(db_file))))
    outcome = commit_task(db_file, spooled, reference, order_ref, str(config.out_dir(out)))
    unspool(Path(spooled))  # the rows are stored or refused: they need not wait any longer
    summary = outcome.as_json()
    publish_task(summary)
    return summary
