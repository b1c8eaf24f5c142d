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
else the first visible sheet (`entries.intake.xlsx_package.choose_sheet`): put first, it would be read
instead of the centre's rows.

**Printing** (`entries.reports.annotate_print`). Each sheet prints on A4, landscape when it is
wider than a portrait page (the entries sheet always is), fitted to one page wide only, never to
a whole page (a long file would shrink to 5 pt), as many pages tall as needed, with the header row
repeated on every page, grid lines, narrow margins and a footer giving the file's reference (the
claim number or the file's name, never personal data) and `Page N of M`; a print area the centre
set is cleared, so the status column prints too. Each column of the entries sheet is made as wide
as its widest value (capped), its heading wrapping at its words, so the template's 16 columns and
the status column print at more than half of full size (about 56% where LibreOffice lays Calibri
out in the wider DejaVu Sans, as on a server without Microsoft's fonts; more where it has them).
A row with an issue is made tall enough for its status, and all its cells are put at the top of
the row and wrapped, so its values stand level with the first line of its status and each red
block reads as the row it is on, not the one above.

**Cost.** The marking costs what the issues need, not what the file holds: only the cells of
issues, the status cells of rows with an issue and a bounded number of others (the status header,
the banner, the Errors sheet's lines), the other cells of rows with an issue (top-aligned) and
the header row's labels (wrapped) are written or styled, and each distinct style is built once
and then shared; the header row is read once more only when a header issue names a label. The one
exception is an accepted file's green `OK`, one cell per clean row. A file rejected for its header
(no row issues) has no data row touched at all. What remains in
proportion to the file is openpyxl itself: loading the centre's workbook (read-write, in this
process), dropping its hyperlinks (a look at every cell), finding its last used column, measuring
each column's widest value (a look at every value, to set the column widths), and saving
it (with `make_text_safe` over every cell, then the saved package checked); for a CSV upload,
building the workbook from its rows.

**Nothing active handed back.** The copy of the centre's workbook keeps its values, never its
hyperlinks (a cell that showed one keeps its text), external links, data connections or macros, and
is always a plain `.xlsx`; the saved package is checked so before it is moved into place, and a copy
that fails the check raises ValueError (`entries.reports.annotate_safety`).

Both hold personal data, so nothing here logs or prints. Output security (docs/hostile-inputs.md): every
text goes into the xlsx as a string cell, never a formula, and a CSV text cell that a spreadsheet
would evaluate (leading `= + - @`, tab, CR, NUL) gets a leading apostrophe.

Only call this for a file `entries.reader.read_upload` accepted: openpyxl loads the whole workbook
in this process, without the reader's size limits.

**Where each part is.** This module decides and orders; the work is done by
`entries.reports.annotate_sources` (the workbook the marks go on: the centre's, or one built from
a CSV), `annotate_cells` (issues placed on cells and the status column), `annotate_sheets` (the
Errors sheet and the banner), `annotate_styles` (colours, row heights), `annotate_print` (page
set-up, footer, column widths) and
`annotate_safety` (links and macros dropped, the saved package checked).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from entries.core.rules import Issue
from entries.core.status import ACCEPTED
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.reports.annotate_cells import mark_issues, row_number
from entries.reports.annotate_print import print_on_a4
from entries.reports.annotate_safety import check_package
from entries.reports.annotate_sheets import ERRORS_COLUMNS, add_banner, add_errors_sheet
from entries.reports.annotate_sources import csv_workbook, load_centre_sheet
from entries.reports.files import write_csv_atomically, write_xlsx_atomically


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
    reference: str | None = None,
) -> tuple[Path, Path]:
    """Write `<stem>.annotated.xlsx` and `<stem>.errors.csv` into out_dir; return both paths.

    `source` is the upload; `file_format` "xlsx" or "csv" (what the reader found, not the file
    name). For xlsx, `sheet_name` is the sheet that was read (None: the active sheet) and
    `positions` maps template columns to 0-based sheet column indexes; for CSV both are ignored and
    the rows are laid out in TEMPLATE_COLUMNS order. `header_row` is the spreadsheet row of the
    header; `rows` the Intake's rows (int column `row` plus the template columns as text);
    `issues` every finding for the file. `status` is the file's status (docs/architecture.md §3);
    None decides from the issues (rejected when any is an error). `reference` is printed in every
    page's footer (the claim number or the file's name, never personal data); None prints `stem`.
    out_dir is created if missing;
    each file is written under a temporary name and moved into place. Raises ValueError for a bad
    stem, an unknown format or sheet, merged ranges too large to load safely, a sheet with no
    free column for the status, or a saved copy that still holds a link or a macro.
    """
    if not stem or stem in (".", "..") or Path(stem).name != stem or "/" in stem or "\\" in stem:
        raise ValueError("stem must be a plain file name")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = sorted(issues, key=_issue_key)
    rejected = _is_rejected(status, ordered)

    if file_format == "xlsx":
        wb, ws = load_centre_sheet(Path(source), sheet_name)
        cell_positions = {c: p for c, p in positions.items() if c in TEMPLATE_COLUMNS}
        _open_on(wb, ws)
    elif file_format in ("csv", "xls", "xlsb", "ods"):
        # Formats openpyxl cannot edit get a workbook rebuilt from their rows, as a CSV does.
        # The template's columns; the optional Series column only when the file had one.
        laid_out = tuple(c for c in TEMPLATE_COLUMNS if c != "Series" or "Series" in positions)
        wb, ws = csv_workbook(header_row, rows, laid_out)
        cell_positions = {c: i for i, c in enumerate(laid_out)}
    else:
        raise ValueError(f"unknown file format {file_format!r}")

    header_at = row_number(header_row)
    status_col = mark_issues(ws, header_at, cell_positions, rows, ordered, rejected=rejected)
    footer = stem if reference is None else reference
    print_on_a4(ws, header_at, status_col, footer)
    errors_ws = add_errors_sheet(wb, ordered)
    print_on_a4(errors_ws, 1, len(ERRORS_COLUMNS), footer)
    if rejected:
        banner = add_banner(wb, ws, errors_ws.title, status_col, header_at, ordered, status)
        print_on_a4(banner, None, 1, footer)
        _open_on(wb, banner)
    xlsx_path = out_dir / f"{stem}.annotated.xlsx"
    csv_path = out_dir / f"{stem}.errors.csv"
    _save_checked(wb, xlsx_path)
    _write_errors_csv(csv_path, ordered)
    return xlsx_path, csv_path


def _save_checked(wb: Workbook, path: Path) -> None:
    """Save `wb` at `path` once its package is checked plain (`annotate_safety.check_package`);
    ValueError, and nothing at `path`, when it is not."""
    # Saved under a temporary name first, so a copy that fails the check is never at `path`, not even
    # for a moment; the name is one `entries.reports.files.sweep_temporary` removes, should this be killed.
    checked = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        # The loaded workbook may hold text beginning with '=' (or _xHHHH_) on any sheet: made safe
        # as it is saved, so that covers every cell written before as well.
        write_xlsx_atomically(wb, checked)
        check_package(checked)
        os.replace(checked, path)
    finally:
        checked.unlink(missing_ok=True)


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


def _open_on(wb: Workbook, ws: Worksheet) -> None:
    """Make `ws` the sheet Excel opens on (unless it is hidden), and the only one selected."""
    if ws.sheet_state != "visible":
        return
    wb.active = ws
    # More than one selected tab opens Excel in [Group] mode, where typing edits every sheet.
    for sheet in wb.worksheets:
        for view in sheet.views.sheetView:
            view.tabSelected = sheet is ws


def _write_errors_csv(path: Path, issues: list[Issue]) -> None:
    """The issues as CSV (UTF-8 with BOM, CRLF, RFC 4180), text cells escaped against formulas."""
    write_csv_atomically(
        ([item.row, item.column, item.code, item.severity, item.message, item.fix] for item in issues),
        ERRORS_COLUMNS,
        path,
    )
