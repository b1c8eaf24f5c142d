"""An unexpected failure as one line for the operator and a log entry without personal data.

Exception messages may quote a cell (a parser's or pandas' message often does), so neither the line
nor the log carries one: the line names the exception's type and what was being done; the log adds
where in the code it happened (file, line, function), which holds nothing from the data.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from entries.core import clock, config

LOG_NAME = "entries-errors.log"


# Where this process's crash entries go when a caller names no folder: set once when a process
# starts (`configure`: the command line, a nightly worker's initializer), or for a run's duration
# (`logging_to`). A plain module setting, read by `record`: nothing is written to os.environ, whose
# changes every thread (and every child started meanwhile) would see.
_configured: Path | None = None
_lock = threading.Lock()


def configure(folder: Path | None) -> None:
    """Send this process's crash entries to `folder` from now on (None: the default again).
    Call it where a process starts, before its threads do: a worker's initializer, a command."""
    global _configured
    with _lock:
        _configured = None if folder is None else Path(folder)


def configured() -> Path | None:
    """The folder `configure` (or an open `logging_to`) set for this process, if any: what a
    process hands to the workers it starts, so their entries go to the same place."""
    return _configured


def log_dir(db: str | None = None) -> Path:
    """Where crash entries go: the folder configured for this process, else `ENTRIES_LOG_DIR` (read,
    never written), else `logs/` beside the store (`db`, else the configured store)."""
    return _configured or Path(os.environ.get("ENTRIES_LOG_DIR") or config.db_path(db).parent / "logs")


@contextmanager
def logging_to(folder: Path) -> Iterator[Path]:
    """Within the block, crash entries of this process go to `folder` (a run's own log folder); the
    previous setting is back afterwards. It changes this module's setting only, never os.environ;
    worker processes get the folder explicitly (`configured()` passed to their `configure`)."""
    global _configured
    with _lock:
        before, _configured = _configured, Path(folder)
    try:
        yield Path(folder)
    finally:
        with _lock:
            _configured = before


def where(exc: BaseException) -> list[str]:
    """The code locations of `exc`'s traceback, innermost last: `file:line in function` only."""
    return [
        f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    ]


def record(exc: BaseException, doing: str, folder: Path | None = None) -> Path | None:
    """Append one entry for `exc` to the crash log in `folder` (default: `log_dir()`); returns the
    log's path (None if it cannot be written)."""
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
