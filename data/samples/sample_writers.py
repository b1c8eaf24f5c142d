"""Deterministic writers for the sample files: the same rows give the same bytes, run after run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

ZIP_TIME = (2027, 1, 15, 9, 0, 0)  # every xlsx member's timestamp
DOC_TIME = dt.datetime(2027, 1, 15, 9, 0, 0)  # workbook created / modified
TEXT = "@"


def write_xlsx(path: Path, header: list[str], rows: list[list[str]], sheet: str = "Entries") -> None:
    """Every cell written as text (type 's', format '@'), so codes keep their zeros."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    bold = Font(bold=True)
    for r, values in enumerate([header, *rows], start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            cell.number_format = TEXT
            if value != "":
                cell.value = value
                cell.data_type = "s"  # a text cell, even for '05838' or '=...'
            if r == 1:
                cell.font = bold
    for c in range(1, len(header) + 1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = 16
    ws.freeze_panes = "A2"
    wb.properties.creator = "make_samples.py"
    wb.properties.lastModifiedBy = "make_samples.py"
    wb.properties.created = DOC_TIME
    wb.properties.modified = DOC_TIME
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # not Workbook.save: it stamps the wall clock
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, bom: bool = False) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
