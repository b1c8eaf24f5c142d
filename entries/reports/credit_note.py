"""Credit notes a finance team can send (DESIGN §10): issued once, numbered, written beside the invoices.

`build_credit_notes` reads issued credit notes as typed models (`entries.reports.credit_note_model`);
`write_credit_note_files` renders one as xlsx, CSV, HTML and JSON under `<out>/<centre>/`, named
`credit_note_<number>.*`. Issuing is `entries.store.credit_notes.issue_credit_notes`; the invoice runs
(`entries.reports.invoice`) issue and write both kinds of document together.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from entries.core.errors import EntriesError
from entries.reports.credit_note_model import CreditNote, CreditNoteLine
from entries.reports.credit_note_render import (
    CSV_COLUMNS,
    SHEET,
    credit_note_csv_rows,
    credit_note_html,
    credit_note_rows,
)
from entries.reports.files import write_csv_atomically, write_text_atomically, write_xlsx_streamed
from entries.reports.invoice_model import Party
from entries.store.credit_notes import CreditedGroup, IssuedCreditNote, credited_groups, issued_credit_notes
from entries.store.database import Connection

_KIND_ORDER = {"full_award": 0, "unit": 1, "top_up": 2, "move_down": 3}


def build_credit_notes(con: Connection, numbers: list[str]) -> list[CreditNote]:
    """The issued credit notes `numbers`, in that order, as typed models (one query for their
    details, one for their lines). Raises EntriesError when no credit note has one of the numbers,
    or when a credit note's lines do not add up to its subtotal."""
    found = issued_credit_notes(con, numbers)
    missing = [n for n in numbers if n not in found]
    if missing:
        raise EntriesError(f"no credit note has the number {missing[0]}")
    groups: dict[str, list[CreditedGroup]] = {n: [] for n in numbers}
    for group in credited_groups(con, numbers):
        groups[group.credit_note_number].append(group)
    return [_credit_note(found[n], groups[n]) for n in numbers]


def _credit_note(record: IssuedCreditNote, grouped: list[CreditedGroup]) -> CreditNote:
    lines = sorted(
        (
            CreditNoteLine(
                invoice_number=g.invoice_number,
                order_ref=g.order_ref,
                claim_number=g.claim_number,
                entry_code=g.entry_code,
                title=(g.title or g.entry_code) + (" (unit entries)" if g.kind == "unit" else ""),
                kind=g.kind,
                late=bool(g.late),
                quantity=int(g.quantity),
                unit_credit_pence=int(g.unit_pence),
                amount_pence=int(g.amount_pence),
            )
            for g in grouped
        ),
        key=lambda x: (
            x.invoice_number,
            x.order_ref is None,
            x.order_ref or "",
            x.claim_number or "",
            x.entry_code,
            x.late,
            x.unit_credit_pence,
            _KIND_ORDER.get(x.kind, 9),
            x.kind,
        ),
    )
    if sum(line.amount_pence for line in lines) != int(record.subtotal_pence):
        raise EntriesError(f"credit note {record.credit_note_number}: its lines do not add up to its subtotal")
    issuer, centre = json.loads(record.issuer_json), json.loads(record.centre_json)
    return CreditNote(
        credit_note_number=record.credit_note_number,
        credit_date=record.credit_date,
        issuer=Party(
            name=issuer["name"],
            address=tuple(issuer["address"]),
            vat_number=issuer.get("vat_number"),
            company_number=issuer.get("company_number"),
        ),
        centre=Party(
            name=centre.get("name") or "", address=tuple(centre.get("address") or ()), number=centre["number"]
        ),
        series=record.series,
        vat_rate_basis_points=int(record.vat_rate_basis_points),
        vat_treatment=record.vat_treatment,
        vat_note=record.vat_note,
        subtotal_pence=int(record.subtotal_pence),
        vat_pence=int(record.vat_pence),
        total_pence=int(record.total_pence),
        lines=tuple(lines),
    )


def credit_note_file_stem(number: str) -> str:
    """`credit_note_<number>`: a credit note number is letters, digits and hyphens, safe in a file name."""
    if not re.fullmatch(r"[A-Z]{2,6}-CN-[0-9]{4}-[0-9]{6}", number):
        raise EntriesError(f"{number!r} is not a credit note number")
    return f"credit_note_{number}"


def write_credit_note_files(note: CreditNote, out_dir: Path) -> dict[str, Path]:
    """Render `note` once per format under `out_dir/<centre>/`; returns {"xlsx", "csv", "html",
    "json"}. Each file is written under a temporary name and moved into place."""
    folder = Path(out_dir) / (note.centre.number or "unknown")
    stem = credit_note_file_stem(note.credit_note_number)
    return {
        "xlsx": write_xlsx_streamed(
            folder / f"{stem}.xlsx", SHEET, credit_note_rows(note), reference=f"Credit note {note.credit_note_number}"
        ),
        "csv": write_csv_atomically(credit_note_csv_rows(note), CSV_COLUMNS, folder / f"{stem}.csv"),
        "html": write_text_atomically(credit_note_html(note), folder / f"{stem}.html"),
        "json": write_text_atomically(
            json.dumps(note.as_json(), indent=2, ensure_ascii=False) + "\n", folder / f"{stem}.json"
        ),
    }


@dataclass(frozen=True)
class ProducedCreditNote:
    """One credit note as produced by a run: the model, its files, and whether this run issued it."""

    credit_note: CreditNote
    files: dict[str, Path]
    new: bool

    def as_json(self) -> dict:
        return {**self.credit_note.as_json(), "new": self.new, "files": {k: str(v) for k, v in self.files.items()}}
