"""The centre's own workbook sent back with every issue marked on it, and the issues as a CSV.

`write_annotated` writes two files for one upload:

- `<stem>.annotated.xlsx`: for an xlsx upload, a copy of the centre's workbook (formulas replaced by
  their saved values); for a CSV upload, a new workbook of its rows on a sheet `Entries`, each at
  its own row number. Cells in error are red, cells with a warning amber, each with a comment
  giving the rule code, the message and the fix (a header label that is no template column is
  marked on its own cell). An `Entry status` column right of the data says, on each row that has
  an issue, `Error: CODES; Warning: CODES` and then, one line each, every issue's code, column,
  message and fix, so nothing is only in a comment (those cells wrap, and their rows are made tall
  enough). An `Errors` sheet lists every issue: row, column, code, severity, message, fix.
- `<stem>.errors.csv`: the same list as the `Errors` sheet, for a centre without Excel.

**Accepted or rejected.** A file is rejected when its status (the `status` argument, one of
`entries.core.status.Status`) is not one of the statuses that store entries, or, with no status
given, when any issue is an error (docs/architecture.md §3: then nothing of the file is stored).
In an accepted file every row without an issue says `OK` in green. In a rejected file nothing was
entered, so no row says `OK`: rows without an issue keep an empty status cell.

**The banner of a rejected file.** A sheet `Read me first` is added right after the entries sheet
and the workbook opens on it (it is the active, only selected tab). It says in plain words that
nothing from this file was entered, quotes the guide ("Any errors will show up in red. You will
need to correct these before your entries can be processed."), tells the centre to correct the
red cells (and the problems with the file as a whole) and upload the whole file again, gives the
counts, and writes out each problem with the file as a whole (the header's, say) with its fix.
The banner is a sheet of its own, not rows inserted above the header: inserting rows would move
every row of the centre's sheet, so the row numbers the issues quote (the Errors sheet, the errors
CSV, the ingest JSON) would no longer be the rows the centre sees; and a note written into a blank
row above the header would be read as the header when the corrected file comes back. The sheet
goes after the entries sheet, not before it, because the reader reads the sheet named `Entries` or
else the first visible sheet (`entries.intake.xlsx.choose_sheet`): put first, it would be read
instead of the centre's rows.

**Printing.** The entries sheet, the Errors sheet and the banner print on A4 landscape, one page
wide, as many pages tall as needed, with the header row repeated on every page (a print area the
centre set is cleared, so the status column prints too).

**Cost.** The marking costs what the issues need, not what the file holds: only the cells of
issues, the status cells of rows with an issue and a bounded number of others (the status header,
the banner, the Errors sheet's lines) are written or styled, and each distinct style is built once
and then shared; the header row is read once, only when a header issue names a label. The one
exception is an accepted file's green `OK`, one cell per clean row. A file rejected for its header
(no row issues) has no data row touched at all. What remains in
proportion to the file is openpyxl itself: loading the centre's workbook (read-write, in this
process), finding its last used column, and saving it (with `make_text_safe` over every cell);
for a CSV upload, building the workbook from its rows.

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
from collections.abc import Callable, Iterable
from copy import copy
from functools import partial
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from entries.core.rules import Issue
from entries.core.status import ACCEPTED
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.intake.xlsx import column_index
from entries.reports.files import active_sheet, legal_text, put, write_csv_atomically, write_xlsx_atomically

STATUS_HEADER = "Entry status"
ERRORS_SHEET = "Errors"
ERRORS_SHEET_FALLBACK = "Errors (entries check)"
BANNER_SHEET = "Read me first"
BANNER_SHEET_FALLBACK = "Read me first (entries check)"
CSV_SHEET = "Entries"
ERRORS_COLUMNS = ("Row", "Column", "Code", "Severity", "Message", "Fix")
COMMENT_AUTHOR = "Entries check"
OK_TEXT = "OK"

# What the banner of a rejected file says. The quotation is the guide's own ("Spreadsheet
# validation", Making entries for Cambridge Technicals: a step-by-step guide for centres).
BANNER_TITLE = "Nothing from this file was entered"
GUIDE_QUOTE = (
    'As the guide for centres says: "Any errors will show up in red. You will need to correct these before your '
    'entries can be processed."'
)
# File-level problems written out on the banner; any more are on the Errors sheet.
BANNER_ISSUES = 20
STATUS_WIDTH = 60  # characters: the status column of a sheet with issue texts
BANNER_WIDTH = 100  # characters: fits A4 landscape at full size

# Excel's own "Bad", "Neutral" and "Good" cell styles, so the colours read as Excel users expect.
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
ERROR_FONT_COLOUR = "9C0006"
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
WARNING_FONT_COLOUR = "9C5700"
OK_FILL = PatternFill("solid", fgColor="C6EFCE")
OK_FONT_COLOUR = "006100"
WRAP = Alignment(wrap_text=True, vertical="top")

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
    status: str | None = None,
) -> tuple[Path, Path]:
    """Write `<stem>.annotated.xlsx` and `<stem>.errors.csv` into out_dir; return both paths.

    `source` is the upload; `file_format` "xlsx" or "csv" (what the reader found, not the file
    name). For xlsx, `sheet_name` is the sheet that was read (None: the active sheet) and
    `positions` maps template columns to 0-based sheet column indexes; for CSV both are ignored and
    the rows are laid out in TEMPLATE_COLUMNS order. `header_row` is the spreadsheet row of the
    header; `rows` the Intake's rows (int column `row` plus the template columns as text);
    `issues` every finding for the file. `status` is the file's status (docs/architecture.md §3);
    None decides from the issues (rejected when any is an error). out_dir is created if missing;
    each file is written under a temporary name and moved into place. Raises ValueError for a bad
    stem, an unknown format or sheet, merged ranges too large to load safely, or a sheet with no
    free column for the status.
    """
    if not stem or stem in (".", "..") or Path(stem).name != stem or "/" in stem or "\\" in stem:
        raise ValueError("stem must be a plain file name")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = sorted(issues, key=_issue_key)
    rejected = _is_rejected(status, ordered)

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
        # The template's columns; the optional Series column only when the CSV had one.
        laid_out = tuple(c for c in TEMPLATE_COLUMNS if c != "Series" or "Series" in positions)
        wb, ws = _csv_workbook(header_row, rows, laid_out)
        cell_positions = {c: i for i, c in enumerate(laid_out)}
    else:
        raise ValueError(f"unknown file format {file_format!r}")

    header_at = _row_number(header_row)
    status_col = _annotate(ws, header_at, cell_positions, rows, ordered, rejected=rejected)
    _print_on_a4(ws, header_at)
    errors_ws = _add_errors_sheet(wb, ordered)
    if rejected:
        banner = _add_banner(wb, ws, errors_ws.title, status_col, header_at, ordered, status)
        _open_on(wb, banner)
    # The loaded workbook may hold text beginning with '=' (or _xHHHH_) on any sheet: made safe
    # last, so it covers every cell written above as well.
    xlsx_path = out_dir / f"{stem}.annotated.xlsx"
    csv_path = out_dir / f"{stem}.errors.csv"
    write_xlsx_atomically(wb, xlsx_path)
    _write_errors_csv(csv_path, ordered)
    return xlsx_path, csv_path


def _is_rejected(status: str | None, issues: Iterable[Issue]) -> bool:
    """Whether nothing of the file was stored: its status says so, or (no status) it has an error."""
    if status is not None:
        return status not in ACCEPTED
    return any(i.severity == "error" for i in issues)


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
    """Make `ws` the sheet Excel opens on (unless it is hidden), and the only one selected."""
    if ws.sheet_state != "visible":
        return
    wb.active = ws
    # More than one selected tab opens Excel in [Group] mode, where typing edits every sheet.
    for sheet in wb.worksheets:
        for view in sheet.views.sheetView:
            view.tabSelected = sheet is ws


def _csv_workbook(header_row: int, rows: pd.DataFrame, laid_out: tuple[str, ...]) -> tuple[Workbook, Worksheet]:
    """A new workbook holding a CSV upload's rows: the `laid_out` template columns as its header,
    each entry at its own row."""
    wb = Workbook()
    ws = active_sheet(wb)
    ws.title = CSV_SHEET
    # The header goes on the CSV's own header row (1 unless blank lines came first), so every row
    # number in a message points at the same row here as in the centre's file.
    header_at = header_row if 1 <= header_row < MAX_ROW else 1
    bold = Font(bold=True)
    for col, name in enumerate(laid_out, start=1):
        put(ws, header_at, col, name).font = bold
        ws.column_dimensions[get_column_letter(col)].width = max(len(name) + 4, 12)
    columns = [c for c in laid_out if c in rows.columns]
    for record in rows[["row", *columns]].itertuples(index=False, name=None):
        row = _row_number(record[0])
        if row is None:
            continue
        for column, value in zip(columns, record[1:], strict=False):
            text = _text(value)
            if text:
                # Text format, so a centre that edits this copy keeps its leading zeros.
                put(ws, row, laid_out.index(column) + 1, text).number_format = "@"
    ws.freeze_panes = ws.cell(row=header_at + 1, column=1).coordinate
    return wb, ws


class _Styles:
    """Each distinct (cell style, change) pair worked out once, then shared by copying its index array.

    Colouring a cell through openpyxl's style setters copies and hashes a fill and a font every
    time; a file with thousands of issues on cells of a few styles needs only a few of those.
    """

    def __init__(self) -> None:
        self._done: dict[tuple, object] = {}

    def apply(self, cell: Cell | MergedCell, key: str, change: Callable[[Cell | MergedCell], None]) -> None:
        """Apply `change` (named `key`) to `cell`, reusing the result for cells of the same style."""
        style = cell._style  # type: ignore[union-attr]  # openpyxl's StyleArray (or None), not in the stubs
        seen = (tuple(style) if style is not None else (), key)
        done = self._done.get(seen)
        if done is None:
            change(cell)
            self._done[seen] = copy(cell._style)  # type: ignore[union-attr]
        else:
            cell._style = copy(done)  # type: ignore[union-attr]

    def severity(self, cell: Cell | MergedCell, severity: str, *, wrap: bool = False) -> None:
        """Fill and font colour of `severity` (keeping the cell's other font settings), wrapped if asked."""

        def change(target: Cell | MergedCell) -> None:
            _style(target, severity)
            if wrap:
                target.alignment = WRAP

        self.apply(cell, f"{severity}{'/wrap' if wrap else ''}", change)


def _annotate(
    ws: Worksheet,
    header_at: int | None,
    positions: dict[str, int],
    rows: pd.DataFrame,
    issues: list[Issue],
    *,
    rejected: bool,
) -> int:
    """Colour and comment the cells in `issues`, and add the status column to `ws`; return its index.

    `positions` are 0-based sheet columns; `issues` are already in report order. Only the cells of
    issues and the status cells of their rows are touched, plus, in an accepted file, an `OK` on
    each row without an issue.
    """
    on_cell: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    on_row: dict[int, list[Issue]] = defaultdict(list)  # shown on the status cell
    by_row: dict[int, list[Issue]] = defaultdict(list)  # everything on the row, for the status
    status_col = _last_used_column(ws, positions) + 1
    if status_col > MAX_COLUMN:
        raise ValueError("the sheet has no free column for the entry status")
    labels = _header_labels(ws, header_at, status_col, issues, positions)
    for item in issues:
        row = _row_number(item.row)
        if row is None:
            continue  # a file-level issue: the banner and the Errors sheet
        by_row[row].append(item)
        position = positions.get(item.column) if item.column is not None else None
        if position is not None and 0 <= position < MAX_COLUMN:
            on_cell[(row, position + 1)].append(item)
        elif row == header_at and item.column is not None and re.fullmatch(r"[A-Z]{1,3}", item.column):
            # A heading that is no template column is named by its letter (HDR_02): on that cell.
            on_cell[(row, column_index(item.column) + 1)].append(item)
        elif row == header_at and item.column in labels:
            # A header issue about a label that is no template column (HDR_02): on that label.
            for col in labels[item.column]:
                on_cell[(row, col)].append(item)
        else:
            on_row[row].append(item)

    styles = _Styles()
    # A cell inside a merged range cannot hold a comment, and Excel shows the range in its top-left
    # cell's format: issues on any of its cells are marked on that anchor cell.
    on_target: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    for place, found in on_cell.items():
        on_target[_anchor(ws, place)].extend(found)
    for (row, col), found in on_target.items():
        cell = ws.cell(row=row, column=col)
        styles.severity(cell, _worst(found) or "warning")
        _set_comment(cell, found)

    if header_at is not None:
        _bold(put(ws, header_at, status_col, STATUS_HEADER))
    with_text = False
    for row in sorted(by_row):
        found = by_row[row]
        worst = _worst(found) or "warning"
        if row == header_at:
            # Keep the header's text; header-row findings show in its colour and comment, and
            # word for word on the banner and the Errors sheet.
            cell = ws.cell(row=row, column=status_col)
            styles.severity(cell, worst)
        else:
            text = _status_text(found)
            cell = put(ws, row, status_col, text)
            styles.severity(cell, worst, wrap=True)
            _fit_height(ws, row, _lines(text, STATUS_WIDTH))
            with_text = True
        if on_row.get(row):
            _set_comment(cell, on_row[row])
    if not rejected:
        # Stored: every other row of the file was entered, and says so.
        clean = sorted({r for r in (_row_number(v) for v in rows["row"].tolist()) if r is not None} - set(by_row))
        clean = [r for r in clean if r != header_at]
        if clean:
            first = put(ws, clean[0], status_col, OK_TEXT)
            styles.severity(first, "ok")
            ok_style = first._style  # type: ignore[attr-defined]  # openpyxl's StyleArray, not in the stubs
            for row in clean[1:]:
                put(ws, row, status_col, OK_TEXT)._style = copy(ok_style)  # type: ignore[attr-defined]
    ws.column_dimensions[get_column_letter(status_col)].width = STATUS_WIDTH if with_text else 28
    return status_col


def _header_labels(
    ws: Worksheet, header_at: int | None, status_col: int, issues: list[Issue], positions: dict[str, int]
) -> dict[str, list[int]]:
    """The header row's labels (stripped text) and their columns, when a header issue names a label
    that is no template column; else nothing. Reads one row, at most up to the status column."""
    if header_at is None:
        return {}
    wanted = {i.column for i in issues if i.column and i.column not in positions and _row_number(i.row) == header_at}
    if not wanted:
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    for col in range(1, status_col):
        cell = ws._cells.get((header_at, col))
        if cell is not None and cell.value is not None and str(cell.value).strip() in wanted:
            found[str(cell.value).strip()].append(col)
    return found


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


def _by_severity(found: Iterable[Issue]) -> list[Issue]:
    """Errors first, then by code, row and message."""
    return sorted(found, key=lambda i: (_SEVERITY_ORDER.get(i.severity, 2), i.code, i.row or 0, i.message))


def _set_comment(cell: Cell | MergedCell, found: list[Issue]) -> None:
    """Comment `cell` with each issue's code, severity, message and fix (errors first).

    A comment the centre left on the cell is kept below ours rather than lost.
    """
    ordered = _by_severity(found)
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
    """A row's status: `OK` when it has no issue; else a first line `Error: CODE, CODE; Warning: CODE`
    and then one line per issue (errors first): `CODE (column): message Fix: fix`."""
    errors = _distinct(i.code for i in found if i.severity == "error")
    warns = _distinct(i.code for i in found if i.severity != "error")
    parts = []
    if errors:
        parts.append("Error: " + ", ".join(errors))
    if warns:
        parts.append("Warning: " + ", ".join(warns))
    if not parts:
        return OK_TEXT
    lines = _distinct(_issue_line(i, with_row=False) for i in _by_severity(found))
    return "\n".join(["; ".join(parts), *lines])


def _issue_line(item: Issue, *, with_row: bool) -> str:
    """One issue in words: `CODE (column): message Fix: fix`, with `row N` first if asked."""
    where = [f"row {item.row}"] if with_row and item.row is not None else []
    if item.column:
        where.append(str(item.column))
    place = f" ({', '.join(where)})" if where else ""
    return f"{item.code}{place}: {item.message} Fix: {item.fix}"


def _distinct(codes: Iterable[str]) -> list[str]:
    """Texts in first-seen order, each once."""
    return list(dict.fromkeys(codes))


def _free_title(wb: Workbook, title: str, fallback: str) -> str:
    """`title`, or `fallback` (numbered if need be) when the workbook has a sheet of that name."""
    taken = {name.casefold() for name in wb.sheetnames}  # Excel compares sheet names caselessly
    n = 1
    while title.casefold() in taken:
        title = fallback if n == 1 else f"{fallback} {n}"
        n += 1
    return title


def _print_on_a4(ws: Worksheet, title_row: int | None) -> None:
    """A4 landscape, one page wide and as many tall as needed, `title_row` repeated on each page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = None  # a centre's own print area would leave the status column off the page
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"


def _add_errors_sheet(wb: Workbook, issues: list[Issue]) -> Worksheet:
    """Append the issues sheet: one line per issue, bold frozen header, autofilter, printable."""
    ws = wb.create_sheet(_free_title(wb, ERRORS_SHEET, ERRORS_SHEET_FALLBACK))
    styles = _Styles()
    for col, name in enumerate(ERRORS_COLUMNS, start=1):
        styles.apply(put(ws, 1, col, name), "bold", _bold)
    widths = (8, 20, 10, 10, 60, 60)
    for row, item in enumerate(issues, start=2):
        if item.row is not None:
            styles.apply(ws.cell(row=row, column=1, value=int(item.row)), "wrap", _wrap)
        for col, value in enumerate((item.column, item.code, item.severity, item.message, item.fix), start=2):
            if value:
                cell = put(ws, row, col, str(value))
                styles.apply(cell, "wrap", _wrap)  # top-aligned and wrapped, so each prints whole
        _fit_height(
            ws,
            row,
            max(
                _lines(str(v or ""), w)
                for v, w in zip((item.column, item.message, item.fix), (20, 60, 60), strict=True)
            ),
        )
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:F{len(issues) + 1}"
    for letter, width in zip("ABCDEF", widths, strict=True):
        ws.column_dimensions[letter].width = width
    _print_on_a4(ws, 1)
    return ws


def _wrap(cell: Cell | MergedCell) -> None:
    cell.alignment = WRAP


def _add_banner(
    wb: Workbook,
    entries: Worksheet,
    errors_title: str,
    status_col: int,
    header_at: int | None,
    issues: list[Issue],
    status: str | None,
) -> Worksheet:
    """The `Read me first` sheet of a rejected file, right after the entries sheet; returned.

    Plain words first (nothing was entered, what to do), then the counts, then each problem with
    the file as a whole (no row, or on the header row) word for word with its fix.
    """
    ws = wb.create_sheet(
        _free_title(wb, BANNER_SHEET, BANNER_SHEET_FALLBACK), index=wb.sheetnames.index(entries.title) + 1
    )
    ws.column_dimensions["A"].width = BANNER_WIDTH
    whole_file = [i for i in issues if _row_number(i.row) is None or i.row == header_at]
    file_errors = sum(1 for i in whole_file if i.severity == "error")
    row_errors = [i for i in issues if i.severity == "error" and i not in whole_file]
    error_rows = {i.row for i in row_errors}
    warnings_count = sum(1 for i in issues if i.severity != "error")
    to_correct = [
        *(["the problems with the file as a whole listed below"] if file_errors else []),
        *([f'the cells shown in red on the sheet "{entries.title}"'] if row_errors or not file_errors else []),
    ]
    counts = [
        *([f"{_count(file_errors, 'error')} with the file as a whole"] if file_errors else []),
        *([f"{_count(len(row_errors), 'error')} on {_count(len(error_rows), 'row')}"] if row_errors else []),
        _count(warnings_count, "warning"),
    ]
    status_letter = get_column_letter(status_col)
    lines: list[tuple[str, str]] = [  # (text, kind)
        (BANNER_TITLE, "title"),
        (
            "This file was rejected: none of its rows has been entered, not even the rows without a problem."
            + (f" File status: {status}." if status else ""),
            "bold",
        ),
        (f"What to do: correct {' and '.join(to_correct)}, then upload the whole file again.", "bold"),
        (GUIDE_QUOTE, "text"),
        (
            f'Each row with a problem says what is wrong and how to fix it in its "{STATUS_HEADER}" cell '
            f'(column {status_letter}); the sheet "{errors_title}" lists every problem with its row, column, '
            "code, message and fix.",
            "text",
        ),
        (
            "; ".join(counts)
            + ". Errors are red and stop the file; warnings are amber and do not stop it on their own.",
            "text",
        ),
    ]
    if whole_file:
        lines.append(("Problems with the file as a whole (correct these first):", "bold"))
        for item in whole_file[:BANNER_ISSUES]:
            lines.append((_issue_line(item, with_row=True), item.severity))
        if len(whole_file) > BANNER_ISSUES:
            lines.append((f'{len(whole_file) - BANNER_ISSUES} more on the sheet "{errors_title}".', "text"))
    lines += [
        (
            f'This sheet and the sheet "{errors_title}" are not read when you upload the file: you may delete '
            "them first.",
            "text",
        ),
        ("If you cannot see what to change, call the OCR Customer Contact Centre, quoting your centre number.", "text"),
    ]
    styles = _Styles()
    looks: dict[str, Callable[[Cell | MergedCell], None]] = {
        "title": _banner_title,
        "bold": _banner_bold,
        "text": _wrap,
        "error": partial(_severity_wrapped, "error"),
        "warning": partial(_severity_wrapped, "warning"),
    }
    for row, (text, kind) in enumerate(lines, start=1):
        styles.apply(put(ws, row, 1, text), kind, looks[kind])
        _fit_height(ws, row, _lines(text, BANNER_WIDTH))
    ws.row_dimensions[1].height = 30
    _print_on_a4(ws, None)
    return ws


def _severity_wrapped(severity: str, cell: Cell | MergedCell) -> None:
    _style(cell, severity)
    cell.alignment = WRAP


def _banner_title(cell: Cell | MergedCell) -> None:
    _bold(cell, size=16, color=ERROR_FONT_COLOUR)
    cell.fill = copy(ERROR_FILL)
    cell.alignment = Alignment(vertical="center")


def _banner_bold(cell: Cell | MergedCell) -> None:
    _bold(cell)
    cell.alignment = WRAP


def _bold(cell: Cell | MergedCell, **settings: object) -> None:
    """The cell's font (the workbook's default on a new cell), bold, with `settings` changed."""
    font = copy(cell.font)
    font.bold = True
    for name, value in settings.items():
        setattr(font, name, value)
    cell.font = font  # type: ignore[assignment]  # a copied StyleProxy is the Font openpyxl stores


def _lines(text: str, width: int) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (a generous guess)."""
    return sum(max(1, math.ceil(len(line) / max(width - 2, 1))) for line in text.split("\n"))


def _fit_height(ws: Worksheet, row: int, lines: int) -> None:
    """Make `row` tall enough for `lines` lines of wrapped text (never lower than it is).

    Excel and LibreOffice do not grow a row for wrapped text in a saved file, so the height is set;
    only rows holding such text are touched.
    """
    if lines <= 1:
        return
    height = min(15.0 * lines + 3, 409.0)  # points; 409 is Excel's tallest row
    dimension = ws.row_dimensions[row]
    if dimension.height is None or dimension.height < height:
        dimension.height = height


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


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
