"""When a failed task is worth another try: only when the database file was busy."""

from __future__ import annotations

import duckdb

from entries.core.errors import StoreBusy


def busy_store(_task, _run, state) -> bool:
    """Prefect retry condition: the task failed because another process held the DuckDB file."""
    return isinstance(state.result(raise_on_failure=False), (StoreBusy, duckdb.IOException))
