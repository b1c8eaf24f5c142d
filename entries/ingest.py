"""One upload through the stages of DESIGN.md §2: prepare (pure), commit (the one writer), result.

`prepare` reads and checks a file without touching the store; `commit` records the outcome in one
transaction; `ingest_file` runs both in-process for the command line. The Prefect flows call the
same functions as tasks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from entries import store
from entries.headers import TEMPLATE_COLUMNS
from entries.intake import EmptyUpload, take_in
from entries.limits import ReadLimits
from entries.reader import read_upload
from entries.rules import Issue, issue
from entries.sniff import Refused
from entries.status import Status, status_for_refusal
from entries.submissions import NewSubmission, accepted_submission, record


@dataclass
class Prepared:
    """A file read and checked, not yet stored. `rows` hold personal data: keep them in memory."""

    path: Path
    sha256: str
    file_format: str | None
    encoding: str | None
    rows: pd.DataFrame | None
    issues: list[Issue]
    refusal: str | None = None  # catalogue code when the file could not be read at all

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


@dataclass
class Outcome:
    """What happened to one upload: the DESIGN.md §5 ingest object, less its reports."""

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


def prepare(path: Path, limits: ReadLimits | None = None) -> Prepared:
    """Read and check `path` without touching the store."""
    sha = file_sha256(path)
    try:
        sheet = read_upload(path, limits)
    except Refused as refused:
        return Prepared(path, sha, None, None, None, [issue(refused.code, file=path.name, **refused.params)], refused.code)
    try:
        intake = take_in(sheet)
    except EmptyUpload as empty:
        warnings = [issue(code, **params) for code, params in sheet.warnings]
        return Prepared(path, sha, sheet.file_format, sheet.encoding, None, [issue(empty.code), *warnings], empty.code)
    return Prepared(path, sha, sheet.file_format, sheet.encoding, intake.rows, intake.issues)


def _distinct_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop_duplicates(subset=list(TEMPLATE_COLUMNS))


def commit(
    con: duckdb.DuckDBPyConnection,
    prepared: Prepared,
    *,
    centre: str,
    series: str | None,
    order_ref: str | None,
    received_on: dt.date,
) -> Outcome:
    """Record the upload and its status in one transaction; returns the outcome."""
    new = NewSubmission(
        sha256=prepared.sha256,
        file_name=prepared.path.name,
        centre=centre,
        received_on=received_on,
        series=series,
        order_ref=order_ref,
        file_format=prepared.file_format,
        encoding=prepared.encoding,
    )
    rows = prepared.rows
    n_rows = 0 if rows is None else len(rows)
    distinct = None if rows is None else _distinct_rows(rows)
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
    reason = next((i.message for i in issues if i.code == reason_code), None)
    accepted = len(distinct) if (distinct is not None and status == Status.READ_AND_RECOGNISED) else 0
    counts = {"rows": n_rows, "accepted": accepted, "rejected": rejected, "held": 0}
    with store.transaction(con):
        submission_id = record(
            con, new, status, reason_code=reason_code, reason=reason, counts=counts, issues=issues, duplicate_of=duplicate_of
        )
    return Outcome(
        file=prepared.path.name,
        sha256=prepared.sha256,
        centre=centre,
        series=series,
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


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    centre: str,
    series: str | None,
    order_ref: str | None,
    received_on: dt.date,
    out_dir: Path,
    limits: ReadLimits | None = None,
) -> Outcome:
    """Prepare and commit one file in this process (the command line's `entries ingest`)."""
    prepared = prepare(path, limits)
    return commit(con, prepared, centre=centre, series=series, order_ref=order_ref, received_on=received_on)


def commit_to_store(
    db_path: Path,
    prepared: Prepared,
    *,
    centre: str,
    series: str | None,
    order_ref: str | None,
    received_on: dt.date,
) -> Outcome:
    """Open the store at `db_path`, commit `prepared`, close the store (the flows' writer step)."""
    from entries import refdata

    con = store.connect(db_path)
    try:
        refdata.ensure_reference(con)
        if series is None:
            from entries.series import default_series

            series = default_series(con, received_on)
        return commit(con, prepared, centre=centre, series=series, order_ref=order_ref, received_on=received_on)
    finally:
        con.close()
