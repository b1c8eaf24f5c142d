"""Bulk centre onboarding (`entries onboard PATH`): centres, their suite approvals and their candidates.

An onboarding is either a workbook with the sheets `Centres` (Centre Number, Name, Type),
`Approvals` (Centre Number, Suite, Approved From) and `Candidates` (an MIS export with the entries
template's candidate columns, `Candidate Group` making the groups), or a folder holding one file per
sheet named `centres`, `approvals` and `candidates` (.csv or .xlsx).

All or nothing: every sheet is read and checked first (the Candidates sheet with the same intake and
row rules as an entries upload, less the entry rules); only when no sheet has an error are the
centres, approvals and candidates written, in ONE `database.transaction`. Loading the same onboarding
again changes nothing. A report (xlsx + CSV) under `out_dir/onboarding/` lists what was added or
updated per sheet and every issue; it carries centre and candidate numbers and groups, never names,
dates of birth, UCIs or ULNs. Nothing here logs.

The stages, each in its own room: read (`entries.intake.sheets`), check (`entries.checks.onboarding`),
plan and store (`entries.store.onboarding`), report (`entries.reports.onboarding`).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from entries.checks.onboarding import (
    OnboardResult,
    SheetIssue,
    check_approvals,
    check_candidates,
    check_centres,
    unknown_centres,
)
from entries.core.errors import EntriesError
from entries.core.limits import ReadLimits
from entries.core.rules import Issue
from entries.intake.sheets import read_folder_sheets, read_workbook_sheets, sha_of, take_table
from entries.reports.onboarding import write_report
from entries.store import database, refdata
from entries.store.database import Connection
from entries.store.onboarding import plan_candidates, store_onboarding
from entries.store.spool import service_temp, spool_dir
from schemas.onboarding import APPROVAL_COLUMNS, CENTRE_COLUMNS, OPTIONAL_CENTRE_COLUMNS

SHEETS = ("Centres", "Approvals", "Candidates")


def onboard(
    con: Connection,
    path: Path,
    out_dir: Path,
    received_on: dt.date,
    limits: ReadLimits | None = None,
    *,
    work_dir: Path,
) -> OnboardResult:
    """Check the onboarding at `path` (workbook or folder) and, when it has no error, store it in one
    transaction; always write the report. Returns what was done. The reader's temporary files (the
    candidates' cells) are made in a folder under `work_dir` (the private spool's, beside the store),
    removed when read (`entries.store.spool.service_temp` gives one)."""
    path = Path(path)
    limits = limits or ReadLimits.from_env()
    if not path.exists():
        raise EntriesError(f"no such file or folder: {path}")
    reference = refdata.snapshot(con)
    with tempfile.TemporaryDirectory(prefix="read-", dir=work_dir) as work:
        if path.is_dir():
            sources, read_issues = read_folder_sheets(path, SHEETS, limits)
            sha = sha_of([path / s.file for s in sources if (path / s.file).is_file()])
        else:
            sources, read_issues = read_workbook_sheets(path, SHEETS, Path(work), limits)
            sha = sha_of([path])
    result = OnboardResult(
        file=path.name,
        sha256=sha,
        received_on=received_on,
        issues=[SheetIssue(sheet, found) for sheet, found in read_issues],
    )
    by_sheet = {s.sheet: s for s in sources}

    def add(sheet: str, found: list[Issue]) -> None:
        result.issues.extend(SheetIssue(sheet, i) for i in found)

    known_centres = set(reference.tables["centres"]["centre_number"].astype(str))
    suites = set(reference.tables["suites"]["suite_id"].astype(str))
    centres = approvals = candidates = None
    workbook_centres: set[str] = set()

    src = by_sheet["Centres"]
    if src.raw is not None:
        rows, found = take_table(src.raw, CENTRE_COLUMNS, "Centres", src.file, OPTIONAL_CENTRE_COLUMNS)
        add("Centres", found)
        if rows is not None:
            centres, found = check_centres(rows, src.file)
            add("Centres", found)
            workbook_centres = set(centres["centre_number"])
    allowed = known_centres | {c for c in workbook_centres if re.fullmatch(r"[0-9]{5}", c)}

    src = by_sheet["Approvals"]
    if src.raw is not None:
        rows, found = take_table(src.raw, APPROVAL_COLUMNS, "Approvals", src.file)
        add("Approvals", found)
        if rows is not None:
            approvals, found = check_approvals(rows, src.file, src.raw.date1904, suites)
            add("Approvals", found)
            add("Approvals", unknown_centres(approvals, allowed, src.file))

    src = by_sheet["Candidates"]
    if src.raw is not None:
        candidates, found, _ = check_candidates(src.raw, src.file, reference, received_on)
        add("Candidates", found)
        if candidates is not None:
            add("Candidates", unknown_centres(candidates, allowed, src.file))

    plan = None
    if candidates is not None:
        # Rows already in error are not compared with the store: their problem is reported already.
        bad_rows = {i.issue.row for i in result.issues if i.sheet == "Candidates" and i.issue.severity == "error"}
        plan, found = plan_candidates(con, candidates[~candidates["row"].isin(bad_rows)], by_sheet["Candidates"].file)
        add("Candidates", found)

    if not result.has_errors:
        store_onboarding(con, result, centres, approvals, plan)
    order = {s: n for n, s in enumerate(("", *SHEETS))}
    result.issues.sort(
        key=lambda i: (
            order.get(i.sheet, 9),
            i.issue.row if i.issue.row is not None else -1,
            i.issue.column or "",
            i.issue.code,
        )
    )
    result.reports = write_report(result, Path(out_dir))
    return result


def onboard_file(db_path: Path, path: Path, out_dir: Path, received_on: dt.date) -> OnboardResult:
    """Open the store at `db_path`, onboard `path`, close the store (the flow's one step)."""
    con = database.connect(Path(db_path))  # raises StoreBusy when another process holds the file
    try:
        with service_temp(spool_dir(Path(db_path)), "onboard") as scratch:
            return onboard(con, Path(path), Path(out_dir), received_on, work_dir=scratch)
    finally:
        con.close()
