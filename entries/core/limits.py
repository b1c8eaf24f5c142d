"""Limits on what an upload may cost to read, checked before and during parsing.

Each limit has a default sized for the largest real centre file with a wide margin, and an
environment variable to change it (documented in the README).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"{name} must be positive, got {number}")
    return number


@dataclass(frozen=True)
class ReadLimits:
    """What one upload may cost: bytes on disk, inflated bytes, rows, columns, merged cells, cell
    formats, memory and time. Rows and columns apply to CSV files too."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_inflated_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: int = 200  # per zip member over 1 MiB; real sheets compress 5-30x
    max_rows: int = 200_000
    max_columns: int = 64
    # Every sheet of a workbook, not only the one read: the report step re-opens the whole workbook.
    max_merged_cells: int = 200_000  # cells covered by merged ranges, all sheets together
    max_cell_styles: int = 64_000  # <xf> cell formats in the styles part (Excel's own limit is 64,000)
    max_styles_bytes: int = 16 * 1024 * 1024  # the styles part, inflated
    child_memory_bytes: int = 3 * 1024 * 1024 * 1024
    child_seconds: float = 120.0

    @classmethod
    def from_env(cls) -> ReadLimits:
        """Defaults overridden by ENTRIES_MAX_FILE_BYTES, ENTRIES_MAX_INFLATED_BYTES,
        ENTRIES_MAX_COMPRESSION_RATIO, ENTRIES_MAX_ROWS, ENTRIES_MAX_COLUMNS,
        ENTRIES_MAX_MERGED_CELLS, ENTRIES_MAX_CELL_STYLES, ENTRIES_MAX_STYLES_BYTES,
        ENTRIES_READ_MEMORY_BYTES and ENTRIES_READ_SECONDS."""
        d = cls()
        return cls(
            max_file_bytes=_env_int("ENTRIES_MAX_FILE_BYTES", d.max_file_bytes),
            max_inflated_bytes=_env_int("ENTRIES_MAX_INFLATED_BYTES", d.max_inflated_bytes),
            max_compression_ratio=_env_int("ENTRIES_MAX_COMPRESSION_RATIO", d.max_compression_ratio),
            max_rows=_env_int("ENTRIES_MAX_ROWS", d.max_rows),
            max_columns=_env_int("ENTRIES_MAX_COLUMNS", d.max_columns),
            max_merged_cells=_env_int("ENTRIES_MAX_MERGED_CELLS", d.max_merged_cells),
            max_cell_styles=_env_int("ENTRIES_MAX_CELL_STYLES", d.max_cell_styles),
            max_styles_bytes=_env_int("ENTRIES_MAX_STYLES_BYTES", d.max_styles_bytes),
            child_memory_bytes=_env_int("ENTRIES_READ_MEMORY_BYTES", d.child_memory_bytes),
            child_seconds=float(_env_int("ENTRIES_READ_SECONDS", int(d.child_seconds))),
        )

    def as_dict(self) -> dict[str, float]:
        """Plain values, for passing to the reader's child process."""
        return asdict(self)
