"""Is the store a DuckDB store, and does every block of it read? Told apart from "in use".

DuckDB reports a damaged file and a file another process holds with the same exception type
(IOException), so the store tells them apart here: by the lock message when opening fails, and,
where money or the last good copy depends on it, by reading every column of every table (DuckDB
checks each block's checksum as it reads it) and every block's checksum in the file.

A process that has the store open never opens its file any other way: DuckDB's lock is a POSIX
record lock, which the kernel drops when the process closes ANY descriptor of that file, and
another process could then open the store beside it. So the file is read, and copied, by a child
process (`python -m entries.store.health`), whose descriptors are its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np

from entries.core.errors import StoreDamaged
from entries.core.faults import damage_text

# DuckDB's file layout (storage version 64+): three 4 KiB headers, then blocks of the database's
# block size; every header and block starts with the 8-byte checksum of the rest of it.
_HEADERS, _HEADER_SIZE = 3, 4096
_CHECKSUM_SEED, _CHECKSUM_PRIME = np.uint64(5381), np.uint64(0xBF58476D1CE4E5B9)
_CHUNK_BLOCKS = 64  # blocks checked at a time: a bounded read however large the store
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
    """Read every column of every table through `con` (the store at `path`), then check every
    block's checksum in the file: any damage raises StoreDamaged. One query a table: set-based."""
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
        size, blocks = block_layout(con)
    except duckdb.Error as exc:
        raise damaged(path, damage_text(exc) or f"table {table} cannot be read") from None
    _in_child(["blocks", str(path), str(size), str(blocks)], path)


def _bad_blocks(chunk: np.ndarray, size: int) -> np.ndarray:
    """Indexes of the blocks of `size` bytes in `chunk` whose stored checksum is not DuckDB's of
    the rest of the block (its `Checksum`: each 8-byte word times a prime, xor-ed from 5381).
    An all-zero block was never written (the file grown ahead of a checkpoint a kill stopped)."""
    blocks = chunk.reshape(-1, size)
    words = blocks[:, 8:].view(np.uint64)
    with np.errstate(over="ignore"):
        computed = np.bitwise_xor.reduce(words * _CHECKSUM_PRIME, axis=1) ^ _CHECKSUM_SEED
    stored = blocks[:, :8].view(np.uint64)[:, 0]
    written = blocks.any(axis=1)
    return np.flatnonzero((computed != stored) & written)


def check_blocks(path: Path, block_size: int, blocks: int) -> None:
    """Raise StoreDamaged unless each of the first `blocks` blocks (the store's own count, used and
    free, as far as the file holds them) of the store file at `path` carries its own checksum, blocks of `block_size` bytes. Free
    blocks keep the checksum they were written with, so this finds damage no table scan reads
    (indexes, metadata). Bytes past those blocks are a write the disk refused (full, say), which
    the store never used: not damage."""
    # Blocks the store counts past the file's end are in memory only (its log replayed, not yet
    # checkpointed); a truncated file fails DuckDB's own reads of the tables.
    blocks = min(blocks, max(0, (path.stat().st_size - _HEADERS * _HEADER_SIZE) // block_size))
    with path.open("rb") as handle:
        headers = np.frombuffer(handle.read(_HEADERS * _HEADER_SIZE), dtype=np.uint8)
        if _bad_blocks(headers[:_HEADER_SIZE], _HEADER_SIZE).size:
            raise damaged(path, "its main header fails its checksum")
        first = 0
        while first < blocks:
            chunk = handle.read(block_size * min(_CHUNK_BLOCKS, blocks - first))
            bad = _bad_blocks(np.frombuffer(chunk, dtype=np.uint8), block_size)
            if bad.size:
                raise damaged(path, f"block {first + int(bad[0])} fails its checksum")
            first += len(chunk) // block_size


def block_layout(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """The block size and the number of blocks (used and free) of the store `con` has open."""
    size, total = con.execute("SELECT block_size, total_blocks FROM pragma_database_size()").fetchall()[0]
    return int(size), int(total)


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


def copy_apart(source: Path, target: Path) -> None:
    """Copy the store file `source` to `target` (synced) in a child process: this process may hold
    the store open, and its own read of the file would drop DuckDB's lock (see the module's note)."""
    _in_child(["copy", str(source), str(target)], source)


def _in_child(argv: list[str], path: Path) -> None:
    """Run this module's `argv` in a child process; its refusal becomes StoreDamaged for `path`,
    a fault of the machine (a full disk, say) an OSError naming it."""
    done = subprocess.run(
        [sys.executable, "-m", "entries.store.health", *argv], capture_output=True, text=True, timeout=3600
    )
    if done.returncode == _DAMAGED:
        raise damaged(path, done.stdout.strip() or "it cannot be read")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise OSError(f"checking the store {path} failed: {lines[-1] if lines else done.returncode}")


_DAMAGED = 3


def _child(argv: list[str]) -> int:
    """The child's work: `blocks PATH SIZE COUNT` or `copy SOURCE TARGET`; exit 3 with the reason
    on stdout when the store is damaged."""
    try:
        if argv[0] == "blocks":
            check_blocks(Path(argv[1]), int(argv[2]), int(argv[3]))
        elif argv[0] == "copy":
            shutil.copyfile(argv[1], argv[2])
            with open(argv[2], "rb") as handle:
                os.fsync(handle.fileno())
        else:
            return 2
    except StoreDamaged as exc:
        print(str(exc).split(" is damaged (", 1)[-1].split("); run", 1)[0])
        return _DAMAGED
    except OSError as exc:
        print(f"{type(exc).__name__}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
