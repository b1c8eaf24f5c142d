"""The nightly import's schedule: a cron in a time zone, served by Prefect (`entries serve`)."""

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


def serve_nightly(inbox: str, db: str, out: str, cron: str = DEFAULT_CRON, timezone: str = DEFAULT_TIMEZONE) -> None:
    """Serve the nightly deployment until interrupted (`entries serve`)."""
    from prefect import serve

    serve(nightly_deployment(inbox, db, out, cron, timezone))
