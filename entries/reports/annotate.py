"""The centre's own workbook sent back with every issue marked on it, and the issues as a CSV.

`write_annotated` writes two files for one upload:

- `<stem>.annotated.xlsx`: for an xlsx upload, a copy of the centre's workbook (formulas replaced by
  their saved values); for a CSV upload, a new workbook of its rows on a sheet `Entries`, each at
  its own row number. Cells in error are red, cells with a warning amber, each with a comment
  giving the rule code, the message and the fix. An `Entry status` column right of the data says
  `Error`, `Warning` or `OK` for each row, with the codes. An `Errors` sheet lists every issue.
- `<stem>.errors.csv`: the same list as the `Errors` sheet, for a centre without Excel.

Both hold personal data, so nothing here logs or prints. Output security (docs/hostile-inputs.md): every
text goes into the xlsx as a string cell, never a formula, and a CSV text cell that a spreadsheet
would evaluate (leading `= + - @`, tab, CR, NUL) gets a leading apostrophe.

Only call this for a file `entries.reader.read_upload` accepted: openpyxl loads the whole workbook
in this process, without the reader's size limits.
"""

from __future__ import annotations

import math
import re
import warnings
import zipfile
from collections import defaultdict
from copy import copy
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from entries.core.rules import Issue
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.intake.xlsx import column_index
from entries.reports.files import active_sheet, legal_text, put, write_csv_atomically, write_xlsx_atomically

STATUS_HEADER = "Entry status"
ERRORS_SHEET = "Errors"
ERRORS_SHEET_FALLBACK = "Errors (entries check)"
CSV_SHEET = "Entries"
ERRORS_COLUMNS = ("Row", "Column", "Code", "Severity", "Message", "Fix")
COMMENT_AUTHOR = "Entries check"

# Excel's own "Bad", "Neutral" and "Good" cell styles, so the colours read as Excel users expect.
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
ERROR_FONT_COLOUR = "9C0006"
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
WARNING_FONT_COLOUR = "9C5700"
OK_FILL = PatternFill("solid", fgColor="C6EFCE")
OK_FONT_COLOUR = "006100"

MAX_ROW = 1_048_576  # Excel's sheet size
MAX_COLUMN = 16_384
_SEVERITY_ORDER = {"error": 0, "warning": 1}
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell [^>]*?ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
# Far more than an entries sheet merges (5,000 rows x 20 columns is 100,000 cells), far less
# than would exhaust memory as openpyxl MergedCell objects.
MAX_MERGED_CELLS = 200_000


def write_annotated(
    source: Path,
    out_dir: Path,
    *,
    file_format: str,
    sheet_name: str | None,
    header_row: int,
    positions: dict[str, int],
    rows: pd.DataFrame,
    issues: list[Issue],
    stem: str,
) -> tuple[Path, Path]:
    """Write `<stem>.annotated.xlsx` and `<stem>.errors.csv` into out_dir; return both paths.

    `source` is the upload; `file_format` "xlsx" or "csv" (what the reader found, not the file
    name). For xlsx, `sheet_name` is the sheet that was read (None: the active sheet) and
    `positions` maps template columns to 0-based sheet column indexes; for CSV both are ignored and
    the rows are laid out in TEMPLATE_COLUMNS order. `header_row` is the spreadsheet row of the
    header; `rows` the Intake's rows (int column `row` plus the template columns as text);
    `issues` every finding for the file. out_dir is created if missing; each file is written
    under a temporary name and moved into place. Raises ValueError for a bad stem, an unknown
    format or sheet, merged ranges too large to load safely, or a sheet with no free column for
    the status.
    """
    if not stem or stem in (".", "..") or Path(stem).name != stem or "/" in stem or "\\" in stem:
        raise ValueError("stem must be a plain file name")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = sorted(issues, key=_issue_key)

    if file_format == "xlsx":
        _check_merged_area(Path(source))
        wb = _load_workbook(Path(source))
        if sheet_name is None:
            ws = active_sheet(wb)
        elif sheet_name in wb.sheetnames:
            ws = wb[sheet_name]
        else:
            raise ValueError("the sheet that was read is not in the workbook")
        if not isinstance(ws, Worksheet):
            raise ValueError("the sheet that was read is not a worksheet")
        cell_positions = {c: p for c, p in positions.items() if c in TEMPLATE_COLUMNS}
        _open_on(wb, ws)
    elif file_format == "csv":
        wb, ws = _csv_workbook(header_row, rows)
        cell_positions = {c: i for i, c in enumerate(TEMPLATE_COLUMNS)}
    else:
        raise ValueError(f"unknown file format {file_format!r}")

    _annotate(ws, header_row, cell_positions, rows, ordered)
    _add_errors_sheet(wb, ordered)
    # The loaded workbook may hold text beginning with '=' (or _xHHHH_) on any sheet: made safe
    # last, so it covers every cell written above as well.
    xlsx_path = out_dir / f"{stem}.annotated.xlsx"
    csv_path = out_dir / f"{stem}.errors.csv"
    write_xlsx_atomically(wb, xlsx_path)
    _write_errors_csv(csv_path, ordered)
    return xlsx_path, csv_path


def _issue_key(item: Issue) -> tuple:
    """Sort key: row (issues without one first), column, code; message and fix break ties."""
    return (
        item.row is not None,
        item.row if item.row is not None else 0,
        item.column or "",
        item.code,
        item.message,
        item.fix,
    )


def _check_merged_area(source: Path) -> None:
    """Raise ValueError if the workbook's merged ranges cover more than MAX_MERGED_CELLS cells.

    openpyxl makes an object for every cell a merged range covers, so one `A1:XFD1048576` (a few
    bytes of XML, which the reader accepts and flags) would take all memory here.
    """
    covered = 0
    with zipfile.ZipFile(source) as zf:
        for name in zf.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            for m in _MERGE_REF.finditer(zf.read(name)):
                c1, r1, c2, r2 = column_index(m[1].decode()), int(m[2]), column_index(m[3].decode()), int(m[4])
                covered += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
                if covered > MAX_MERGED_CELLS:
                    raise ValueError("the workbook's merged cells are too large to annotate")


def _load_workbook(source: Path) -> Workbook:
    """The centre's workbook with formulas replaced by their saved values and external links dropped."""
    # openpyxl warns about parts it drops (extensions, unknown styles); warnings are output, and
    # this module prints nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(source, data_only=True, keep_links=False, rich_text=False)


def _open_on(wb: Workbook, ws: Worksheet) -> None:
    """Make `ws` the sheet Excel opens on (unless the centre hid it), and the only one selected."""
    if ws.sheet_state != "visible":
        return
    wb.active = ws
    # More than one selected tab opens Excel in [Group] mode, where typing edits every sheet.
    for sheet in wb.worksheets:
        for view in sheet.views.sheetView:
            view.tabSelected = sheet is ws


def _csv_workbook(header_row: int, rows: pd.DataFrame) -> tuple[Workbook, Worksheet]:
    """A new workbook holding a CSV upload's rows: template header, each entry at its own row."""
    wb = Workbook()
    ws = active_sheet(wb)
    ws.title = CSV_SHEET
    # The header goes on the CSV's own header row (1 unless blank lines came first), so every row
    # number in a message points at the same row here as in the centre's file.
    header_at = header_row if 1 <= header_row < MAX_ROW else 1
    bold = Font(bold=True)
    for col, name in enumerate(TEMPLATE_COLUMNS, start=1):
        put(ws, header_at, col, name).font = bold
        ws.column_dimensions[get_column_letter(col)].width = max(len(name) + 4, 12)
    columns = [c for c in TEMPLATE_COLUMNS if c in rows.columns]
    for record in rows[["row", *columns]].itertuples(index=False, name=None):
        row = _row_number(record[0])
        if row is None:
            continue
        for column, value in zip(columns, record[1:], strict=False):
            text = _text(value)
            if text:
                # Text format, so a centre that edits this copy keeps its leading zeros.
                put(ws, row, TEMPLATE_COLUMNS.index(column) + 1, text).number_format = "@"
    ws.freeze_panes = ws.cell(row=header_at + 1, column=1).coordinate
    return wb, ws


def _annotate(
    ws: Worksheet, header_row: int, positions: dict[str, int], rows: pd.DataFrame, issues: list[Issue]
) -> None:
    """Colour and comment the cells in `issues`, and add the status column to `ws`.

    `positions` are 0-based sheet columns; `issues` are already in report order.
    """
    on_cell: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    on_row: dict[int, list[Issue]] = defaultdict(list)  # shown on the status cell
    by_row: dict[int, list[Issue]] = defaultdict(list)  # everything on the row, for the status
    for item in issues:
        row = _row_number(item.row)
        if row is None:
            continue  # a file-level issue: the Errors sheet only
        by_row[row].append(item)
        position = positions.get(item.column) if item.column is not None else None
        if position is not None and 0 <= position < MAX_COLUMN:
            on_cell[(row, position + 1)].append(item)
        else:
            on_row[row].append(item)

    status_col = _last_used_column(ws, positions) + 1
    if status_col > MAX_COLUMN:
        raise ValueError("the sheet has no free column for the entry status")

    # A cell inside a merged range cannot hold a comment, and Excel shows the range in its top-left
    # cell's format: issues on any of its cells are marked on that anchor cell.
    on_target: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    for place, found in on_cell.items():
        on_target[_anchor(ws, place)].extend(found)
    for (row, col), found in on_target.items():
        _mark(ws.cell(row=row, column=col), found)

    header_at = header_row if _row_number(header_row) is not None else None
    data_rows = {r for r in (_row_number(v) for v in rows["row"].tolist()) if r is not None}
    if header_at is not None:
        header = put(ws, header_at, status_col, STATUS_HEADER)
        header.font = Font(bold=True)
    # An error on the file itself (missing columns, say) stops every row: none of them is "OK".
    whole_file = any(
        i.severity == "error" and (_row_number(i.row) is None or _row_number(i.row) == header_at) for i in issues
    )
    for row in sorted(data_rows | set(by_row)):
        found = by_row.get(row, [])
        worst = _worst(found)
        if whole_file and worst is None and row != header_at:
            _style(put(ws, row, status_col, "Not processed: see the Errors sheet"), "warning")
            continue
        if row == header_at:
            # Keep the header's text; header-row findings still show in its colour and comment.
            cell = ws.cell(row=row, column=status_col)
            if worst is None:
                continue
        else:
            cell = put(ws, row, status_col, _status_text(found))
        _style(cell, worst or "ok")
        if on_row.get(row):
            _set_comment(cell, on_row[row])
    ws.column_dimensions[get_column_letter(status_col)].width = 28


def _last_used_column(ws: Worksheet, positions: dict[str, int]) -> int:
    """The rightmost column holding a value, inside a merged range or read as a template column."""
    # ws.max_column counts styled empty cells and trusts a stale <dimension>, so the status would
    # land far right of the data; the cells themselves are read instead (a private map, but it
    # avoids iter_rows building every cell of a sparse sheet's full rectangle).
    last = max((col for (_, col), cell in ws._cells.items() if cell.value is not None), default=0)
    last = max(last, *(r.max_col for r in ws.merged_cells.ranges), 0)
    return max(last, *(p + 1 for p in positions.values()), 0)


def _anchor(ws: Worksheet, place: tuple[int, int]) -> tuple[int, int]:
    """The top-left cell of the merged range covering `place`, or `place` itself."""
    if not isinstance(ws._cells.get(place), MergedCell):
        return place
    row, col = place
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col:
            return merged.min_row, merged.min_col
    return place


def _mark(cell: Cell | MergedCell, found: list[Issue]) -> None:
    """Fill `cell` red (any error) or amber and comment every issue on it."""
    _style(cell, _worst(found) or "warning")
    _set_comment(cell, found)


def _style(cell: Cell | MergedCell, severity: str) -> None:
    """Fill and font colour for severity 'error', 'warning' or 'ok', keeping the cell's other font settings."""
    fill, colour = {
        "error": (ERROR_FILL, ERROR_FONT_COLOUR),
        "warning": (WARNING_FILL, WARNING_FONT_COLOUR),
        "ok": (OK_FILL, OK_FONT_COLOUR),
    }[severity]
    cell.fill = copy(fill)
    font = copy(cell.font)
    font.color = colour  # openpyxl turns an aRGB string into a Color
    cell.font = font  # type: ignore[assignment]  # a copied StyleProxy is the Font openpyxl stores


def _set_comment(cell: Cell | MergedCell, found: list[Issue]) -> None:
    """Comment `cell` with each issue's code, severity, message and fix (errors first).

    A comment the centre left on the cell is kept below ours rather than lost.
    """
    ordered = sorted(found, key=lambda i: (_SEVERITY_ORDER.get(i.severity, 2), i.code, i.row or 0, i.message))
    # Issues from several rows meet here only on a merged range's anchor: say which row each is.
    several_rows = len({i.row for i in ordered}) > 1
    parts = _distinct(
        (f"Row {i.row}: " if several_rows else "") + f"{i.code} ({i.severity}): {i.message}\nFix: {i.fix}"
        for i in ordered
    )
    if cell.comment is not None and cell.comment.text:
        parts.append(f"Comment already on this cell:\n{cell.comment.text}")
    # Only XML-illegal characters are replaced: openpyxl reads comments back without _xHHHH_ decoding.
    text = legal_text("\n\n".join(parts))
    comment = Comment(text, COMMENT_AUTHOR)
    # Sized to the text (in points) so the message shows without resizing; bounded either way.
    lines = sum(max(1, math.ceil(len(line) / 55)) for line in text.split("\n"))
    comment.width = 330
    comment.height = min(max(60, 15 * lines + 10), 600)
    cell.comment = comment


def _worst(found: list[Issue]) -> str | None:
    """'error' if any issue is an error, else 'warning' if any, else None."""
    if any(i.severity == "error" for i in found):
        return "error"
    return "warning" if found else None


def _status_text(found: list[Issue]) -> str:
    """`OK`, `Error: CODE, CODE` or `Warning: CODE`; with both, `Error: ...; Warning: ...`."""
    errors = _distinct(i.code for i in found if i.severity == "error")
    warns = _distinct(i.code for i in found if i.severity != "error")
    parts = []
    if errors:
        parts.append("Error: " + ", ".join(errors))
    if warns:
        parts.append("Warning: " + ", ".join(warns))
    return "; ".join(parts) or "OK"


def _distinct(codes) -> list[str]:
    """Codes in first-seen order, each once."""
    return list(dict.fromkeys(codes))


def _add_errors_sheet(wb: Workbook, issues: list[Issue]) -> None:
    """Append the issues sheet: one line per issue, bold frozen header, autofilter."""
    taken = {name.casefold() for name in wb.sheetnames}  # Excel compares sheet names caselessly
    title = ERRORS_SHEET
    n = 1
    while title.casefold() in taken:
        title = ERRORS_SHEET_FALLBACK if n == 1 else f"{ERRORS_SHEET_FALLBACK} {n}"
        n += 1
    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    for col, name in enumerate(ERRORS_COLUMNS, start=1):
        put(ws, 1, col, name).font = bold
    for row, item in enumerate(issues, start=2):
        if item.row is not None:
            ws.cell(row=row, column=1, value=int(item.row))
        for col, value in enumerate((item.column, item.code, item.severity, item.message, item.fix), start=2):
            if value:
                put(ws, row, col, str(value))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:F{len(issues) + 1}"
    for letter, width in zip("ABCDEF", (8, 20, 10, 10, 60, 60), strict=False):
        ws.column_dimensions[letter].width = width


def _write_errors_csv(path: Path, issues: list[Issue]) -> None:
    """The issues as CSV (UTF-8 with BOM, CRLF, RFC 4180), text cells escaped against formulas."""
    write_csv_atomically(
        ([item.row, item.column, item.code, item.severity, item.message, item.fix] for item in issues),
        ERRORS_COLUMNS,
        path,
    )


def _text(value: object) -> str:
    """A frame value as text; '' for a missing one."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _row_number(value: object) -> int | None:
    """A usable spreadsheet row number (1 to Excel's last row), or None."""
    try:
        row = int(str(value))
    except (TypeError, ValueError):
        return None
    return row if 1 <= row <= MAX_ROW else None
