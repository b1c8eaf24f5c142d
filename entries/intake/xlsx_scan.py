"""The raw XML of a workbook's sheets scanned for what the parser hides and for real sizes.

In: sheet XML as bytes (and the read limits). Out: cell flags `(row, 0-based column, code,
detail)` for what calamine reads as blank or plain (error cells `CELL_01`, formulas without a saved
value `CELL_02`, every cell a merged range covers `CELL_03`), and refusals (`Refused`) for a sheet
whose real rows or columns, merged cells or cell formats are beyond the limits. `check_workbook`
checks every sheet but the one read against the workbook-wide limits, because the report step
opens the whole workbook. Regular expressions on bytes, each run only when its marker occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from entries.core.limits import ReadLimits
from entries.intake.column_letters import column_index, column_letters
from entries.intake.sniff import Refused
from entries.intake.xlsx_package import MACRO_SHEETS, WORKSHEET, Package, Sheet, Workbook

# The error values a cell can hold (ECMA-376 ST_CellType "e"; Excel 365's newer ones too).
EXCEL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#PYTHON!",
    }
)
# Sheets the entries template itself carries; their data is expected, not a stray copy of entries.
TEMPLATE_SHEETS = {"help", "lists"}

_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>')
_FORMULA = re.compile(rb"<f[ >/]")
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
# Any sheet, any writer: a namespace prefix and other attributes before `ref` are allowed.
_ANY_MERGE = re.compile(
    rb'<(?:[\w.\-]+:)?mergeCell\b[^>]*?\bref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"'
)
_XF = re.compile(rb"<(?:[\w.\-]+:)?xf[\s/>]")
_ROW_NUMBER = re.compile(rb'<row [^>]*?\br="(\d+)"')
_HAS_VALUE = re.compile(rb"<v>|<v |<is>")
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}\d+:)?([A-Z]{1,3})(\d+)"')
_DIMENSION_ELEMENT = re.compile(rb"<(?:[\w.\-]+:)?dimension\b[^>]*/>")
_DIMENSION_REF = re.compile(rb'\bref="([^"]*)"')
_USUAL_REF = re.compile(rb"[A-Z]{1,3}[1-9]\d{0,6}(?::[A-Z]{1,3}[1-9]\d{0,6})?")


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


# ----------------------------------------------------------------------------- workbook-wide limits


def merged_cells(xml: bytes, stop_above: int) -> int:
    """Cells covered by the sheet's merged ranges (counting stops once past `stop_above`)."""
    covered = 0
    if b"mergeCell" not in xml:
        return 0
    for m in _ANY_MERGE.finditer(xml):
        c1, r1 = column_index(m.group(1).decode()), int(m.group(2))
        c2, r2 = (column_index(m.group(3).decode()), int(m.group(4))) if m.group(3) else (c1, r1)
        covered += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
        if covered > stop_above:
            break
    return covered


def rows_over(xml: bytes, limit: int) -> bool:
    """True when more than `limit` rows of the sheet hold a value (a declared or styled row counts
    only if it holds one); cheap when the last row number is within the limit."""
    last = xml.rfind(b"<row ")
    if last < 0:
        return False
    m = _ROW_NUMBER.match(xml, last)
    if m is None or int(m.group(1)) <= limit:
        return False
    rows_with_values = 0
    for row in re.finditer(rb"<row [^>]*>(.*?)</row>", xml, re.S):
        if _HAS_VALUE.search(row.group(1)):
            rows_with_values += 1
            if rows_with_values > limit:
                return True
    return False


def check_styles(xml: bytes, limits: ReadLimits) -> None:
    """Refuse a styles part too big, or with more cell formats, than the report step can load."""
    if len(xml) > limits.max_styles_bytes:
        raise Refused("FILE_27", detail=f"the styles part is {len(xml)} bytes; the limit is {limits.max_styles_bytes}")
    formats = len(_XF.findall(xml))
    if formats > limits.max_cell_styles:
        raise Refused("FILE_27", detail=f"{formats} cell formats; the limit is {limits.max_cell_styles}")


def check_workbook(
    package: Package, workbook: Workbook, chosen: Sheet, limits: ReadLimits
) -> tuple[list[tuple[str, dict]], int]:
    """Every sheet but the one read against the workbook-wide limits, once: (warnings about those
    sheets, the cells their merged ranges cover). The sheet read is checked by `scan_sheet`, with
    what is left of the merged-cell limit.

    Merged cells are totalled over all sheets (`FILE_26`); a sheet other than the one read may not
    hold more rows than the row limit either (`FILE_28`); the styles part is bounded (`FILE_27`).
    """
    warnings: list[tuple[str, dict]] = []
    merged = 0
    # Sheets are named by their place among the tabs (1 = leftmost), never by their tab name: a
    # centre's tab may be named for a person, and messages go to the store and the reports.
    for position, sheet in enumerate(workbook.sheets, start=1):
        if sheet.part is None or sheet.part == chosen.part:
            continue
        if sheet.kind != WORKSHEET and sheet.kind not in MACRO_SHEETS:
            continue
        xml = package.read(sheet.part)
        merged += merged_cells(xml, limits.max_merged_cells - merged)
        if merged > limits.max_merged_cells:
            raise Refused("FILE_26", limit=limits.max_merged_cells)
        if rows_over(xml, limits.max_rows + 1):
            raise Refused("FILE_28", position=position, limit=limits.max_rows)
        if sheet.kind in MACRO_SHEETS:
            warnings.append(("SHEET_03", {"position": position}))
        elif sheet.name.strip().casefold() not in TEMPLATE_SHEETS and _HAS_VALUE.search(xml):
            warnings.append(("SHEET_01" if sheet.visible else "SHEET_02", {"position": position}))
    if workbook.styles is not None:
        check_styles(package.read(workbook.styles), limits)
    return warnings, merged


# ----------------------------------------------------------------------------- the sheet read


def scan_sheet(xml: bytes, limits: ReadLimits, merged_elsewhere: int = 0) -> list[tuple[int, int, str, str]]:
    """Cell flags from the sheet XML; refuses sheets beyond the row or column limits, and merged
    ranges that take the workbook (`merged_elsewhere` cells on its other sheets) past its limit."""
    if rows_over(xml, limits.max_rows + 1):
        raise Refused("FILE_12", rows=f"more than {limits.max_rows}", limit=limits.max_rows)
    if _beyond_columns(xml, limits.max_columns):
        raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
    flags: list[tuple[int, int, str, str]] = []
    # Each pattern runs only when its marker occurs at all: a plain substring test is ~50x faster.
    for m in _ERROR_CELL.finditer(xml) if b't="e"' in xml else ():
        flags.append((int(m.group(2)), column_index(m.group(1).decode()), "CELL_01", _error_text(m.group(3))))
    for m in _FORMULA.finditer(xml) if b"<f" in xml else ():
        start = xml.rfind(b"<c ", 0, m.start())
        end = xml.find(b"</c>", m.start())
        cell = _CELL_START.match(xml, start) if start >= 0 else None
        if cell is None or end < 0:
            continue
        body = xml[m.start() : end]
        if re.search(rb"<v>[^<]+</v>", body) is None:
            flags.append((int(cell.group(2)), column_index(cell.group(1).decode()), "CELL_02", ""))
    # Flagging (and later annotating) every covered cell of a sheet-sized merge would blow up.
    if merged_cells(xml, limits.max_merged_cells - merged_elsewhere) + merged_elsewhere > limits.max_merged_cells:
        raise Refused("FILE_26", limit=limits.max_merged_cells)
    for merge in _MERGE.finditer(xml) if b"<mergeCell " in xml else ():
        c1, r1, c2, r2 = (
            column_index(merge.group(1).decode()),
            int(merge.group(2)),
            column_index(merge.group(3).decode()),
            int(merge.group(4)),
        )
        ref = f"{merge.group(1).decode()}{r1}:{merge.group(3).decode()}{r2}"
        for covered in range(r1, min(r2, r1 + limits.max_rows) + 1):
            for col in range(c1, min(c2, limits.max_columns) + 1):
                flags.append((covered, col, "CELL_03", ref))
    return flags


def _error_text(value: bytes) -> str:
    """The error an error cell holds, as Excel shows it; `#ERROR` for any other text a writer put
    there (never quoted: it is the file's own text)."""
    text = value.decode("utf-8", "replace").strip().upper()
    return text if text in EXCEL_ERRORS else "#ERROR"


def declared_within(head: bytes, limits: ReadLimits) -> bool:
    """False when the sheet's declared `<dimension>` reaches past the row or column limit.

    The declaration is only a claim (it may be stale either way): a sheet that claims more is
    scanned for its real cells before the parser runs, instead of being refused for the claim.
    """
    m = _DIMENSION.search(head)
    if m is None:
        return True
    return column_index(m.group(1).decode()) < limits.max_columns and int(m.group(2)) <= limits.max_rows + 1


def declared_usual(head: bytes) -> bool:
    """False when the sheet's `<dimension>` is not a cell or a range of cells as Excel writes it
    (`A1`, `A1:P4`): a whole-row (`1:4`) or whole-column (`A:P`) reference, `$` signs, an empty or
    a malformed one. The parser rejects some of these, so such a sheet is read with it dropped."""
    m = _DIMENSION_ELEMENT.search(head)
    if m is None:
        return True
    ref = _DIMENSION_REF.search(m.group(0))
    return ref is not None and _USUAL_REF.fullmatch(ref.group(1)) is not None


def without_declared_extent(xml: bytes) -> bytes:
    """The sheet XML with its `<dimension>` element (in its first 4 KiB) dropped, so the parser
    sizes the sheet by its real cells."""
    return _DIMENSION_ELEMENT.sub(b"", xml[:4096], count=1) + xml[4096:]
