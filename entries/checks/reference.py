"""The reference tables as the checks see them: an in-memory snapshot, free of the store."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Reference:
    """An in-memory copy of the loaded reference tables (picklable, so prepare can run anywhere)."""

    version_id: int
    tables: dict[str, pd.DataFrame]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A private in-memory DuckDB with every table registered as `ref_<name>`."""
        mem = duckdb.connect()
        for name, frame in self.tables.items():
            mem.register(f"ref_{name}", frame)
        return mem
