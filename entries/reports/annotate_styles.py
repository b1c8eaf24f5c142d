"""How the marks on the annotated workbook look: colours, bold and wrapped text, row heights (the page set-up is
`entries.reports.annotate_print`).

The colours are Excel's own "Bad", "Neutral" and "Good" cell styles, so they read as Excel users
expect. `SharedStyles` works each distinct style out once per sheet and shares it, so marking
thousands of cells costs what their few distinct styles cost. Nothing here reads or writes a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from copy import copy

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

# Excel's own "Bad", "Neutral" and "Good" cell styles, so the colours read as Excel users expect.
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
ERROR_FONT_COLOUR = "9C0006"
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
WARNING_FONT_COLOUR = "9C5700"
OK_FILL = PatternFill("solid", fgColor="C6EFCE")
OK_FONT_COLOUR = "006100"
WRAP = Alignment(wrap_text=True, vertical="top")


class SharedStyles:
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
            severity_colours(target, severity)
            if wrap:
                target.alignment = WRAP

        self.apply(cell, f"{severity}{'/wrap' if wrap else ''}", change)


def severity_colours(cell: Cell | MergedCell, severity: str) -> None:
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


def bold(cell: Cell | MergedCell, **settings: object) -> None:
    """The cell's font (the workbook's default on a new cell), bold, with `settings` changed."""
    font = copy(cell.font)
    font.bold = True
    for name, value in settings.items():
        setattr(font, name, value)
    cell.font = font  # type: ignore[assignment]  # a copied StyleProxy is the Font openpyxl stores


def wrap_text(cell: Cell | MergedCell) -> None:
    """Wrap the cell's text, top-aligned, so a long text prints whole."""
    cell.alignment = WRAP


def top_wrapped(cell: Cell | MergedCell) -> None:
    """Wrap the cell's text and put it at the top of its row, keeping its other alignment settings."""
    own = cell.alignment
    cell.alignment = Alignment(
        horizontal=own.horizontal, vertical="top", wrap_text=True, indent=own.indent, text_rotation=own.text_rotation
    )


def wrapped_lines(text: str, width: int) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (a generous guess)."""
    return sum(max(1, math.ceil(len(line) / max(width - 2, 1))) for line in text.split("\n"))


def fit_height(ws: Worksheet, row: int, lines: int) -> None:
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
