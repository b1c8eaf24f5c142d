"""Read the entries sheet of an old Excel (.xls, BIFF5 or BIFF8), binary (.xlsb) or OpenDocument
(.ods) workbook as text, through calamine (fastexcel), flagging what calamine reads as blank.

In: the upload's path, what the main process's sniff saw (`ole2`, `xlsb`, `ods`), the name's
suffix and the read limits. Out: the same as `entries.intake.xlsx.read_xlsx` (pyarrow columns of
text, a `SheetScan`, the absolute index of column 0) plus the file's format (`xls`, `xlsb`, `ods`);
or `Refused` with the rule code.

Runs only inside the reader's child process (`entries.intake.sandbox`). An OLE2 file is first
taken apart here (`entries.intake.compound`): encrypted, password-protected, Word, PowerPoint and
damaged files are refused with their own codes before calamine sees them, as is an .ods whose
manifest declares encrypted parts (`FILE_04`). The zip formats get the
xlsx path's container check (zip bombs) and entity check (the OpenDocument content part). The
sheet is chosen as in an xlsx (`Entries` in any case, else the first visible sheet), every other
sheet is held to the row limit and warned about when it holds values, and the sheet read to the
row and column limits. Error cells and merged ranges, which calamine reads as blanks, are found in
the BIFF records (.xls) or the content XML (.ods); dates follow the file's own date system (the
BIFF DATEMODE record, the .xlsb workbook's f1904 flag, the .ods null date).
"""

from __future__ import annotations

import re
import shutil
import struct
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defusedxml import ElementTree as SafeET

from entries.core.limits import ReadLimits
from entries.intake.column_letters import column_letters
from entries.intake.compound import old_workbook, workbook_flags
from entries.intake.sniff import PROPER_SUFFIXES, Refused, named, part_name
from entries.intake.xlsx_package import check_container, read_member
from entries.intake.xlsx_scan import TEMPLATE_SHEETS, SheetScan

if TYPE_CHECKING:
    import pyarrow

# The extension calamine is given the file under: it picks its parser by the name.
_SUFFIX = {"xls": ".xls", "xlsb": ".xlsb", "ods": ".ods"}
_NULL_DATE = re.compile(rb'<table:null-date\b[^>]*?table:date-value="(\d{4}-\d{2}-\d{2})')
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_BRT_WB_PROP = 0x0099  # the .xlsb workbook's properties record; bit 0 of its flags is f1904


def read_other_format(
    path: str, kind: str, suffix: str, limits: ReadLimits, work_dir: str
) -> tuple[pyarrow.Table, SheetScan, int, str]:
    """Read the entries sheet of the workbook at `path` (sniffed as `kind`)."""
    data = Path(path).read_bytes()
    workbook = None
    if kind == "ole2":
        workbook = old_workbook(data, suffix)
        file_format = "xls"
        date1904 = False  # from the BIFF records, below
    elif kind in ("ods", "xlsb"):
        file_format = kind
        date1904 = _zip_date1904(path, kind, suffix, limits)
    else:
        raise ValueError(f"not a calamine format: {kind!r}")
    # calamine chooses its parser by the file's extension: give it the bytes under their own.
    target = Path(work_dir) / f"workbook{_SUFFIX[file_format]}"
    shutil.copyfile(path, target)
    del data
    import fastexcel  # imported here: only the child process pays for it

    try:
        reader = fastexcel.read_excel(str(target))
        names = list(reader.sheet_names)
        visible = [
            str(reader.load_sheet(i, header_row=None, dtypes="string", n_rows=0).visible) for i in range(len(names))
        ]
    except Exception as exc:  # noqa: BLE001 - calamine's errors carry no stable types; never their text
        raise Refused("FILE_02") from exc
    chosen = _choose(names, visible)
    warnings: list[tuple[str, dict[str, Any]]] = []
    for i, name in enumerate(names):
        if i == chosen:
            continue
        try:
            other = reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0)
            height = other.total_height
            holds = height > 0 and _holds_values(other.to_arrow())
        except Exception:  # noqa: BLE001 - a sheet calamine cannot load (a chart, a macro sheet) is not read
            continue
        if height > limits.max_rows:
            raise Refused("FILE_28", position=i + 1, limit=limits.max_rows)  # by place, never by tab name
        if holds and name.strip().casefold() not in TEMPLATE_SHEETS:
            warnings.append(("SHEET_01" if visible[i] == "visible" else "SHEET_02", {"position": i + 1}))
    try:
        loaded = reader.load_sheet(chosen, header_row=None, dtypes="string", skip_rows=0)
        columns = loaded.available_columns()
        table = loaded.to_arrow()
    except Exception as exc:  # noqa: BLE001 - as above
        raise Refused("FILE_02") from exc
    offset = columns[0].absolute_index if columns else 0
    table = _within_limits(table, offset, limits)
    sheet = names[chosen]
    flags: list[tuple[int, int, str, str]] = []
    if workbook is not None:
        scan = workbook_flags(workbook, sheet, limits)
        date1904, flags = scan.date1904, scan.flags
    elif file_format == "ods":
        flags = _ods_flags(path, sheet, limits)
    return table, SheetScan(sheet=sheet, date1904=date1904, flags=flags, warnings=warnings), offset, file_format


def _choose(names: list[str], visible: list[str]) -> int:
    """The sheet to read: `Entries` (any case, even hidden), else the first visible sheet."""
    for i, name in enumerate(names):
        if name.strip().casefold() == "entries":
            return i
    for i, state in enumerate(visible):
        if state == "visible":
            return i
    raise Refused("FILE_18")


def _holds_values(table: pyarrow.Table) -> bool:
    return any(column.null_count < len(column) for column in table.columns)


def _within_limits(table: pyarrow.Table, offset: int, limits: ReadLimits) -> pyarrow.Table:
    """`table` with blank columns right of the column limit dropped; refused when a value lies
    there (`FILE_13`) or the sheet has more rows than the limit (`FILE_12`)."""
    if table.num_rows > limits.max_rows + 1:  # the header row and max_rows entries
        raise Refused("FILE_12", rows=f"more than {limits.max_rows}", limit=limits.max_rows)
    keep = max(0, limits.max_columns - offset)
    for column in table.columns[keep:]:
        if column.null_count < len(column) and any(v not in (None, "") for v in column.to_pylist()):
            raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
    return table.select(list(range(min(keep, table.num_columns))))


# ----------------------------------------------------------------------------- zip formats


def _zip_date1904(path: str, kind: str, suffix: str, limits: ReadLimits) -> bool:
    """Check the zip as an xlsx's is checked, and return whether its dates count from 1904. An
    .ods whose manifest declares encrypted parts is refused as password protected (`FILE_04`)."""
    try:
        with zipfile.ZipFile(path) as zf:
            check_container(zf, limits)
            names = {part_name(n).casefold(): n for n in zf.namelist()}
            if kind == "ods":
                manifest = names.get("meta-inf/manifest.xml")
                if manifest is not None and b"encryption-data" in read_member(zf, manifest, limits):
                    raise Refused("FILE_04", named=named(suffix, PROPER_SUFFIXES["ods"]))
                content = names.get("content.xml")
                if content is None:
                    raise Refused("FILE_02")
                found = _NULL_DATE.search(read_member(zf, content, limits))
                return found is not None and found.group(1) == b"1904-01-01"
            workbook = next((n for key, n in names.items() if key.endswith("workbook.bin")), None)
            if workbook is None:
                raise Refused("FILE_02")
            return xlsb_date1904(read_member(zf, workbook, limits))
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, KeyError):
        raise Refused("FILE_02") from None


def xlsb_date1904(workbook_bin: bytes) -> bool:
    """The f1904 flag of an .xlsb workbook part's BrtWbProp record (MS-XLSB 2.4.820); False when
    it has none. Each record is its type (1-2 bytes) and size (1-4 bytes), 7 bits a byte, the
    high bit saying another byte follows, then the payload."""
    at = 0
    for _ in range(64):  # BrtWbProp comes among the first few records of the part
        kind, at = _varint(workbook_bin, at, 2)
        size, at = _varint(workbook_bin, at, 4)
        if kind < 0 or size < 0 or at + size > len(workbook_bin):
            return False
        if kind == _BRT_WB_PROP and size >= 4:
            return bool(struct.unpack_from("<I", workbook_bin, at)[0] & 1)
        at += size
    return False


def _varint(data: bytes, at: int, most: int) -> tuple[int, int]:
    """The 7-bits-a-byte number of at most `most` bytes at `at`: (value, next offset); -1 past the end."""
    value = 0
    for i in range(most):
        if at >= len(data):
            return -1, at
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            break
    return value, at


def _ods_flags(path: str, sheet: str, limits: ReadLimits) -> list[tuple[int, int, str, str]]:
    """Error cells (`CELL_01`) and the cells merged ranges cover (`CELL_03`) of the .ods table
    `sheet`, from its content XML (already checked for entities by `_zip_date1904`), with
    1-based rows and 0-based columns as in an xlsx scan."""
    with zipfile.ZipFile(path) as zf:
        names = {part_name(n).casefold(): n for n in zf.namelist()}
        content = read_member(zf, names["content.xml"], limits)
    root = SafeET.fromstring(content, forbid_dtd=True)
    flags: list[tuple[int, int, str, str]] = []
    merged = 0
    for table in root.iter(f"{{{_TABLE}}}table"):
        if table.get(f"{{{_TABLE}}}name") != sheet:
            continue
        row = 0
        for element in table.iter():
            if element.tag != f"{{{_TABLE}}}table-row":
                continue
            repeat_rows = _count(element, "number-rows-repeated")
            col = 0
            for cell in element:
                if cell.tag not in (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell"):
                    continue
                repeat = _count(cell, "number-columns-repeated")
                error = cell.get(f"{{{_CALCEXT}}}value-type") == "error"
                span_cols, span_rows = _count(cell, "number-columns-spanned"), _count(cell, "number-rows-spanned")
                if error and col < limits.max_columns:
                    text = "".join(cell.itertext()).strip() or "#ERROR"
                    flags += [
                        (row + 1 + r, col + c, "CELL_01", text[:20])
                        for r in range(min(repeat_rows, limits.max_rows + 1))
                        for c in range(min(repeat, limits.max_columns - col))
                    ]
                if span_cols > 1 or span_rows > 1:
                    merged += span_cols * span_rows
                    if merged > limits.max_merged_cells:
                        raise Refused("FILE_26", limit=limits.max_merged_cells)
                    ref = f"{column_letters(col)}{row + 1}:{column_letters(col + span_cols - 1)}{row + span_rows}"
                    for r in range(row + 1, row + span_rows + 1):
                        for c in range(col, min(col + span_cols, limits.max_columns)):
                            flags.append((r, c, "CELL_03", ref))
                col += repeat
            row += repeat_rows
        break
    return flags


def _count(element: Any, attribute: str) -> int:
    try:
        return max(1, int(element.get(f"{{{_TABLE}}}{attribute}", "1")))
    except ValueError:
        return 1
