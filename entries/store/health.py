"""Is the store a DuckDB store, and does every block of it read? Told apart from "in use".

DuckDB reports a damaged file and a file another process holds with the same exception type
(IOException), so the store tells them apart here: by the file's header before opening, by the lock
message when opening fails, and, where money or the last good copy depends on it, by reading every
column of every table (DuckDB checks each block's checksum as it reads it).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from entries.core.errors import StoreDamaged
from entries.core.faults import damage_text

# A DuckDB file starts with its first block's 8-byte checksum and then the magic bytes.
_MAGIC_OFFSET = 8
_MAGIC = b"DUCK"
# DuckDB's words for a file another process holds: every other failure to open is damage.
_LOCKED = "Could not set lock on file"


def restore_advice(path: Path) -> str:
    """What the operator does about a damaged or missing store at `path`."""
    return f"run 'entries restore --force --db {path}' to put back the last good copy taken before a night"


def damaged(path: Path, what: str) -> StoreDamaged:
    """The error for the store at `path`, `what` saying how it is damaged."""
    return StoreDamaged(f"the store {path} is damaged ({what}); {restore_advice(path)}")


def is_locked(exc: BaseException) -> bool:
    """True when `exc` (from opening a store) says another process holds the file."""
    return _LOCKED in str(exc)


def check_header(path: Path) -> None:
    """Raise StoreDamaged unless the file at `path` (which exists) starts as a DuckDB store does."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    except IsADirectoryError:
        raise damaged(path, "it is a folder, not a file") from None
    if len(head) < _MAGIC_OFFSET + len(_MAGIC):
        raise damaged(path, f"it is only {path.stat().st_size} bytes long")
    if head[_MAGIC_OFFSET:] != _MAGIC:
        raise damaged(path, "it does not start as a DuckDB database file")


def read_everything(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read every column of every table through `con` (the store at `path`): any block that fails
    its checksum or lies past the file's end raises StoreDamaged. One query a table: set-based."""
    tables = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY table_name"
        ).fetchall()
    ]
    try:
        for table in tables:
            # max(hash(...)) of each column reads each column's every block; count(*) alone may not.
            con.execute(f'SELECT count(*), max(hash(COLUMNS(*))) FROM "{table}"').fetchall()
    except duckdb.Error as exc:
        raise damaged(path, damage_text(exc) or f"table {table} cannot be read") from None


def verify_file(path: Path) -> None:
    """Raise StoreDamaged unless the file at `path` is a whole, readable DuckDB store (opened
    read-only: used on copies no other process has open)."""
    if not path.is_file():
        raise damaged(path, "it is missing")
    check_header(path)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise damaged(path, damage_text(exc) or "it cannot be opened") from None
    try:
        read_everything(con, path)
    finally:
        con.close()
