"""Fee reporting as a Prefect flow: invoices for every centre with entries in a series and/or
received in a date range (new ones for entries not yet billed, and credit notes), plus one summary
for finance. The flow only orders the task; `entries.reports.invoice` does the work.

In: the series (`2027-06`) and/or the first and last received-on days (YYYY-MM-DD), the invoice date
of new documents, the store and the reports folder. Out: `write_series_invoices`' summary (counts,
totals, numbers and paths: no personal data), and a table artifact of totals by centre. The flow
run is named for what it bills: `invoices 2027-06`, `invoices 2027-01-01..2027-01-31`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from entries.core import config
from entries.core.errors import UsageError
from entries.reports.invoice import write_series_invoices
from entries.store import database
from entries.store.series import known_series
from flows.retry import busy_store


@task(
    name="invoices",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=busy_store,
)
def invoices_task(
    db: str, series: str | None, out: str, received: tuple[dt.date, dt.date] | None = None, on: dt.date | None = None
) -> dict:
    """Write every centre's invoices and credit notes and the finance summary; returns counts and paths."""
    con = database.connect(Path(db), verify=True)  # money: never from a damaged store
    try:
        if series is not None:
            known_series(con, series)  # an unknown series is refused (UsageError), never billed as none
        return write_series_invoices(con, series, Path(out), received, on=on)
    finally:
        con.close()


def _days(received_from: str | None, received_to: str | None) -> str | None:
    return f"{received_from}..{received_to}" if received_from or received_to else None


def invoices_name() -> str:
    """The flow run's name: `invoices` and the series and/or the date range it bills."""
    parameters = flow_run.parameters
    what = [parameters.get("series"), _days(parameters.get("received_from"), parameters.get("received_to"))]
    return " ".join(["invoices", *(w for w in what if w)])


@flow(name="invoicing", flow_run_name=invoices_name, persist_result=False)
def invoicing_flow(
    series: str | None = None,
    db: str | None = None,
    out: str | None = None,
    received_from: str | None = None,
    received_to: str | None = None,
    on: str | None = None,
) -> dict:
    """Invoice orders for `series` and/or the submissions received from `received_from` to
    `received_to` (both, or neither), new documents dated `on` (default today); publishes a table
    artifact of totals by centre (no personal data)."""
    if (received_from is None) != (received_to is None):
        raise UsageError("give both received_from and received_to, or neither")
    received = (
        (dt.date.fromisoformat(received_from), dt.date.fromisoformat(received_to))
        if received_from and received_to
        else None
    )
    day = dt.date.fromisoformat(on) if on else None
    done = invoices_task(str(config.db_path(db)), series, str(config.out_dir(out)), received, day)
    what = " and ".join(w for w in (f"series {series}" if series else None, _days(received_from, received_to)) if w)
    create_table_artifact(
        key=f"invoices-{series or 'received'}",
        table=[
            {
                "centre": c["centre"],
                "invoices": ", ".join(c["invoices"]),
                "credit notes": ", ".join(c["credit_notes"]),
                "orders": c["orders"],
                "entries": c["entries"],
                "total_pence": c["total_pence"],
                "net_pence": c["net_pence"],
            }
            for c in done["centres"]
        ],
        description=f"Invoice orders for {what}: total {done['total_pence']} pence, net {done['net_pence']} pence",
    )
    return done
