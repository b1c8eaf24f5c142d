"""Save an openpyxl workbook into an open zip archive, its worksheets' temporary files beside the report.

openpyxl's `ExcelWriter` writes each worksheet's XML to a file of its own first, made with
`tempfile` in the system's temporary folder; for an annotated report those are the candidates'
cells, outside every folder the store cleans. `BesideReportWriter` writes that file in the folder
of the report instead (under a name `entries.reports.files.sweep_temporary` removes, should the
writer be killed) and removes it once the sheet is in the archive. Nothing process-wide
(`tempfile.tempdir`, `os.environ`, openpyxl's module globals) is changed: other threads (the
portal's) write at the same time.

Imported only where a loaded workbook is saved (openpyxl costs 0.1 s to import).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zipfile import ZipFile

from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter


class BesideReportWriter(ExcelWriter):
    """openpyxl's ExcelWriter, with each worksheet's XML written to a file `scratch()` names.

    `scratch` returns a new path (in the report's folder) each time it is called; each file is
    gone when `save` returns or fails. A write-only workbook is saved as openpyxl does: its sheets'
    files were made when the sheets were, so this writer never sees one.
    """

    def __init__(self, workbook: Workbook, archive: ZipFile, scratch: Callable[[], Path]) -> None:
        super().__init__(workbook, archive)
        self._zip = archive
        self._scratch = scratch

    def write_worksheet(self, ws: Worksheet) -> None:
        """One worksheet into the archive: openpyxl 3.1's `ExcelWriter.write_worksheet` with the
        sheet's file given to its `WorksheetWriter` (openpyxl's own would make one with `tempfile`)."""
        if self.workbook.write_only:
            super().write_worksheet(ws)
            return
        ws._drawing = SpreadsheetDrawing()  # type: ignore[attr-defined]  # openpyxl's own, not in the stubs
        ws._drawing.charts = ws._charts  # type: ignore[attr-defined]
        ws._drawing.images = ws._images  # type: ignore[attr-defined]
        sheet_file = self._scratch()
        try:
            writer = WorksheetWriter(ws, out=str(sheet_file))
            try:
                writer.write()
            finally:
                writer.close()  # the XML file is closed even when writing failed
            ws._rels = writer._rels  # type: ignore[attr-defined]
            self._zip.write(sheet_file, ws.path[1:])
            self.manifest.append(ws)
        finally:
            sheet_file.unlink(missing_ok=True)
