"""Where things live: the database, the reports folder and the bundled reference data.

Command-line options win over environment variables, which win over the defaults of docs/architecture.md §5.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DB = Path("data/entries.duckdb")
DEFAULT_OUT = Path("data/out")


def reference_dir() -> Path:
    """The reference data folder: `ENTRIES_REFERENCE_DIR` or the project's `reference_data/`."""
    return Path(os.environ.get("ENTRIES_REFERENCE_DIR", PROJECT_ROOT / "reference_data"))


def db_path(option: str | None = None) -> Path:
    """The DuckDB file from `--db`, else `ENTRIES_DB`, else `data/entries.duckdb`."""
    return Path(option or os.environ.get("ENTRIES_DB") or DEFAULT_DB)


def store_wait_seconds() -> float:
    """How long a command waits for a store another process holds: `ENTRIES_STORE_WAIT` (seconds)."""
    return float(os.environ.get("ENTRIES_STORE_WAIT") or 120)


def out_dir(option: str | None = None) -> Path:
    """The reports folder from `--out`, else `ENTRIES_OUT`, else `data/out`."""
    return Path(option or os.environ.get("ENTRIES_OUT") or DEFAULT_OUT)
