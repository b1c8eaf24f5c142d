"""Shared writers for the reports sent to centres: xlsx, CSV and HTML, safe and deterministic.

Every report file is written under a temporary name beside its target and moved into place with
`os.replace`, so a reader (or a crash) never leaves half a file at the final path. Nothing here reads
the wall clock: workbooks carry the project's fixed created/modified time (`entries.template`).

Output security (HOSTILE_INPUTS.md, Output security and §E):
- xlsx: every text cell is a string cell (`data_type = "s"`), never a formula, and is made to read
  back unchanged (`entries.annotate`'s text-safety pass: XML-illegal characters replaced, literal
  `_xHHHH_` escaped).
- CSV: RFC 4180 quoting, UTF-8 with BOM, CRLF; a text cell starting with `= + - @ \\t \\r \\0` gets a
  leading apostrophe; numbers are written as numbers and never escaped.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl.cell.cell import Cell
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from entries.reports.annotate import CSV_FORMULA_STARTS, _csv_text, _make_text_safe
from entries.reports.template import FIXED_TIME, _save_atomically

__all__ = [
    "CSV_FORMULA_STARTS",
    "FIXED_TIME",
    "MONEY_FORMAT",
    "csv_safe",
    "pounds",
    "pounds_text",
    "put",
    "safe_file_part",
    "write_csv_atomically",
    "write_text_atomically",
    "write_xlsx_atomically",
]

# Excel's currency format for pounds: £1,234.50 (a number cell, so centres can add it up).
MONEY_FORMAT = '"£"#,##0.00'


def csv_safe(value: object) -> str:
    """A text cell for a CSV: apostrophe-prefixed when a spreadsheet would read it as a formula."""
    return _csv_text(value)


def pounds(pence: int) -> float:
    """Integer pence as pounds for a number cell (exactly the nearest float to pence / 100)."""
    return int(pence) / 100


def pounds_text(pence: int) -> str:
    """Integer pence as people read it: `£1,234.50` (`-£1.20` if ever negative)."""
    pence = int(pence)
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def safe_file_part(text: str, limit: int = 60) -> str:
    """`text` as part of a file name: letters, digits, `-` and `_` kept, anything else `_`."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:limit]


def put(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write `value` into the cell: text as a string cell (never a formula), anything else as is."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        # Set _value directly: openpyxl's value setter turns a leading '=' into a formula.
        cell._value = value
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def write_xlsx_atomically(workbook: Workbook, path: Path) -> Path:
    """Make every text cell safe, fix the document dates, and save `workbook` atomically to `path`."""
    path = Path(path)
    _make_text_safe(workbook)
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    _save_atomically(workbook, path)
    return path


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def write_csv_atomically(rows: Iterable[Sequence[object]], header: Sequence[str] | None, path: Path) -> Path:
    """Write `header` (if any) and `rows` as CSV at `path` (UTF-8 with BOM, CRLF, RFC 4180).

    Text cells are escaped with `csv_safe`; ints and floats are written as numbers, None as an
    empty cell, booleans as `Yes`/`No`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        # utf-8-sig: the BOM tells Excel the file is UTF-8, so Zoë opens correctly.
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            if header is not None:
                writer.writerow([csv_safe(h) for h in header])
            for row in rows:
                writer.writerow([_csv_cell(v) for v in row])
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        return value  # a real number: never escaped, so a negative stays a number
    return csv_safe(value)


def write_text_atomically(text: str, path: Path) -> Path:
    """Write `text` as UTF-8 (LF line ends) at `path` through a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
