"""One upload through the stages of DESIGN.md §2: prepare (pure), commit (the one writer), report.

`prepare` reads and checks a file without touching the store; `commit` records the outcome in one
transaction; `report` writes what goes back to the centre. `ingest_file` runs all three in-process
for the command line; the Prefect flows run the same functions as tasks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from entries import store
from entries.annotate import write_annotated
from entries.headers import TEMPLATE_COLUMNS
from entries.intake import EmptyUpload, take_in
from entries.limits import ReadLimits
from entries.reader import read_upload
from entries.refdata import Reference
from entries.rules import Issue, issue
from entries.sniff import Refused
from entries.status import Status, status_for_refusal
from entries.submissions import NewSubmission, accepted_submission, record
from entries.validate import Context, validate


@dataclass
class Prepared:
    """A file read and checked, not yet stored. `rows` and `entries` hold personal data: they stay
    in memory and are never logged or persisted by the orchestrator."""

    path: Path
    sha256: str
    context: Context
    issues: list[Issue]
    refusal: str | None = None  # catalogue code when the file could not be read at all
    file_format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1
    positions: dict[str, int] = field(default_factory=dict)
    rows: pd.DataFrame | None = None  # the template rows as read (text)
    entries: pd.DataFrame | None = None  # normalised distinct rows (schemas.upload.NORMALISED_ROW)

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


@dataclass
class Outcome:
    """What happened to one upload: the DESIGN.md §5 ingest object."""

    file: str
    sha256: str
    centre: str
    series: str | None
    order_ref: str | None
    status: Status
    reason: str | None
    rows: int
    accepted: int
    rejected: int
    held: int
    submission_id: int | None
    issues: list[Issue]
    entries: dict[str, int] = field(default_factory=lambda: {"full_award": 0, "unit": 0, "top_up": 0, "move_down": 0})
    fees_pence: int = 0
    reports: dict[str, str | None] = field(default_factory=lambda: {"annotated": None, "confirmation": None})

    def as_json(self) -> dict:
        """The DESIGN.md §5 object (no personal data: issues carry codes, rows and columns)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "centre": self.centre,
            "series": self.series,
            "order_ref": self.order_ref,
            "status": str(self.status),
            "reason": self.reason,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "held": self.held,
            "entries": dict(self.entries),
            "fees_pence": self.fees_pence,
            "issues": [i.as_json() for i in self.issues],
            "reports": dict(self.reports),
        }


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(path: Path, context: Context, reference: Reference, limits: ReadLimits | None = None) -> Prepared:
    """Read and check `path` against `reference` without touching the store."""
    sha = file_sha256(path)
    try:
        sheet = read_upload(path, limits)
    except Refused as refused:
        return Prepared(path, sha, context, [issue(refused.code, file=path.name, **refused.params)], refused.code)
    meta = {"file_format": sheet.file_format, "encoding": sheet.encoding, "sheet": sheet.sheet}
    try:
        intake = take_in(sheet)
    except EmptyUpload as empty:
        warnings = [issue(code, **params) for code, params in sheet.warnings]
        return Prepared(path, sha, context, [issue(empty.code), *warnings], empty.code, **meta)
    issues = list(intake.issues)
    entries = None
    if not any(i.code == "HDR_01" for i in issues):
        checked = validate(intake.rows, context, reference)
        issues += checked.issues
        entries = checked.rows
    issues.sort(key=lambda i: (i.row if i.row is not None else -1, i.column or "", i.code))
    return Prepared(path, sha, context, issues, None, header_row=intake.header_row, positions=intake.positions,
                    rows=intake.rows, entries=entries, **meta)


def commit(con: duckdb.DuckDBPyConnection, prepared: Prepared, *, order_ref: str | None) -> Outcome:
    """Record the upload and its status in one transaction; returns the outcome."""
    ctx = prepared.context
    new = NewSubmission(
        sha256=prepared.sha256,
        file_name=prepared.path.name,
        centre=ctx.centre,
        received_on=ctx.received_on,
        series=ctx.series,
        order_ref=order_ref,
        file_format=prepared.file_format,
        encoding=prepared.encoding,
    )
    rows = prepared.rows
    n_rows = 0 if rows is None else len(rows)
    distinct = None if rows is None else rows.drop_duplicates(subset=list(TEMPLATE_COLUMNS))
    error_rows = {i.row for i in prepared.issues if i.severity == "error" and i.row is not None}
    rejected = 0 if distinct is None else int(distinct["row"].isin(error_rows).sum())
    duplicate_of = None
    if prepared.refusal is not None:
        status, reason_code = status_for_refusal(prepared.refusal), prepared.refusal
    elif prepared.has_errors:
        status = Status.READ_AND_REJECTED
        reason_code = next(i.code for i in prepared.issues if i.severity == "error")
    else:
        duplicate_of = accepted_submission(con, prepared.sha256)
        if duplicate_of is not None:
            status, reason_code = Status.DUPLICATE_FILE, "FILE_22"
        else:
            status, reason_code = Status.READ_AND_RECOGNISED, None
    issues = list(prepared.issues)
    if duplicate_of is not None:
        issues.insert(0, issue("FILE_22", submission=duplicate_of))
    reason = _reason(status, reason_code, issues)
    accepted = len(distinct) if (distinct is not None and status == Status.READ_AND_RECOGNISED) else 0
    counts = {"rows": n_rows, "accepted": accepted, "rejected": rejected, "held": 0}
    with store.transaction(con):
        submission_id = record(
            con, new, status, reason_code=reason_code, reason=reason, counts=counts, issues=issues, duplicate_of=duplicate_of
        )
    return Outcome(
        file=prepared.path.name,
        sha256=prepared.sha256,
        centre=ctx.centre,
        series=ctx.series,
        order_ref=order_ref,
        status=status,
        reason=reason,
        rows=n_rows,
        accepted=accepted,
        rejected=rejected,
        held=0,
        submission_id=submission_id,
        issues=issues,
    )


def _reason(status: Status, code: str | None, issues: list[Issue]) -> str | None:
    if code is None:
        return None
    errors = sum(1 for i in issues if i.severity == "error")
    first = next((i for i in issues if i.code == code), None)
    if status == Status.READ_AND_REJECTED and errors > 1:
        return f"{errors} errors; the first: {first.message if first else code}"
    return first.message if first else code


def report_stem(prepared: Prepared) -> str:
    """Deterministic report name: received date, the upload's name, and its content hash."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in prepared.path.stem)[:60]
    return f"{prepared.context.received_on.isoformat()}_{safe}_{prepared.sha256[:8]}"


def report(prepared: Prepared, outcome: Outcome, out_dir: Path) -> dict[str, str | None]:
    """Write the annotated copy of the centre's file (with its errors CSV) under out_dir/<centre>/."""
    reports: dict[str, str | None] = {"annotated": None, "confirmation": None}
    if prepared.rows is None or outcome.status == Status.DUPLICATE_FILE:
        return reports
    annotated, _errors_csv = write_annotated(
        prepared.path,
        out_dir / prepared.context.centre,
        file_format=prepared.file_format or "csv",
        sheet_name=prepared.sheet,
        header_row=prepared.header_row,
        positions=prepared.positions,
        rows=prepared.rows,
        issues=outcome.issues,
        stem=report_stem(prepared),
    )
    reports["annotated"] = str(annotated)
    return reports


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    context: Context,
    reference: Reference,
    order_ref: str | None,
    out_dir: Path,
    limits: ReadLimits | None = None,
) -> Outcome:
    """Prepare, commit and report one file in this process (the command line's `entries ingest`)."""
    prepared = prepare(path, context, reference, limits)
    outcome = commit(con, prepared, order_ref=order_ref)
    outcome.reports = report(prepared, outcome, out_dir)
    return outcome


def commit_to_store(db_path: Path, prepared: Prepared, *, order_ref: str | None) -> Outcome:
    """Open the store at `db_path`, commit `prepared`, close the store (the flows' writer step)."""
    con = store.connect(db_path)
    try:
        return commit(con, prepared, order_ref=order_ref)
    finally:
        con.close()
