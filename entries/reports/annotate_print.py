"""How the annotated workbook prints: A4, one page wide and as many tall as the rows need, the
header row on every page, a footer with the page number and the file's reference, and columns
as wide as what they hold (capped), so a centre printing its rejected file reads it at a size it
can read: the template's 16 columns and the status column print on A4 landscape at more than half
of full size (about 56% in LibreOffice without Calibri, which lays the sheet out in the wider
DejaVu Sans), not at 5 pt.

In: a worksheet (and its header row, last printed column, the file's reference). Out: the sheet's
page set-up and column widths, changed in place. `fit_columns` reads every cell's value once (to
measure it) and changes only the widths of the columns and the header row's wrapping and height;
no value is read for anything else, and none is written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from copy import copy

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from entries.reports.annotate_styles import SharedStyles, fit_height, wrapped_lines

MIN_WIDTH = 5  # characters: a column of one-letter values still shows its heading's first word
MAX_WIDTH = 30  # characters: a long value wraps (rows with an issue) rather than shrink the page
PADDING = 1.5  # characters beside the widest value, so it is not cut at the cell's edge
DEFAULT_WIDTH = 8.43  # Excel's width of a column the sheet gives none
# Inches. Narrower than Excel's default (0.7 / 0.75), so more of the page is the sheet; wide
# enough for any printer's unprintable edge and for the footer.
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.7, "header": 0.3, "footer": 0.3}
A4_INCHES = (8.27, 11.69)
PIXELS_PER_INCH = 96
FOOTER_REFERENCE_CHARS = 100  # Excel keeps 255 characters of a footer: the reference is cut well short of it
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def fit_columns(ws: Worksheet, last_col: int, header_at: int | None) -> None:
    """Make columns 1..`last_col` as wide as their widest value (from MIN_WIDTH to MAX_WIDTH), the
    header row's labels wrapping at their words when they are wider than what is under them.

    Hidden columns stay hidden; a value merged across columns is not measured (it spans several).
    """
    _one_column_each(ws, last_col)
    widest: dict[int, float] = defaultdict(float)
    labels: dict[int, str] = {}
    spanning = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges if r.max_col > r.min_col}
    for (row, col), cell in ws._cells.items():
        if col > last_col or cell.value is None or isinstance(cell, MergedCell) or (row, col) in spanning:
            continue
        if row == header_at:
            labels[col] = str(cell.value).strip()
        else:
            widest[col] = max(widest[col], _shown_length(cell.value))
    for col in range(1, last_col + 1):
        dimension = ws.column_dimensions[get_column_letter(col)]
        if dimension.hidden:
            continue
        label = labels.get(col, "")
        # A heading wraps at its words ("Candidate" over "Number"): its longest word must fit, a
        # fifth wider as headings are often bold. Each character more is one less of the page.
        heading = max(map(len, label.split()), default=0)
        width = max(widest[col], heading * 1.2) + PADDING
        dimension.width = round(min(max(width, MIN_WIDTH), MAX_WIDTH), 1)
    if header_at is not None and labels:
        _wrap_header(ws, header_at, labels)


def _one_column_each(ws: Worksheet, last_col: int) -> None:
    """Split each of the sheet's column settings that spans several of columns 1..`last_col`
    (`<col min=2 max=4>`) into one per column, each keeping its hidden state and style, so each
    column can be given its own width; the part right of `last_col` stays one setting."""
    for dimension in list(ws.column_dimensions.values()):
        low, high = dimension.min, dimension.max
        if not low or not high or high <= low or low > last_col:
            continue
        for col in range(low + 1, min(high, last_col + 1) + 1):
            part = copy(dimension)
            part.index = get_column_letter(col)
            part.min, part.max = col, (high if col == last_col + 1 else col)
            ws.column_dimensions[part.index] = part
        dimension.max = low


def _wrap_header(ws: Worksheet, header_at: int, labels: dict[int, str]) -> None:
    """Wrap the header row's labels (their own alignment otherwise kept) and make the row tall enough."""
    styles = SharedStyles()
    for col in labels:
        cell = ws.cell(row=header_at, column=col)
        styles.apply(cell, "wrap", _wrapped)
    fit_height(
        ws,
        header_at,
        max(wrapped_lines(label, int(_width(ws, col) / 1.2)) for col, label in labels.items()),
    )


def _wrapped(cell: Cell | MergedCell) -> None:
    own = cell.alignment
    cell.alignment = Alignment(
        horizontal=own.horizontal,
        vertical=own.vertical,
        wrap_text=True,
        indent=own.indent,
        text_rotation=own.text_rotation,
    )


def _shown_length(value: object) -> int:
    """About how many characters a value shows as: its longest line; a date as DD/MM/YYYY."""
    if isinstance(value, dt.datetime | dt.date):
        return 10
    if isinstance(value, float):
        return min(len(f"{value:g}"), 12)
    return max((len(line) for line in str(value).split("\n")), default=0)


def _width(ws: Worksheet, col: int) -> float:
    """Column `col`'s width in characters as printed: 0 when hidden, Excel's default when unset."""
    letter = get_column_letter(col)
    if letter not in ws.column_dimensions:
        return float(ws.sheet_format.defaultColWidth or DEFAULT_WIDTH)
    dimension = ws.column_dimensions[letter]
    if dimension.hidden:
        return 0.0
    return float(dimension.width or ws.sheet_format.defaultColWidth or DEFAULT_WIDTH)


def printed_width(ws: Worksheet, last_col: int) -> float:
    """Columns 1..`last_col` across, in inches at full size (a character of Calibri 11 is 7 pixels,
    and each column has 5 pixels of padding, as Excel and LibreOffice count it)."""
    pixels = sum(_width(ws, col) * 7 + 5 for col in range(1, last_col + 1) if _width(ws, col))
    return pixels / PIXELS_PER_INCH


def print_scale(ws: Worksheet, last_col: int) -> float:
    """The scale (1.0: full size) columns 1..`last_col` print at, fitted to the width of an A4 page
    in the orientation `print_on_a4` chooses."""
    return min(1.0, _printable_width(ws.page_setup.orientation == "landscape") / printed_width(ws, last_col))


def print_on_a4(ws: Worksheet, title_row: int | None, last_col: int, reference: str) -> None:
    """A4, portrait when columns 1..`last_col` fit its width at full size and landscape when they
    are wider; one page wide and as many tall as needed; `title_row` repeated on each page; our
    margins; a footer giving `reference` and `Page N of M` on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    wide = printed_width(ws, last_col) > _printable_width(landscape=False)
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if wide else ws.ORIENTATION_PORTRAIT
    # Fitted to the page's width only: fitted to a whole page as well, a long file shrinks to 5 pt.
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.page_setup.scale = None
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(**MARGINS)
    ws.print_area = None  # a centre's own print area would leave the status column off the page
    ws.print_title_cols = None
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"
    # Grid lines printed: each row's marks, however tall the row, are boxed on that row.
    ws.print_options.gridLines = True
    _footer(ws, reference)


def _footer(ws: Worksheet, reference: str) -> None:
    """`reference` on the left and `Page N of M` on the right of every page's footer (first, odd, even)."""
    text = _CONTROL.sub(" ", reference).strip()[:FOOTER_REFERENCE_CHARS].replace("&", "&&")
    for footer in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        if footer is None:  # openpyxl always makes all three; its stubs allow None
            continue
        footer.left.text = text or None
        footer.center.text = None
        footer.right.text = "Page &P of &N"


def _printable_width(landscape: bool) -> float:
    """The width inside the margins of an A4 page, in inches."""
    across = A4_INCHES[1] if landscape else A4_INCHES[0]
    return across - MARGINS["left"] - MARGINS["right"]
