"""An unexpected failure as one line for the operator and a log entry without personal data.

Exception messages may quote a cell (a parser's or pandas' message often does), so neither the line
nor the log carries one: the line names the exception's type and what was being done; the log adds
where in the code it happened (file, line, function), which holds nothing from the data.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from entries.core import clock, config

LOG_NAME = "entries-errors.log"


def log_dir(db: str | None = None) -> Path:
    """Where crash entries go: `ENTRIES_LOG_DIR`, else `logs/` beside the store."""
    return Path(os.environ.get("ENTRIES_LOG_DIR") or config.db_path(db).parent / "logs")


@contextmanager
def logging_to(folder: Path) -> Iterator[None]:
    """Within the block, crash entries of this process go to `folder` (a run's own log folder)."""
    before = os.environ.get("ENTRIES_LOG_DIR")
    os.environ["ENTRIES_LOG_DIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("ENTRIES_LOG_DIR", None)
        else:
            os.environ["ENTRIES_LOG_DIR"] = before


def where(exc: BaseException) -> list[str]:
    """The code locations of `exc`'s traceback, innermost last: `file:line in function` only."""
    return [
        f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    ]


def record(exc: BaseException, doing: str, folder: Path | None = None) -> Path | None:
    """Append one entry for `exc` to the crash log; returns the log's path (None if it cannot be written)."""
    folder = folder or log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{clock.now().isoformat(timespec='seconds')}Z {doing}: {type(exc).__name__}\n")
            for place in where(exc):
                fh.write(f"    {place}\n")
        return path
    except OSError:
        return None


def one_line(exc: BaseException, doing: str, log: Path | None) -> str:
    """What the operator reads: what failed, the kind of failure, and where the detail is."""
    tail = f"; details (no personal data) in {log}" if log else ""
    return f"{doing} failed unexpectedly ({type(exc).__name__}){tail}"
