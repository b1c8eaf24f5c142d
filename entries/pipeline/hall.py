"""The hall: the one path from any door to the store (docs/architecture.md §2).

Every door (`entries ingest`, both nightly runners, the ingest flow, the portal's upload and its
web form) hands the hall what a centre sent and gets back one finished `Outcome`: nothing patches
it afterwards. The hall's stages are those of the design card:

- `prepare(sent, context, reference)`: pure. A file is read safely and mapped onto the template; the
  form's candidates arrive as template rows directly (never through a file). Every row is checked.
- `finish(con, prepared, ...)`: the one writer. Match, classify and price in one pass with the
  checks (so every problem is reported the first time), store in one transaction, then the
  confirmation and the annotated copy. A report that cannot be written costs the centre that
  report (RPT_02), never the stored submission.

`context_for` is the one place a submission's context (centre, series, received date) is decided.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from entries.checks.classify import classify
from entries.checks.reference import Reference
from entries.checks.upload import Outcome, Prepared
from entries.checks.validate import Context, validate
from entries.core import crash
from entries.core.errors import EntriesError
from entries.core.faults import MachineFault, machine_fault
from entries.core.limits import ReadLimits
from entries.core.rules import Issue, issue
from entries.core.status import ACCEPTED, Status
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.intake.normalise import EmptyUpload, take_in
from entries.intake.reader import read_upload
from entries.intake.sniff import Refused
from entries.reports.confirmation import write_confirmation
from entries.reports.files import report_stem_of, sweep_temporary
from entries.store import database, review
from entries.store.commit import commit, sorted_issues
from entries.store.database import Connection
from entries.store.outcomes import outcome_from_store
from entries.store.series import series_for

FORM_FORMAT = "form"  # a submission made on the web form: its rows are the form's candidates


@dataclass(frozen=True)
class FormRows:
    """What the web form sends: a name for the submission and one template row per candidate
    (every value text, keyed by the template's column names). A form has no spreadsheet rows, so
    each row is numbered by its candidate number: the issues then point at candidates."""

    name: str
    rows: Sequence[dict[str, str]]

    def frame(self) -> pd.DataFrame:
        records = [
            {"row": int(r["Candidate Number"]), **{c: str(r.get(c, "") or "") for c in TEMPLATE_COLUMNS}}
            for r in self.rows
        ]
        frame = pd.DataFrame.from_records(records, columns=["row", *TEMPLATE_COLUMNS])
        return frame.astype({"row": "int64", **{c: "str" for c in TEMPLATE_COLUMNS}})

    def sha256(self) -> str:
        """A hash of the rows' content: the same entries sent twice are a `Duplicate file`."""
        digest = hashlib.sha256()
        for record in sorted(tuple(str(r.get(c, "") or "") for c in TEMPLATE_COLUMNS) for r in self.rows):
            digest.update("\x1f".join(record).encode("utf-8") + b"\x1e")
        return digest.hexdigest()


AMENDED_FORMAT = "amended"  # a file whose rows the centre corrected on screen (the portal's amend form)


@dataclass(frozen=True)
class AmendedRows:
    """An uploaded file's rows as the centre corrected them on screen: the file's name, its format
    as read (`xlsx`, `csv`) and its template rows (every value text, keyed by the template's column
    names) each with the spreadsheet row number it was read from (`row`), so every issue still
    points at the row the centre sees in its own file."""

    name: str
    file_format: str
    rows: Sequence[dict[str, Any]]

    def frame(self) -> pd.DataFrame:
        records = [{"row": int(r["row"]), **{c: str(r.get(c, "") or "") for c in TEMPLATE_COLUMNS}} for r in self.rows]
        frame = pd.DataFrame.from_records(records, columns=["row", *TEMPLATE_COLUMNS])
        return frame.astype({"row": "int64", **{c: "str" for c in TEMPLATE_COLUMNS}})

    def sha256(self) -> str:
        """A hash of the corrected rows' content: the same entries submitted twice are a `Duplicate file`."""
        digest = hashlib.sha256(b"amended\x1e")
        for record in sorted(tuple(str(r.get(c, "") or "") for c in TEMPLATE_COLUMNS) for r in self.rows):
            digest.update("\x1f".join(record).encode("utf-8") + b"\x1e")
        return digest.hexdigest()


Sent = Path | FormRows | AmendedRows


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def context_for(
    reference: Reference,
    centre: str,
    received_on: Any,
    series: str | None = None,
    source: str | None = None,
) -> Context:
    """Who sent it, for which series, received when: the series stated (by a folder, an option or
    the portal) else the default rule; `source` says where a stated series came from (`folder`,
    `option`), and is `default` when none was stated.

    A default is never a choice of fee: when an earlier series is in its late window on
    `received_on`, the rows left to the default (no Series cell) are refused with SER_03 by the
    checks, which read `series_source == "default"` (the nightly's own contexts carry it too)."""
    return Context(
        centre=centre,
        series=series_for(reference, received_on, series),
        received_on=received_on,
        series_source=(source or "option") if series else "default",
    )


def prepare(
    sent: Sent,
    context: Context,
    reference: Reference,
    limits: ReadLimits | None = None,
    *,
    work_dir: Path | None = None,
) -> Prepared:
    """Read and check what a door sent against `reference`, without touching the store. A file's
    reader makes its temporary files in `work_dir` (a private folder: they hold candidates' cells)."""
    if isinstance(sent, FormRows):
        return _prepare_rows(sent, context, reference)
    if isinstance(sent, AmendedRows):
        return _prepare_amended(sent, context, reference)
    path = sent
    sha = file_sha256(path)
    try:
        sheet = read_upload(path, limits, work_dir=work_dir)
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
    return Prepared(
        path,
        sha,
        context,
        sorted_issues(issues),
        None,
        header_row=intake.header_row,
        positions=intake.positions,
        rows=intake.rows,
        entries=entries,
        **meta,
    )


def _prepare_rows(sent: FormRows, context: Context, reference: Reference) -> Prepared:
    rows = sent.frame()
    checked = validate(rows, context, reference)
    return Prepared(
        Path(sent.name),
        sent.sha256(),
        context,
        sorted_issues(checked.issues),
        None,
        file_format=FORM_FORMAT,
        positions={c: n for n, c in enumerate(TEMPLATE_COLUMNS)},
        rows=rows,
        entries=checked.rows,
    )


def _prepare_amended(sent: AmendedRows, context: Context, reference: Reference) -> Prepared:
    rows = sent.frame()
    checked = validate(rows, context, reference)
    return Prepared(
        Path(sent.name),
        sent.sha256(),
        context,
        sorted_issues(checked.issues),
        None,
        file_format=AMENDED_FORMAT,
        positions={c: n for n, c in enumerate(TEMPLATE_COLUMNS)},
        rows=rows,
        entries=checked.rows,
    )


def finish(
    con: Connection,
    prepared: Prepared,
    reference: Reference,
    *,
    order_ref: str | None,
    out_dir: Path,
    on_commit: Callable[[Connection, int], None] | None = None,
    dry_run: bool = False,
    amendable: bool = False,
) -> Outcome:
    """Decide, store and report `prepared`; the outcome returned is final.

    `on_commit(con, submission_id)` runs inside the file's transaction (the nightly journals its
    claim there). A dry run decides everything and writes nothing (no submission, no report). With
    `amendable` (the portal), a file whose every error is on a row is not recorded and gets no
    report: its outcome has `to_amend`, for the centre to correct the rows on screen."""
    decided = commit(
        con, prepared, reference, order_ref=order_ref, on_commit=on_commit, dry_run=dry_run, amendable=amendable
    )
    if dry_run:
        return decided
    if decided.to_amend:
        # Nothing recorded, but the centre still gets its own workbook back with the errors in red.
        return with_annotated(prepared, decided, out_dir)
    if decided.duplicate_of is not None:
        _reports_of_earlier(con, prepared, decided.duplicate_of, out_dir)
    return with_reports(con, prepared, decided, out_dir)


def _reports_of_earlier(con: Connection, prepared: Prepared, submission_id: int, out_dir: Path) -> None:
    """The same bytes were stored before: write that submission's reports again from these very
    bytes (the run that stored it may have been stopped before it wrote them all, or half-way
    through one). They are the same bytes as before when nothing was missing."""
    earlier = outcome_from_store(con, submission_id)
    if earlier.received_on is None:
        return
    context = dataclasses.replace(prepared.context, received_on=earlier.received_on)
    with_reports(
        con,
        dataclasses.replace(prepared, path=prepared.path.with_name(earlier.file), context=context),
        earlier,
        out_dir,
    )


def with_reports(con: Connection, prepared: Prepared, decided: Outcome, out_dir: Path) -> Outcome:
    """`decided` with its reports written: the confirmation of what was stored, the annotated copy
    of a file with issues. Written again for a submission stored before, they are the same bytes."""
    reports: dict[str, str | None] = {"annotated": None, "confirmation": None}
    extra: list[Issue] = []
    try:
        sweep_temporary(Path(out_dir) / decided.centre)  # what a killed writer left of these reports
        reports["confirmation"] = confirm(con, decided, out_dir)
        made = write_reports(prepared, decided, out_dir)
    except Exception as exc:  # noqa: BLE001 - stored or refused already: the centre loses a report, not the file
        fault = machine_fault(exc, str(out_dir))
        if fault is not None:
            # The machine's fault: the reports are owed, and the next run (or the same ingest again) writes them.
            raise MachineFault(f"{fault} ({decided.file} is recorded; its reports are not written yet)") from exc
        crash.record(exc, f"report centre {decided.centre} file {decided.file}")
        return dataclasses.replace(
            decided,
            issues=[*decided.issues, issue("RPT_02", file=decided.file, detail=type(exc).__name__)],
            reports=reports,
        )
    reports["annotated"] = made.get("annotated")
    if made.get("errors"):
        reports["errors"] = made["errors"]
    if made.get("annotated_as") == "rebuilt":
        extra.append(issue("RPT_01"))
        reports["annotated_as"] = "rebuilt"
    return dataclasses.replace(decided, issues=[*decided.issues, *extra], reports=reports)


def with_annotated(prepared: Prepared, decided: Outcome, out_dir: Path) -> Outcome:
    """`decided` (not recorded: rows to correct) with the annotated copy of the centre's file; a
    copy that cannot be written costs that report (RPT_02), never the draft."""
    try:
        made = write_reports(prepared, decided, out_dir)
    except Exception as exc:  # noqa: BLE001 - the errors are on the page: a report lost is said, not fatal
        fault = machine_fault(exc, str(out_dir))
        if fault is not None:
            raise MachineFault(f"{fault} (nothing was recorded for {decided.file})") from exc
        crash.record(exc, f"report centre {decided.centre} file {decided.file}")
        return dataclasses.replace(
            decided, issues=[*decided.issues, issue("RPT_02", file=decided.file, detail=type(exc).__name__)]
        )
    return dataclasses.replace(decided, reports={"annotated": made.get("annotated"), "confirmation": None})


def resolve_held(con: Connection, review_id: int, how: str, reference: Reference, out_dir: Path) -> dict:
    """Resolve held item `review_id` (`existing`, `new`, `new-number` or `reject`: see
    `entries.store.review.take_up`): its rows are classified and priced as any submission's are,
    stored with the resolution in one transaction, and the centre's confirmation is written again
    (it shows what is now stored). Returns what `review.settle` returns, and `confirmation`."""
    done = _resolve(con, review_id, how, reference)
    confirmation, _csv = write_confirmation(con, done["submission_id"], out_dir)
    return {**done, "confirmation": str(confirmation)}


def _resolve(con: Connection, review_id: int, how: str, reference: Reference) -> dict:
    with database.transaction(con):
        held = review.take_up(con, review_id, how)
        classified = None
        if how != "reject":
            classified = classify(held.rows, held.context, reference, held.history)
            errors = [i for i in classified.issues if i.severity == "error"]
            if errors:
                raise EntriesError(f"review item {review_id} cannot be stored: {errors[0].code} {errors[0].message}")
        return review.settle(con, held, classified)


def submit(
    con: Connection,
    sent: Sent,
    *,
    context: Context,
    reference: Reference,
    order_ref: str | None,
    out_dir: Path,
    limits: ReadLimits | None = None,
    dry_run: bool = False,
    work_dir: Path | None = None,
) -> Outcome:
    """Prepare and finish one submission in this process (the command line)."""
    return finish(
        con,
        prepare(sent, context, reference, limits, work_dir=work_dir),
        reference,
        order_ref=order_ref,
        out_dir=out_dir,
        dry_run=dry_run,
    )


def confirm(con: Connection, outcome: Outcome, out_dir: Path) -> str | None:
    """The confirmation of a stored submission ("a copy of your entries for your records"), written
    from the store; None when nothing was stored."""
    if outcome.submission_id is None or outcome.status not in (Status.PROCESSING_COMPLETE, Status.OCR_HANDLING_THIS):
        return None
    xlsx, _csv = write_confirmation(con, outcome.submission_id, out_dir)
    return str(xlsx)


def report_stem(prepared: Prepared) -> str:
    """Deterministic report name: received date, the upload's name, and its content hash."""
    return report_stem_of(prepared.context.received_on, prepared.path.name, prepared.sha256)


def _footer_reference(outcome: Outcome, centre: str) -> str:
    """What the annotated copy's footer names: the claim number the guide tells a centre to quote,
    else the centre and submission number; never the file's name, which may name a person."""
    if outcome.claim_number:
        return f"Claim {outcome.claim_number}"
    if outcome.submission_id is not None:
        return f"Centre {centre}, submission {outcome.submission_id}"
    return f"Centre {centre}"


def write_annotated(*args: Any, **kwargs: Any) -> tuple[Path, Path]:
    """`entries.reports.annotate.write_annotated`, imported when a file has issues to show: it
    brings openpyxl (0.1 s to import), which a clean file's reports never need."""
    from entries.reports.annotate import write_annotated as write

    return write(*args, **kwargs)


def write_reports(prepared: Prepared, outcome: Outcome, out_dir: Path) -> dict[str, str | None]:
    """The annotated copy of the centre's file (with its errors CSV) under out_dir/<centre>/, when it
    has anything to show. The form's issues are shown on its pages: it gets no workbook.

    When the centre's own workbook cannot be marked up (real workbooks hold parts no library
    reads), the errors go back in a new workbook made from the rows read; `annotated_as` is then
    "rebuilt" (else "own")."""
    reports: dict[str, str | None] = {"annotated": None}
    # The form's and the amended rows' issues are shown on the portal's pages: no workbook of them.
    if prepared.file_format in (FORM_FORMAT, AMENDED_FORMAT):
        return reports
    if prepared.rows is None or outcome.status == Status.DUPLICATE_FILE:
        # No rows to mark up (the upload failed, was empty or came before): its reasons and fixes
        # go back in an errors CSV, for every door (ingest, the nightly, the portal).
        if outcome.issues and outcome.status not in ACCEPTED:
            reports["errors"] = str(write_refusal_errors(outcome, out_dir))
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
        # Printed in the copy's footer: the claim number the guide tells a centre to quote, else the
        # submission's number (never the file's name, which a centre may have named for a person).
        "reference": _footer_reference(outcome, prepared.context.centre),
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
    reports["errors"] = str(_errors_csv)
    return reports


def write_refusal_errors(outcome: Outcome, out_dir: Path) -> Path:
    """`entries.reports.errors_csv.write_refusal_errors` for a refused upload's outcome."""
    from entries.reports.errors_csv import write_refusal_errors as write

    if outcome.received_on is None:  # cannot happen: every outcome the hall finishes has its date
        raise EntriesError("the upload has no received date")
    return write(
        out_dir,
        centre=outcome.centre,
        received_on=outcome.received_on,
        file_name=outcome.file,
        sha256=outcome.sha256,
        issues=outcome.issues,
        duplicate=outcome.status == Status.DUPLICATE_FILE,
    )
