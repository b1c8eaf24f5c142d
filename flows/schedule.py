"""The deployments `entries serve` serves: the nightly import on a cron in a time zone, and
invoicing and onboarding, run on demand from the Prefect UI (or `prefect deployment run`).

In: the inbox, the store and the reports folder (absolute paths: the served runs start in other
processes), the cron and its time zone. Out: deployments built, not started; `serve_all` serves
them until interrupted. Prefect is imported only when one is built (the CLI imports the constants).
"""

from __future__ import annotations

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Europe/London"


def nightly_deployment(inbox: str, db: str, out: str, cron: str = DEFAULT_CRON, timezone: str = DEFAULT_TIMEZONE):
    """The Prefect deployment of the nightly flow on its schedule (built, not started)."""
    from prefect.schedules import Cron

    from flows.nightly import nightly_flow

    return nightly_flow.to_deployment(
        name="nightly-import",
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"inbox": inbox, "db": db, "out": out},
        description="Import every centre's uploads from the inbox, once a night.",
        tags=["entries", "nightly"],
    )


def invoicing_deployment(db: str, out: str):
    """The invoicing flow as a deployment without a schedule: run it for a series (`series`) and/or
    a date range (`received_from`, `received_to`), new documents dated `on` (default today)."""
    from flows.invoicing import invoicing_flow

    return invoicing_flow.to_deployment(
        name="invoices",
        parameters={"db": db, "out": out},
        description="Invoices and credit notes for every centre with entries in a series, and the finance "
        "summary. Give series (e.g. 2027-06) and/or received_from and received_to (YYYY-MM-DD).",
        tags=["entries", "invoicing"],
    )


def onboarding_deployment(db: str, out: str):
    """The onboarding flow as a deployment without a schedule: run it with `path`, a workbook (or a
    folder of workbooks) the serving machine can read, and `received_on` (default today)."""
    from flows.onboarding import onboarding_flow

    return onboarding_flow.to_deployment(
        name="onboard",
        parameters={"db": db, "out": out},
        description="Bulk onboarding of centres, approvals and candidates from a workbook. Give path (on the "
        "serving machine).",
        tags=["entries", "onboarding"],
    )


def deployments(inbox: str, db: str, out: str, cron: str = DEFAULT_CRON, timezone: str = DEFAULT_TIMEZONE) -> list:
    """Every deployment `entries serve` serves, on one store and one reports folder."""
    return [
        nightly_deployment(inbox, db, out, cron, timezone),
        invoicing_deployment(db, out),
        onboarding_deployment(db, out),
    ]


def serve_all(inbox: str, db: str, out: str, cron: str = DEFAULT_CRON, timezone: str = DEFAULT_TIMEZONE) -> None:
    """Serve the nightly deployment on its schedule, and invoicing and onboarding on demand, until
    interrupted (`entries serve`)."""
    from prefect import serve

    serve(*deployments(inbox, db, out, cron, timezone))
