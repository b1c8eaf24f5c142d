"""Shared writers for the reports sent to centres: xlsx, CSV and HTML, safe and deterministic.

This module is the one owner of how a report is written: cell writing, text safety, the fixed document
time and the atomic save. Every report file is written under a temporary name beside its target and
moved into place with `os.replace`, so a reader (or a crash) never leaves half a file at the final
path. Nothing here reads the wall clock: workbooks carry a fixed created/modified time (`FIXED_TIME`).

Output security (docs/hostile-inputs.md, Output security and §E):
- xlsx: every text cell is a string cell (`data_type = "s"`), never a formula, and is made to read
  back unchanged (`make_text_safe`: XML-illegal characters replaced, literal `_xHHHH_` escaped).
- CSV: RFC 4180 quoting, UTF-8 with BOM, CRLF; a text cell starting with `= + - @ \\t \\r \\0` gets a
  leading apostrophe; numbers are written as numbers and never escaped.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from entries.core.processes import alive
from entries.reports.xlsx_stream import (
    FIXED_TIME,
    MONEY_FORMAT,
    Pence,
    Sheet,
    StyledRow,
    excel_text,
    legal_text,
    pounds,
    write_workbook,
)

if TYPE_CHECKING:  # openpyxl is imported where a workbook is edited, not by every report (0.1 s)
    from _typeshed import SizedBuffer
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

# Re-exported: text safety, money and rows, as every report names them (written once, in xlsx_stream).
__all__ = ["FIXED_TIME", "MONEY_FORMAT", "Pence", "Sheet", "StyledRow", "excel_text", "legal_text", "pounds"]
# A CSV cell starting with one of these is a formula (or may start one) in Excel, LibreOffice or
# Google Sheets: OWASP ASVS 1.2.10 says escape it with a leading apostrophe.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def csv_safe(value: object) -> str:
    """A text cell for a CSV: apostrophe-prefixed when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def make_text_safe(wb: Workbook) -> None:
    """Every cell of every worksheet: text stays text (no formula) and survives Excel's decoding."""
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            value = cell.value
            if isinstance(value, str):
                # Set _value directly: the value setter would turn a leading '=' into a formula.
                cell._value = excel_text(value)  # type: ignore[union-attr]  # private, not in the stubs
                cell.data_type = "s"
            elif cell.data_type == "f":
                # A formula object (array or data table) that data_only loading left behind.
                cell.value = None


def pounds_text(pence: int) -> str:
    """Integer pence as people read it: `£1,234.50` (`-£1.20` if ever negative)."""
    pence = int(pence)
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def safe_file_part(text: str, limit: int = 60) -> str:
    """`text` as part of a file name: letters, digits, `-` and `_` kept, anything else `_`."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:limit]


def report_stem_of(received_on: dt.date, file_name: str, sha256: str) -> str:
    """Every report of one upload is named `<received on>_<file stem>_<sha8>`: the same upload gives
    the same name, two uploads never share one."""
    return f"{received_on.isoformat()}_{safe_file_part(Path(file_name).stem)}_{sha256[:8]}"


def set_aside_reports(out_dir: Path, uploads: Iterable[dict], folder: str) -> list[Path]:
    """Move every report of `uploads` (dicts with centre, received_on, file_name, sha256) from
    `out_dir/<centre>/` to `out_dir/<folder>/<centre>/`; returns where they went."""
    moved = []
    for upload in uploads:
        stem = report_stem_of(upload["received_on"], upload["file_name"], upload["sha256"])
        source = Path(out_dir) / safe_file_part(str(upload["centre"]))
        if not source.is_dir():
            continue
        for report in sorted(source.glob(f"{stem}.*")):
            target = Path(out_dir) / folder / source.name / report.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(report, target)
            moved.append(target)
    return moved


def write_xlsx_streamed(
    path: Path,
    sheet: str,
    rows: Iterable[StyledRow],
    widths: Sequence[float] = (),
    *,
    freeze_header: bool = False,
    reference: str = "",
) -> Path:
    """Write a new one-sheet workbook row by row (entries.reports.xlsx_stream), atomically.

    For reports built from the store (confirmations, invoices, history, the finance summary):
    constant memory, one string per row. Text is always a string cell (never a formula) that reads
    back unchanged; `Pence` becomes pounds in Excel's currency format, a date a date cell; the
    document time is fixed: same rows, same bytes. `freeze_header` keeps the first row in view;
    `reference` (an invoice or claim number) is printed in every page's footer.
    """
    return write_workbook_streamed(path, [Sheet(sheet, rows, widths, freeze_header, reference)])


def write_workbook_streamed(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write a new workbook of several sheets (entries.reports.xlsx_stream), atomically."""
    with _atomically(Path(path)) as tmp:
        write_workbook(tmp, sheets)
    return Path(path)


def active_sheet(wb: Workbook) -> Worksheet:
    """The workbook's active worksheet (a new workbook's only sheet); a chart sheet is refused."""
    from openpyxl.worksheet.worksheet import Worksheet

    ws = wb.active
    if not isinstance(ws, Worksheet):
        raise TypeError("the active sheet is not a worksheet")
    return ws


def put(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write `value` into the cell: text as a string cell (never a formula), anything else as is."""
    from openpyxl.cell.cell import Cell

    cell = ws.cell(row=row, column=column)
    if not isinstance(cell, Cell):
        raise ValueError(f"cell {row},{column} is part of a merged range")
    if isinstance(value, str):
        # Set _value directly: openpyxl's value setter turns a leading '=' into a formula.
        cell._value = value  # type: ignore[attr-defined]  # private, not in the stubs
        cell.data_type = "s"
    else:
        cell.value = value  # type: ignore[assignment]  # numbers, dates, None: what a report holds
    return cell


class FixedTimeZip(ZipFile):
    """A zip archive whose every member carries FIXED_TIME, not the wall clock (`writestr` with a
    name) or a scratch file's modification time (`write`): the same workbook gives the same bytes."""

    def writestr(
        self,
        zinfo_or_arcname: str | ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, ZipInfo):
            zinfo_or_arcname = ZipInfo(zinfo_or_arcname, date_time=FIXED_TIME.timetuple()[:6])
            zinfo_or_arcname.compress_type = compress_type or self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: str | os.PathLike[str],
        arcname: str | os.PathLike[str] | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        self.writestr(os.fspath(arcname or filename), Path(filename).read_bytes(), compress_type, compresslevel)


def write_xlsx_atomically(workbook: Workbook, path: Path) -> Path:
    """Make every text cell safe, fix the document dates, and save `workbook` atomically to `path`.

    Each worksheet's XML is written to a temporary file beside `path` (openpyxl would put it in
    the system's temporary folder), removed once it is in the archive.
    """
    from entries.reports.workbook_save import BesideReportWriter

    path = Path(path)
    make_text_safe(workbook)
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    with _atomically(path) as tmp, FixedTimeZip(tmp, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        # An ExcelWriter directly: Workbook.save stamps the wall clock into the modified date.
        BesideReportWriter(workbook, archive, scratch=lambda: _temporary(path)).save()
    return path


_TEMPORARY = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[0-9a-f]{32}\.tmp$")


def sweep_temporary(out_dir: Path) -> int:
    """Remove the half-written report files that killed writers left under `out_dir` (only names
    `_temporary` makes, and only when the process named in them is gone: a live writer, the
    portal's or a night's, keeps its file); returns how many."""
    if not Path(out_dir).is_dir():
        return 0
    swept = 0
    for leftover in Path(out_dir).rglob(".*.tmp"):
        found = _TEMPORARY.match(leftover.name)
        if found and leftover.is_file() and not alive(int(found["pid"])):
            leftover.unlink(missing_ok=True)
            swept += 1
    return swept


@contextmanager
def _atomically(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write; renamed onto `path` when the block ends well,
    removed when it fails, so a reader (or a crash) never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _temporary(path: Path) -> Path:
    # A unique name beside the target (same file system, so os.replace is atomic); created with the
    # usual permissions, unlike mkstemp's owner-only ones.
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def write_csv_atomically(rows: Iterable[Sequence[object]], header: Sequence[str] | None, path: Path) -> Path:
    """Write `header` (if any) and `rows` as CSV at `path` (UTF-8 with BOM, CRLF, RFC 4180).

    Text cells are escaped with `csv_safe`; ints and floats are written as numbers, None as an
    empty cell, booleans as `Yes`/`No`.
    """
    path = Path(path)
    # utf-8-sig: the BOM tells Excel the file is UTF-8, so Zoë opens correctly.
    with _atomically(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        if header is not None:
            writer.writerow([csv_safe(h) for h in header])
        for row in rows:
            # Most cells are text that needs no escape: kept as they are without a call each.
            writer.writerow(
                [v if type(v) is str and not v.startswith(CSV_FORMULA_STARTS) else _csv_cell(v) for v in row]
            )
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
    with _atomically(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path
