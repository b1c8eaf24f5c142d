"""The reference tables as the checks see them: an in-memory snapshot, free of the store."""

from __future__ import annotations

import threading
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

    def session(self) -> duckdb.DuckDBPyConnection:
        """This thread's in-memory DuckDB over these tables, made once and kept: opening one costs
        about 25 ms, twice a file. Callers may register their own frames but must not close it."""
        cached = getattr(_SESSIONS, "current", None)
        if cached is not None and cached[0] is self:
            return cached[1]
        if cached is not None:
            cached[1].close()
        mem = self.connect()
        _SESSIONS.current = (self, mem)
        return mem


# One session per thread (DuckDB connections are not shared between threads), for the last
# Reference that thread used.
_SESSIONS = threading.local()
