"""The issues placed on the centre's sheet: each cell in an issue coloured and commented, and the
`Entry status` column right of the data saying what is wrong on each row (see
`entries.reports.annotate` for what the centre sees).

In: the worksheet, the header row, the template columns' sheet positions, the Intake's rows and
the issues in report order. Out: the marked sheet (changed in place) and the status column's index.
Only the cells of issues, the cells and status cells of their rows (top-aligned, so a tall row's
values stand level with its status), the header row (wrapped) and (in an accepted file) the `OK`
of each clean row are touched; the columns are made as wide as their values
(`entries.reports.annotate_print.fit_columns`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from copy import copy

import pandas as pd
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from entries.core.rules import Issue
from entries.intake.column_letters import column_index
from entries.reports.annotate_print import fit_columns
from entries.reports.annotate_styles import SharedStyles, bold, fit_height, top_wrapped, wrapped_lines
from entries.reports.files import legal_text, put

STATUS_HEADER = "Entry status"
COMMENT_AUTHOR = "Entries check"
OK_TEXT = "OK"
STATUS_WIDTH = 44  # characters: the status column of a sheet with issue texts
MAX_ROW = 1_048_576  # Excel's sheet size
MAX_COLUMN = 16_384
_SEVERITY_ORDER = {"error": 0, "warning": 1}


def mark_issues(
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
    issues, the cells and status cells of their rows and the header row are touched, plus, in an
    accepted file, an `OK` on each row without an issue; each column is made as wide as its values.
    """
    on_cell: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    on_row: dict[int, list[Issue]] = defaultdict(list)  # shown on the status cell
    by_row: dict[int, list[Issue]] = defaultdict(list)  # everything on the row, for the status
    status_col = _last_used_column(ws, positions) + 1
    if status_col > MAX_COLUMN:
        raise ValueError("the sheet has no free column for the entry status")
    labels = _header_labels(ws, header_at, status_col, issues, positions)
    fit_columns(ws, status_col - 1, header_at)
    for item in issues:
        row = row_number(item.row)
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

    styles = SharedStyles()
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
        bold(put(ws, header_at, status_col, STATUS_HEADER))
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
            # The row is made tall for its status: its own cells go to the top, level with the
            # status's first line, so they do not sit at the bottom beside the next row's marks.
            fit_height(ws, row, max(wrapped_lines(text, STATUS_WIDTH), _align_top(ws, row, status_col, styles)))
            with_text = True
        if on_row.get(row):
            _set_comment(cell, on_row[row])
    if not rejected:
        # Stored: every other row of the file was entered, and says so.
        clean = sorted({r for r in (row_number(v) for v in rows["row"].tolist()) if r is not None} - set(by_row))
        clean = [r for r in clean if r != header_at]
        if clean:
            first = put(ws, clean[0], status_col, OK_TEXT)
            styles.severity(first, "ok")
            ok_style = first._style  # type: ignore[attr-defined]  # openpyxl's StyleArray, not in the stubs
            for row in clean[1:]:
                put(ws, row, status_col, OK_TEXT)._style = copy(ok_style)  # type: ignore[attr-defined]
    ws.column_dimensions[get_column_letter(status_col)].width = STATUS_WIDTH if with_text else 28
    return status_col


def _align_top(ws: Worksheet, row: int, status_col: int, styles: SharedStyles) -> int:
    """Top-align and wrap the cells of `row` left of the status (each keeps its value and its other
    formatting); return how many lines the longest of them wraps to at its column's width."""
    lines = 1
    for col in range(1, status_col):
        cell = ws._cells.get((row, col))
        if cell is None or cell.value is None or isinstance(cell, MergedCell):
            continue
        styles.apply(cell, "top", top_wrapped)
        if isinstance(cell.value, str):
            width = ws.column_dimensions[get_column_letter(col)].width or 13
            lines = max(lines, wrapped_lines(cell.value, int(width)))
    return lines


def _header_labels(
    ws: Worksheet, header_at: int | None, status_col: int, issues: list[Issue], positions: dict[str, int]
) -> dict[str, list[int]]:
    """The header row's labels (stripped text) and their columns, when a header issue names a label
    that is no template column; else nothing. Reads one row, at most up to the status column."""
    if header_at is None:
        return {}
    wanted = {i.column for i in issues if i.column and i.column not in positions and row_number(i.row) == header_at}
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
    lines = _distinct(issue_line(i, with_row=False) for i in _by_severity(found))
    return "\n".join(["; ".join(parts), *lines])


def issue_line(item: Issue, *, with_row: bool) -> str:
    """One issue in words: `CODE (column): message Fix: fix`, with `row N` first if asked."""
    where = [f"row {item.row}"] if with_row and item.row is not None else []
    if item.column:
        where.append(str(item.column))
    place = f" ({', '.join(where)})" if where else ""
    return f"{item.code}{place}: {item.message} Fix: {item.fix}"


def _distinct(codes: Iterable[str]) -> list[str]:
    """Texts in first-seen order, each once."""
    return list(dict.fromkeys(codes))


def row_number(value: object) -> int | None:
    """A usable spreadsheet row number (1 to Excel's last row), or None."""
    try:
        row = int(str(value))
    except (TypeError, ValueError):
        return None
    return row if 1 <= row <= MAX_ROW else None
