"""Prefect flow for a bulk centre onboarding: one task, which calls `entries.pipeline.onboard.onboard_file`.

The work (reading, checking, the one transaction, the report) is in `entries.pipeline.onboard`. The
task's result holds candidates' rows only in memory, so it is never persisted and never cached; the
flow returns only the non-personal summary (`OnboardResult.as_json()`: counts, groups, issue codes
and places, report paths). The flow run is named for the file: `onboard <file name>`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from entries.checks.onboarding import OnboardResult
from entries.core import clock, config
from entries.pipeline.onboard import onboard_file
from flows.retry import busy_store


@task(
    name="onboard",
    persist_result=False,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=busy_store,
)
def onboard_task(db: str, path: str, out: str, received_on: dt.date) -> OnboardResult:
    """Check the onboarding and, when it has no error, store it in one transaction; write the report."""
    return onboard_file(Path(db), Path(path), Path(out), received_on)


def onboard_name() -> str:
    """The flow run's name: `onboard` and the workbook's (or folder's) own name, no path."""
    return f"onboard {Path(str(flow_run.parameters.get('path'))).name}"


@flow(name="onboard-centres", flow_run_name=onboard_name, persist_result=False)
def onboarding_flow(path: str, db: str | None = None, out: str | None = None, received_on: str | None = None) -> dict:
    """Onboard the workbook or folder at `path`; returns the summary (no personal data)."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    received = dt.date.fromisoformat(received_on) if received_on else clock.today()
    result = onboard_task(str(config.db_path(db)), path, str(config.out_dir(out)), received)
    return result.as_json()
