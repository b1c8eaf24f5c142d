"""The errors CSV of a refused upload: `<stem>.errors.csv` for a file that got no annotated copy.

In: the reports folder, the upload's centre, received date, file name and content hash, and its
issues. Out: `<out>/<centre>/<stem>.errors.csv`, the same file, columns and name the annotated
copy's errors CSV has (`entries.reports.annotate`: `Row, Column, Code, Severity, Message, Fix`, UTF-8
with BOM, CRLF, text escaped against formulas, written atomically), so a centre whose upload failed,
was empty or was a duplicate has its reason and its fix in a file too. The issues carry codes,
rows, columns and the catalogue's words only: no personal data.

A `Duplicate file`'s is `<stem>.duplicate.errors.csv`: received on the same day under the same
name as its original, it has the original's stem, and must never replace the original's reports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from entries.core.rules import Issue
from entries.reports.annotate_sheets import ERRORS_COLUMNS
from entries.reports.files import report_stem_of, safe_file_part, write_csv_atomically


def errors_csv_rows(issues: list[Issue]) -> list[list[object]]:
    """One row per issue, in `ERRORS_COLUMNS` order: file-level issues (no row) first."""
    ordered = sorted(issues, key=lambda i: (i.row is not None, i.row or 0, i.column or "", i.code))
    return [[item.row, item.column, item.code, item.severity, item.message, item.fix] for item in ordered]


def write_refusal_errors(
    out_dir: Path,
    *,
    centre: str,
    received_on: dt.date,
    file_name: str,
    sha256: str,
    issues: list[Issue],
    duplicate: bool = False,
) -> Path:
    """Write the refused upload's errors CSV under `out_dir/<centre>/`; returns its path."""
    folder = Path(out_dir) / safe_file_part(centre)
    folder.mkdir(parents=True, exist_ok=True)
    stem = report_stem_of(received_on, file_name, sha256)
    path = folder / (f"{stem}.duplicate.errors.csv" if duplicate else f"{stem}.errors.csv")
    return write_csv_atomically(errors_csv_rows(issues), ERRORS_COLUMNS, path)
