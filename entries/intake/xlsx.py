"""Read the entries sheet of an xlsx/xlsm workbook as text, flagging cells that are not plain values.

Runs inside the reader's child process (`entries.sandbox`): a parser crash or memory blow-up there
costs one file, never the run. Values come from fastexcel (calamine) with every column read as
text; the sheet's XML is scanned alongside for what calamine hides (error cells read as blanks,
formulas without a saved value, merged ranges) and for sizes that would make parsing unsafe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow

import re
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from entries.core.limits import ReadLimits
from entries.intake.sniff import Refused

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Sheets the entries template itself carries; their data is expected, not a stray copy of entries.
TEMPLATE_SHEETS = {"help", "lists"}

_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>')
_FORMULA = re.compile(rb"<f[ >/]")
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
_ROW_NUMBER = re.compile(rb'<row [^>]*?\br="(\d+)"')
_HAS_VALUE = re.compile(rb"<v>|<v |<is>")


def column_index(letters: str) -> int:
    """`A` -> 0, `Z` -> 25, `AA` -> 26."""
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number - 1


def column_letters(index: int) -> str:
    """0 -> `A`, 26 -> `AA`."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _beyond_columns(xml: bytes, max_columns: int) -> bool:
    """True when a cell holding a value lies right of column number `max_columns`."""
    width = len(column_letters(max_columns))  # a column that far right has at least this many letters
    pattern = re.compile(rb'<c r="([A-Z]{%d,3})\d+"[^>/]*>(?:<f[^<]*</f>)?<(?:v|is)>' % width)
    return any(column_index(m.group(1).decode()) >= max_columns for m in pattern.finditer(xml))


@dataclass
class SheetScan:
    """What the XML scan found: per-cell flags (row, 0-based column, code, detail) and warnings."""

    sheet: str
    date1904: bool
    flags: list[tuple[int, int, str, str]] = field(default_factory=list)
    warnings: list[tuple[str, dict]] = field(default_factory=list)


def _member(zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> bytes:
    try:
        with zf.open(name) as fh:
            data = fh.read(limits.max_inflated_bytes + 1)
    except KeyError:
        raise Refused("FILE_02") from None
    if len(data) > limits.max_inflated_bytes:
        raise Refused("FILE_10", detail=f"{name} is over {limits.max_inflated_bytes} bytes")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise Refused("FILE_11")
    return data


def check_container(zf: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Refuse a zip whose declared sizes or compression ratios are those of a zip bomb."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > 1024 * 1024:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise Refused("FILE_10", detail=f"{info.filename} expands {ratio:.0f} times")
    if total > limits.max_inflated_bytes:
        raise Refused("FILE_10", detail=f"{total} bytes in all")


def _parse(data: bytes):
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise Refused("FILE_11") from None
    except SafeET.ParseError:
        raise Refused("FILE_02") from None


def choose_sheet(zf: zipfile.ZipFile, limits: ReadLimits) -> tuple[str, str, bool, list[tuple[str, dict]]]:
    """Pick the sheet to read: `Entries` (any case) or else the first visible sheet.

    Returns (sheet name, its part name in the zip, whether the workbook uses 1904 dates, warnings).
    """
    workbook = _parse(_member(zf, "xl/workbook.xml", limits))
    pr = workbook.find(f"{MAIN_NS}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    rels = _parse(_member(zf, "xl/_rels/workbook.xml.rels", limits))
    targets = {}
    for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    sheets = []
    for sheet in workbook.iter(f"{MAIN_NS}sheet"):
        part = targets.get(sheet.get(f"{REL_NS}id"))
        if part is not None:
            sheets.append((sheet.get("name", ""), sheet.get("state", "visible"), part))
    named = [s for s in sheets if s[0].strip().casefold() == "entries"]
    visible = [s for s in sheets if s[1] == "visible"]
    if named:
        chosen = named[0]
    elif visible:
        chosen = visible[0]
    else:
        raise Refused("FILE_18")
    warnings: list[tuple[str, dict]] = []
    for name, state, part in sheets:
        if part == chosen[2] or name.strip().casefold() in TEMPLATE_SHEETS or part not in zf.namelist():
            continue
        if _HAS_VALUE.search(_member(zf, part, limits)):
            warnings.append(("SHEET_01" if state == "visible" else "SHEET_02", {"sheet": name}))
    return chosen[0], chosen[2], date1904, warnings


def scan_sheet(xml: bytes, limits: ReadLimits) -> list[tuple[int, int, str, str]]:
    """Cell flags from the sheet XML; refuses sheets beyond the row or column limits."""
    last = xml.rfind(b"<row ")
    if last >= 0:
        m = _ROW_NUMBER.match(xml, last)
        if m and int(m.group(1)) > limits.max_rows + 1:
            # Count the rows that hold values, stopping as soon as the limit is passed.
            rows_with_values = 0
            for row in re.finditer(rb"<row [^>]*>(.*?)</row>", xml, re.S):
                if _HAS_VALUE.search(row.group(1)):
                    rows_with_values += 1
                    if rows_with_values > limits.max_rows + 1:
                        raise Refused("FILE_12", rows=f"more than {limits.max_rows}", limit=limits.max_rows)
    if _beyond_columns(xml, limits.max_columns):
        raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
    flags: list[tuple[int, int, str, str]] = []
    # Each pattern runs only when its marker occurs at all: a plain substring test is ~50x faster.
    for m in _ERROR_CELL.finditer(xml) if b't="e"' in xml else ():
        flags.append(
            (int(m.group(2)), column_index(m.group(1).decode()), "CELL_01", m.group(3).decode("utf-8", "replace")[:20])
        )
    for m in _FORMULA.finditer(xml) if b"<f" in xml else ():
        start = xml.rfind(b"<c ", 0, m.start())
        end = xml.find(b"</c>", m.start())
        cell = _CELL_START.match(xml, start) if start >= 0 else None
        if cell is None or end < 0:
            continue
        body = xml[m.start() : end]
        if re.search(rb"<v>[^<]+</v>", body) is None:
            flags.append((int(cell.group(2)), column_index(cell.group(1).decode()), "CELL_02", ""))
    merged_cells = 0
    for merge in _MERGE.finditer(xml) if b"<mergeCell " in xml else ():
        c1, r1, c2, r2 = (
            column_index(merge.group(1).decode()),
            int(merge.group(2)),
            column_index(merge.group(3).decode()),
            int(merge.group(4)),
        )
        merged_cells += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
        if merged_cells > limits.max_rows:
            # Flagging (and later annotating) every covered cell of a sheet-sized merge would blow up.
            raise Refused("FILE_10", detail="merged ranges cover too many cells")
        ref = f"{merge.group(1).decode()}{r1}:{merge.group(3).decode()}{r2}"
        for covered in range(r1, min(r2, r1 + limits.max_rows) + 1):
            for col in range(c1, min(c2, limits.max_columns) + 1):
                flags.append((covered, col, "CELL_03", ref))
    return flags


_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}\d+:)?([A-Z]{1,3})(\d+)"')


def check_dimension(head: bytes, limits: ReadLimits) -> None:
    """Refuse, before parsing, a sheet whose declared extent is beyond the limits.

    The declaration may be stale (smaller than the data); the full scan catches that, and the
    child's memory limit catches a parser that allocates for a far cell regardless.
    """
    m = _DIMENSION.search(head)
    if m is None:
        return
    if column_index(m.group(1).decode()) >= limits.max_columns:
        raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
    if int(m.group(2)) > limits.max_rows + 1:
        raise Refused("FILE_12", rows=int(m.group(2)) - 1, limit=limits.max_rows)


def read_xlsx(path: str, limits: ReadLimits) -> tuple[pyarrow.Table, SheetScan, int]:
    """Read the entries sheet: (pyarrow data of text columns, scan, absolute index of column 0).

    The sheet XML is scanned on a second thread while calamine parses (it releases the GIL), so
    the scan costs almost nothing; a refusal from the scan still refuses the file.
    """
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise Refused("FILE_02") from None
    with zf:
        check_container(zf, limits)
        try:
            sheet, part, date1904, warnings = choose_sheet(zf, limits)
            with zf.open(part) as fh:
                check_dimension(fh.read(4096), limits)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, KeyError):
            raise Refused("FILE_02") from None

    outcome: dict[str, object] = {}

    def scan() -> None:
        try:
            with zipfile.ZipFile(path) as own:
                for extra in ("xl/sharedStrings.xml", "xl/styles.xml"):
                    if extra in own.namelist():
                        _member(own, extra, limits)
                outcome["flags"] = scan_sheet(_member(own, part, limits), limits)
        except Refused as refused:
            outcome["refused"] = refused
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError):
            outcome["refused"] = Refused("FILE_02")

    scanner = threading.Thread(target=scan, name="sheet-scan")
    scanner.start()
    import fastexcel  # imported here: only the child process pays for it

    failure: Exception | None = None
    try:
        loaded = fastexcel.read_excel(path).load_sheet(sheet, header_row=None, dtypes="string", skip_rows=0)
        columns = loaded.available_columns()
        table = loaded.to_arrow()
    except Exception as exc:  # noqa: BLE001 - calamine's errors carry no stable types; never their text
        failure = exc
    scanner.join()
    if "refused" in outcome:
        raise outcome["refused"]  # type: ignore[misc]
    if failure is not None:
        raise Refused("FILE_02") from failure
    scan_result = SheetScan(sheet=sheet, date1904=date1904, warnings=warnings, flags=outcome["flags"])  # type: ignore[arg-type]
    offset = columns[0].absolute_index if columns else 0
    return table, scan_result, offset
