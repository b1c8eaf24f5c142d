"""When a failed task is worth another try: only when the database file was busy."""

from __future__ import annotations

from entries.core.errors import StoreBusy
from entries.store.database import StoreIOError


def busy_store(_task, _run, state) -> bool:
    """Prefect retry condition: the task failed because another process held the DuckDB file."""
    return isinstance(state.result(raise_on_failure=False), (StoreBusy, StoreIOError))
