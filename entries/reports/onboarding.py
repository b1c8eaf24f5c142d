"""The onboarding report: what was added or updated per sheet, and every issue.

It carries centre and candidate numbers and groups, never names, dates of birth, UCIs or ULNs. In
the xlsx the received date is a date cell, counts and row numbers integers, codes text; each sheet
prints on A4, one page wide, with the file in its footer.
"""

from __future__ import annotations

from pathlib import Path

from entries.checks.onboarding import OnboardResult
from entries.reports.files import (
    Sheet,
    StyledRow,
    safe_file_part,
    sweep_temporary,
    write_csv_atomically,
    write_workbook_streamed,
)

REPORT_COLUMNS = (
    "Record",
    "Sheet",
    "Row",
    "Column",
    "Centre Number",
    "Candidate Number",
    "Suite",
    "Candidate Group",
    "Action",
    "Code",
    "Severity",
    "Message",
    "Fix",
)
CHANGE_COLUMNS = ("Sheet", "Row", "Centre Number", "Candidate Number", "Suite", "Candidate Group", "Action")
ISSUE_COLUMNS = ("File", "Sheet", "Row", "Column", "Code", "Severity", "Message", "Fix")


def report_stem(result: OnboardResult) -> str:
    """`<received_on>_<file stem>_<sha8>`: the same onboarding gives the same name."""
    stem = Path(result.file).stem if Path(result.file).suffix else result.file
    return f"{result.received_on.isoformat()}_{safe_file_part(stem)}_{result.sha256[:8]}"


def _report_rows(result: OnboardResult) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in result.changes:
        rows.append(
            ["change", c.sheet, c.row, None, c.centre, c.candidate, c.suite, c.group, c.action, None, None, None, None]
        )
    for s in result.issues:
        i = s.issue
        rows.append(
            [
                "issue",
                s.sheet or None,
                i.row,
                i.column,
                None,
                None,
                None,
                None,
                None,
                i.code,
                i.severity,
                i.message,
                i.fix,
            ]
        )
    return rows


def write_report(result: OnboardResult, out_dir: Path) -> dict[str, str | None]:
    """Write `out_dir/onboarding/<stem>.xlsx` and `.csv` atomically (text cells are never formulas)."""
    folder = out_dir / "onboarding"
    sweep_temporary(folder)  # what a killed onboarding left half-written
    stem = report_stem(result)
    rows = _report_rows(result)
    csv_path = write_csv_atomically(rows, REPORT_COLUMNS, folder / f"{stem}.csv")
    lines: list[tuple[object, ...]] = [
        ("Onboarding", result.file),
        ("Received on", result.received_on),
        ("SHA-256", result.sha256),
        ("Stored", "Yes" if result.stored else "No: errors found, nothing was stored"),
        (),
        ("Sheet", "Added", "Updated", "Unchanged"),
        ("Centres", result.centres_added, result.centres_updated, result.centres_unchanged),
        ("Approvals", result.approvals_added, result.approvals_updated, result.approvals_unchanged),
        ("Candidates", result.candidates_added, result.candidates_updated, result.candidates_unchanged),
        (),
        ("Errors", sum(1 for i in result.issues if i.issue.severity == "error")),
        ("Warnings", sum(1 for i in result.issues if i.issue.severity == "warning")),
        (),
        ("Centre Number", "Candidate Group", "Candidates"),
    ]
    lines += [(centre, group, n) for centre, groups in result.groups.items() for group, n in groups]
    headers = (6, 14)  # the summary's two tables' header rows
    summary: list[StyledRow] = [(line, "header" if r in headers else "plain") for r, line in enumerate(lines, start=1)]
    changes: list[tuple[object, ...]] = [
        (c.sheet, c.row, c.centre, c.candidate, c.suite, c.group, c.action) for c in result.changes
    ]
    issues: list[tuple[object, ...]] = [
        (
            s.issue.file,
            s.sheet,
            s.issue.row,
            s.issue.column,
            s.issue.code,
            s.issue.severity,
            s.issue.message,
            s.issue.fix,
        )
        for s in result.issues
    ]
    # Every printed page's footer names the onboarding file and its digest's first eight characters.
    reference = f"Onboarding report: {result.file} ({result.sha256[:8]})"
    # The summary's two tables have headings of their own: neither is repeated on later pages.
    sheets = [Sheet("Summary", summary, reference=reference, repeat_header=False)]
    for title, header, records in (("Changes", CHANGE_COLUMNS, changes), ("Issues", ISSUE_COLUMNS, issues)):
        body = ((record, "plain") for record in records)  # the writer leaves None and "" out
        sheets.append(Sheet(title, [(header, "header"), *body], freeze_header=True, reference=reference))
    xlsx_path = write_workbook_streamed(folder / f"{stem}.xlsx", sheets)
    return {"xlsx": str(xlsx_path), "csv": str(csv_path)}
