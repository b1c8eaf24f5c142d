"""One upload through the stages of docs/architecture.md §2: prepare (pure), commit (the one writer), report.

`prepare` reads and checks a file without touching the store; `commit` records the outcome in one
transaction; `report` writes what goes back to the centre. `ingest_file` runs all three in-process
for the command line; the Prefect flows run the same functions as tasks.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb

from entries.checks.reference import Reference
from entries.checks.upload import Outcome, Prepared
from entries.checks.validate import Context, validate
from entries.core.limits import ReadLimits
from entries.core.rules import issue
from entries.core.status import Status
from entries.intake.normalise import EmptyUpload, take_in
from entries.intake.reader import read_upload
from entries.intake.sniff import Refused
from entries.reports.confirmation import write_confirmation
from entries.reports.files import report_stem_of
from entries.store import database
from entries.store.commit import commit


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
    meta: dict[str, Any] = {"file_format": sheet.file_format, "encoding": sheet.encoding, "sheet": sheet.sheet}
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
    return Prepared(
        path,
        sha,
        context,
        issues,
        None,
        header_row=intake.header_row,
        positions=intake.positions,
        rows=intake.rows,
        entries=entries,
        **meta,
    )


def write_annotated(*args: Any, **kwargs: Any) -> tuple[Path, Path]:
    """`entries.reports.annotate.write_annotated`, imported when a file has issues to show: it
    brings openpyxl (0.1 s to import), which a clean file's reports never need."""
    from entries.reports.annotate import write_annotated as write

    return write(*args, **kwargs)


def report_stem(prepared: Prepared) -> str:
    """Deterministic report name: received date, the upload's name, and its content hash."""
    return report_stem_of(prepared.context.received_on, prepared.path.name, prepared.sha256)


def report(prepared: Prepared, outcome: Outcome, out_dir: Path) -> dict[str, str | None]:
    """Write the annotated copy of the centre's file (with its errors CSV) under out_dir/<centre>/,
    when it has anything to show (an issue of either severity).

    Pure apart from the files it writes: it reads no store, so it can run anywhere. When the
    centre's own workbook cannot be marked up (real workbooks hold parts no library reads), the
    errors go back in a new workbook made from the rows read, with RPT_01 saying so; the returned
    `annotated_as` is then "rebuilt" (else "own")."""
    reports: dict[str, str | None] = {"annotated": None, "confirmation": None}
    if prepared.rows is None or outcome.status == Status.DUPLICATE_FILE:
        return reports
    if not outcome.issues:
        return reports  # nothing to mark: a clean file's centre gets its confirmation, not a copy of itself
    folder, stem = out_dir / prepared.context.centre, report_stem(prepared)
    shared: dict[str, Any] = {
        "status": str(outcome.status),
        "header_row": prepared.header_row,
        "positions": prepared.positions,
        "rows": prepared.rows,
        "stem": stem,
    }
    try:
        annotated, _errors_csv = write_annotated(
            prepared.path,
            folder,
            file_format=prepared.file_format or "csv",
            sheet_name=prepared.sheet,
            issues=outcome.issues,
            **shared,
        )
        reports["annotated_as"] = "own"
    except Exception:  # noqa: BLE001 - any reader of real workbooks can fail; the centre still gets its errors
        # The rows were read safely already: a CSV-style workbook is built from them alone.
        annotated, _errors_csv = write_annotated(
            prepared.path,
            folder,
            file_format="csv",
            sheet_name=None,
            issues=[*outcome.issues, issue("RPT_01")],
            **shared,
        )
        reports["annotated_as"] = "rebuilt"
    reports["annotated"] = str(annotated)
    return reports


def note_report(outcome: Outcome, reports: dict[str, str | None]) -> None:
    """Take the report step's paths into `outcome`, and RPT_01 when the workbook was rebuilt."""
    outcome.reports["annotated"] = reports.get("annotated")
    if reports.get("annotated_as") == "rebuilt":
        outcome.issues.append(issue("RPT_01"))
        outcome.reports["annotated_as"] = "rebuilt"


def confirm(con: duckdb.DuckDBPyConnection, outcome: Outcome, out_dir: Path) -> str | None:
    """The confirmation of a stored submission ("a copy of your entries for your records"), written
    by the writer process from the store; None when nothing was stored."""
    if outcome.submission_id is None or outcome.status not in (Status.PROCESSING_COMPLETE, Status.OCR_HANDLING_THIS):
        return None
    xlsx, _csv = write_confirmation(con, outcome.submission_id, out_dir)
    return str(xlsx)


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    context: Context,
    reference: Reference,
    order_ref: str | None,
    out_dir: Path,
    limits: ReadLimits | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Prepare, commit and report one file in this process (the command line's `entries ingest`).

    A dry run decides everything and writes nothing: no submission, no report (the issues and
    the changes are in the outcome)."""
    prepared = prepare(path, context, reference, limits)
    outcome = commit(con, prepared, reference, order_ref=order_ref, dry_run=dry_run)
    if dry_run:
        return outcome
    outcome.reports["confirmation"] = confirm(con, outcome, out_dir)
    note_report(outcome, report(prepared, outcome, out_dir))
    return outcome


def commit_to_store(
    db_path: Path, prepared: Prepared, reference: Reference, *, order_ref: str | None, out_dir: Path
) -> Outcome:
    """Open the store at `db_path`, commit `prepared` and write its confirmation, close the store
    (the flows' writer step)."""
    con = database.connect(db_path)
    try:
        outcome = commit(con, prepared, reference, order_ref=order_ref)
        outcome.reports["confirmation"] = confirm(con, outcome, out_dir)
        return outcome
    finally:
        con.close()
