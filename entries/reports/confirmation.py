"""The confirmation of one upload's stored entries, sent back to the centre (xlsx and CSV).

`write_confirmation` writes `<out_dir>/<centre>/<stem>.confirmation.xlsx` and `.csv`, both with the
same rows:

1. a header block: centre number and name, order number, series (each series the entries are for,
   marked late where the late fee applies), date received (the submission's `received_on`, never
   today: a date cell in the xlsx), status and claim number;
2. one row per stored entry of the submission, sorted by candidate number, entry code and unit:
   candidate number, UCI, surname, forenames, entry code, title (with the unit's title for a unit
   entry), unit, kind, fee, late (Yes/No) and series;
3. totals by kind (count and amount), then the overall total.

Fees are pounds in the xlsx (number cells in a `£` format) and integer pence in the CSV (columns
`fee_pence` and `amount_pence`). Codes (candidate numbers, entry codes, UCIs) are text, leading
zeros kept; counts are integers. The xlsx prints on A4, one page wide, its column headings repeated
on every page and the claim number in the footer. The same stored data always gives the same cell
values. Both files hold personal data: nothing here logs or prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entries.core.errors import EntriesError
from entries.reports.files import (
    Pence,
    report_stem_of,
    safe_file_part,
    write_csv_atomically,
    write_xlsx_streamed,
)
from entries.store import confirmation as stored
from entries.store.database import Connection

SHEET = "Confirmation"
TITLE = "Entries confirmation"
KINDS = ("full_award", "unit", "top_up", "move_down")
# How each kind of entry is named to centres (the template's instructions name them the same way).
KIND_LABELS = {"full_award": "Full award", "top_up": "Top-up", "move_down": "Moving down"}
KIND_NAMES = {**KIND_LABELS, "unit": "Unit"}
ENTRY_COLUMNS = (
    "Candidate number",
    "UCI",
    "Surname",
    "Forenames",
    "Entry code",
    "Title",
    "Unit",
    "Kind",
    "Fee",
    "Late",
    "Series",
)
# Headers that differ in the CSV, where amounts are integer pence.
CSV_HEADERS = {"Fee": "fee_pence", "Amount": "amount_pence"}


Money = Pence  # an amount: pounds in the xlsx, pence in the CSV


@dataclass(frozen=True)
class _Row:
    style: str  # "title", "field", "blank", "header", "entry", "total"
    cells: tuple[object, ...]


def submission_stem(con: Connection, submission_id: int) -> str:
    """The report stem of a submission, as `entries.ingest.report_stem` names its reports."""
    key = stored.file_key(con, submission_id)
    if key is None:
        raise EntriesError(f"there is no submission {submission_id}")
    return report_stem_of(key.received_on, key.file_name, key.sha256)


def confirmation_rows(con: Connection, submission_id: int) -> list[_Row]:
    """The confirmation's rows, in order, as both files carry them."""
    head = stored.header(con, submission_id)
    if head is None:
        raise EntriesError(f"there is no submission {submission_id}")
    entries = stored.stored_entries(con, submission_id)
    # The series the stored entries are for (rows may name their own); the upload's when none stored.
    series = head.series
    stored_series = sorted({(e.series, bool(e.late)) for e in entries})
    if stored_series:
        series = "; ".join(f"{name}{' (late)' if late else ''}" for name, late in stored_series)

    rows = [
        _Row("title", (TITLE,)),
        _Row("field", ("Centre number", head.centre)),
        _Row("field", ("Centre name", head.centre_name or "")),
        _Row("field", ("Order number", head.order_ref or "")),
        _Row("field", ("Series", series or "")),
        _Row("field", ("Date received", head.received_on)),
        _Row("field", ("Status", head.status)),
        _Row("field", ("Claim number", head.claim_number or "")),
        _Row("blank", ()),
        _Row("header", ENTRY_COLUMNS),
    ]
    count = dict.fromkeys(KINDS, 0)
    amount = dict.fromkeys(KINDS, 0)
    for e in entries:
        title = e.code_title or ""
        unit = e.unit_number
        if unit is not None and e.unit_title:
            title = f"{title}: unit {unit} {e.unit_title}" if title else f"Unit {unit} {e.unit_title}"
        rows.append(
            _Row(
                "entry",
                (
                    e.candidate_number,
                    e.uci or "",
                    e.surname or "",
                    e.forenames or "",
                    e.entry_code,
                    title,
                    None if unit is None else int(unit),
                    KIND_NAMES.get(e.kind, e.kind),
                    Money(int(e.fee_pence)),
                    "Yes" if e.late else "No",
                    e.series,
                ),
            )
        )
        count[e.kind] = count.get(e.kind, 0) + 1
        amount[e.kind] = amount.get(e.kind, 0) + int(e.fee_pence)
    rows.append(_Row("blank", ()))
    rows.append(_Row("header", ("Totals by kind", "Entries", "Amount")))
    for kind in (*KINDS, *sorted(k for k in count if k not in KINDS)):
        rows.append(_Row("entry", (KIND_NAMES.get(kind, kind), count[kind], Money(amount[kind]))))
    rows.append(_Row("total", ("Total", sum(count.values()), Money(sum(amount.values())))))
    return rows


def write_confirmation(
    con: Connection, submission_id: int, out_dir: Path, stem: str | None = None
) -> tuple[Path, Path]:
    """Write the submission's confirmation as xlsx and CSV under `out_dir/<centre>/`; return both paths.

    `stem` names the files (`<stem>.confirmation.xlsx`, `<stem>.confirmation.csv`); by default the
    submission's report stem (`submission_stem`). Raises EntriesError for an unknown submission and
    ValueError for a stem that is not a plain file name.
    """
    if stem is None:
        stem = submission_stem(con, submission_id)
    if not stem or stem in (".", "..") or "/" in stem or "\\" in stem or Path(stem).name != stem:
        raise ValueError("stem must be a plain file name")
    rows = confirmation_rows(con, submission_id)
    centre = rows[1].cells[1]
    folder = Path(out_dir) / safe_file_part(str(centre))
    looks = {"title": "title", "header": "header", "total": "bold", "field": "label"}
    claim = rows[7].cells[1]
    # The footer of every printed page: whose confirmation it is and the claim number to quote.
    reference = f"{TITLE}: centre {centre}" + (f", claim number {claim}" if claim else "")
    xlsx_path = write_xlsx_streamed(
        folder / f"{stem}.confirmation.xlsx",
        SHEET,
        ((r.cells, looks.get(r.style, "plain")) for r in rows),
        reference=reference,
    )
    csv_path = write_csv_atomically(
        ([_csv_value(v, r.style) for v in r.cells] for r in rows), None, folder / f"{stem}.confirmation.csv"
    )
    return xlsx_path, csv_path


def _csv_value(value: object, style: str) -> object:
    if isinstance(value, Money):
        return value.pence
    if style == "header" and isinstance(value, str):
        return CSV_HEADERS.get(value, value)
    return value
