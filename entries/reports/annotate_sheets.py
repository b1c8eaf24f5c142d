"""The two sheets the annotation adds to the centre's workbook: `Errors`, every issue on a line of
its own, and, for a rejected file, the `Read me first` banner saying in plain words that nothing
was entered and what to do (see `entries.reports.annotate` for why the banner is a sheet of its own
and where it goes).

In: the workbook, the issues in report order (and, for the banner, the entries sheet, its header
row and status column, and the file's status). Out: the new sheet, already in the workbook.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from functools import partial

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from entries.core.rules import Issue
from entries.reports.annotate_cells import STATUS_HEADER, issue_line, row_number
from entries.reports.annotate_styles import (
    ERROR_FILL,
    ERROR_FONT_COLOUR,
    WRAP,
    SharedStyles,
    bold,
    fit_height,
    severity_colours,
    wrap_text,
    wrapped_lines,
)
from entries.reports.files import put

ERRORS_SHEET = "Errors"
ERRORS_SHEET_FALLBACK = "Errors (entries check)"
BANNER_SHEET = "Read me first"
BANNER_SHEET_FALLBACK = "Read me first (entries check)"
ERRORS_COLUMNS = ("Row", "Column", "Code", "Severity", "Message", "Fix")

# What the banner of a rejected file says. The quotation is the guide's own ("Spreadsheet
# validation", Making entries for Cambridge Technicals: a step-by-step guide for centres).
BANNER_TITLE = "Nothing from this file was entered"
GUIDE_QUOTE = (
    'As the guide for centres says: "Any errors will show up in red. You will need to correct these before your '
    'entries can be processed."'
)
# File-level problems written out on the banner; any more are on the Errors sheet.
BANNER_ISSUES = 20
BANNER_WIDTH = 100  # characters: fits A4 landscape at full size


def add_errors_sheet(wb: Workbook, issues: list[Issue]) -> Worksheet:
    """Append the issues sheet: one line per issue, bold frozen header, autofilter, wrapped to print."""
    ws = wb.create_sheet(_free_title(wb, ERRORS_SHEET, ERRORS_SHEET_FALLBACK))
    styles = SharedStyles()
    for col, name in enumerate(ERRORS_COLUMNS, start=1):
        styles.apply(put(ws, 1, col, name), "bold", bold)
    widths = (8, 20, 10, 10, 60, 60)
    for row, item in enumerate(issues, start=2):
        if item.row is not None:
            styles.apply(ws.cell(row=row, column=1, value=int(item.row)), "wrap", wrap_text)
        for col, value in enumerate((item.column, item.code, item.severity, item.message, item.fix), start=2):
            if value:
                cell = put(ws, row, col, str(value))
                styles.apply(cell, "wrap", wrap_text)  # top-aligned and wrapped, so each prints whole
        fit_height(
            ws,
            row,
            max(
                wrapped_lines(str(v or ""), w)
                for v, w in zip((item.column, item.message, item.fix), (20, 60, 60), strict=True)
            ),
        )
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:F{len(issues) + 1}"
    for letter, width in zip("ABCDEF", widths, strict=True):
        ws.column_dimensions[letter].width = width
    return ws


def add_banner(
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
    whole_file = [i for i in issues if row_number(i.row) is None or i.row == header_at]
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
            lines.append((issue_line(item, with_row=True), item.severity))
        if len(whole_file) > BANNER_ISSUES:
            lines.append((f'{len(whole_file) - BANNER_ISSUES} more on the sheet "{errors_title}".', "text"))
    lines += [
        (
            f'This sheet and the sheet "{errors_title}" are not read when you upload the file, so you may '
            "delete them first.",
            "text",
        ),
        ("If you cannot see what to change, call the OCR Customer Contact Centre, quoting your centre number.", "text"),
    ]
    styles = SharedStyles()
    looks: dict[str, Callable[[Cell | MergedCell], None]] = {
        "title": _banner_title,
        "bold": _banner_bold,
        "text": wrap_text,
        "error": partial(_severity_wrapped, "error"),
        "warning": partial(_severity_wrapped, "warning"),
    }
    for row, (text, kind) in enumerate(lines, start=1):
        styles.apply(put(ws, row, 1, text), kind, looks[kind])
        fit_height(ws, row, wrapped_lines(text, BANNER_WIDTH))
    ws.row_dimensions[1].height = 30
    return ws


def _severity_wrapped(severity: str, cell: Cell | MergedCell) -> None:
    severity_colours(cell, severity)
    cell.alignment = WRAP


def _banner_title(cell: Cell | MergedCell) -> None:
    bold(cell, size=16, color=ERROR_FONT_COLOUR)
    cell.fill = copy(ERROR_FILL)
    cell.alignment = Alignment(vertical="center")


def _banner_bold(cell: Cell | MergedCell) -> None:
    bold(cell)
    cell.alignment = WRAP


def _free_title(wb: Workbook, title: str, fallback: str) -> str:
    """`title`, or `fallback` (numbered if need be) when the workbook has a sheet of that name."""
    taken = {name.casefold() for name in wb.sheetnames}  # Excel compares sheet names caselessly
    n = 1
    while title.casefold() in taken:
        title = fallback if n == 1 else f"{fallback} {n}"
        n += 1
    return title


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
