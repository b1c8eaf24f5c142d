"""The workbook the marks go on: the centre's own, loaded for editing, or one built from a CSV
upload's rows.

An xlsx upload is loaded with openpyxl in this process (formulas replaced by their saved values;
hyperlinks, external links, connections and macros dropped: `entries.reports.annotate_safety`),
after its merged ranges are checked small enough to load; a CSV upload's
rows are laid out on a new sheet `Entries`, each at its own row number, so every row a message
quotes is the row the centre sees.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.styles import Font
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from entries.intake.column_letters import column_index
from entries.reports.annotate_cells import MAX_ROW, row_number
from entries.reports.annotate_safety import drop_active_parts
from entries.reports.files import active_sheet, put

CSV_SHEET = "Entries"
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell [^>]*?ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
# Far more than an entries sheet merges (5,000 rows x 20 columns is 100,000 cells), far less
# than would exhaust memory as openpyxl MergedCell objects.
MAX_MERGED_CELLS = 200_000


def load_centre_sheet(source: Path, sheet_name: str | None) -> tuple[Workbook, Worksheet]:
    """The centre's workbook at `source` and its sheet that was read (`sheet_name`; None: the
    active sheet). Raises ValueError for merged ranges too large to load, or a sheet that is not in
    the workbook or is not a worksheet."""
    _check_merged_area(source)
    wb = _load_workbook(source)
    if sheet_name is None:
        ws = active_sheet(wb)
    elif sheet_name in wb.sheetnames:
        ws = wb[sheet_name]
    else:
        raise ValueError("the sheet that was read is not in the workbook")
    if not isinstance(ws, Worksheet):
        raise ValueError("the sheet that was read is not a worksheet")
    return wb, ws


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
    """The centre's workbook with formulas replaced by their saved values, and nothing in it that
    acts when opened or clicked (links, connections, macros: `annotate_safety.drop_active_parts`)."""
    # openpyxl warns about parts it drops (extensions, unknown styles); warnings are output, and
    # this module prints nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(source, data_only=True, keep_vba=False, keep_links=False, rich_text=False)
    drop_active_parts(wb)
    return wb


def csv_workbook(header_row: int, rows: pd.DataFrame, laid_out: tuple[str, ...]) -> tuple[Workbook, Worksheet]:
    """A new workbook holding a CSV upload's rows: the `laid_out` template columns as its header,
    each entry at its own row."""
    wb = Workbook()
    ws = active_sheet(wb)
    ws.title = CSV_SHEET
    # The header goes on the CSV's own header row (1 unless blank lines came first), so every row
    # number in a message points at the same row here as in the centre's file.
    header_at = header_row if 1 <= header_row < MAX_ROW else 1
    # Named and sized as the workbook's default: a font with no name prints in a serif in LibreOffice.
    bold = Font(name="Calibri", size=11, bold=True)
    for col, name in enumerate(laid_out, start=1):
        put(ws, header_at, col, name).font = bold
    columns = [c for c in laid_out if c in rows.columns]
    for record in rows[["row", *columns]].itertuples(index=False, name=None):
        row = row_number(record[0])
        if row is None:
            continue
        for column, value in zip(columns, record[1:], strict=False):
            text = _text(value)
            if text:
                # Text format, so a centre that edits this copy keeps its leading zeros.
                put(ws, row, laid_out.index(column) + 1, text).number_format = "@"
    ws.freeze_panes = ws.cell(row=header_at + 1, column=1).coordinate
    return wb, ws


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
