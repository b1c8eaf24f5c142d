"""Fee reporting as a Prefect flow: invoices for every centre with entries in a series (new ones for
entries not yet billed), plus one summary for finance. The flow only orders the task;
`entries.reports.invoice` does the work."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from entries.core import config
from entries.reports.invoice import write_series_invoices
from entries.store import database
from flows.retry import busy_store


@task(
    name="invoices",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=busy_store,
)
def invoices_task(db: str, series: str, out: str) -> dict:
    """Write every centre's invoices for `series` and the finance summary; returns counts and paths."""
    con = database.connect(Path(db))
    try:
        return write_series_invoices(con, series, Path(out))
    finally:
        con.close()


@flow(name="invoicing", persist_result=False)
def invoicing_flow(series: str, db: str | None = None, out: str | None = None) -> dict:
    """Invoice orders for `series`; publishes a table artifact of totals by centre (no personal data)."""
    done = invoices_task(str(config.db_path(db)), series, str(config.out_dir(out)))
    create_table_artifact(
        key=f"invoices-{series}",
        table=[
            {
                "centre": c["centre"],
                "invoices": ", ".join(c["invoices"]),
                "orders": c["orders"],
                "entries": c["entries"],
                "total_pence": c["total_pence"],
            }
            for c in done["centres"]
        ],
        description=f"Invoice orders for series {series}: total {done['total_pence']} pence",
    )
    return done
