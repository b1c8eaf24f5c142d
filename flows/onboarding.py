"""Prefect flow for a bulk centre onboarding: one task, which calls `entries.onboard.onboard_file`.

The work (reading, checking, the one transaction, the report) is in `entries.onboard`. The task's
result holds candidates' rows only in memory, so it is never persisted and never cached; the flow
returns only the non-personal summary (`OnboardResult.as_json()`: counts, groups, issue codes and
places, report paths).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from entries.core import clock, config
from entries.pipeline.onboard import OnboardResult, onboard_file
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


@flow(name="onboard-centres", persist_result=False)
def onboarding_flow(path: str, db: str | None = None, out: str | None = None, received_on: str | None = None) -> dict:
    """Onboard the workbook or folder at `path`; returns the summary (no personal data)."""
    received = dt.date.fromisoformat(received_on) if received_on else clock.today()
    result = onboard_task(str(config.db_path(db)), path, str(config.out_dir(out)), received)
    return result.as_json()
