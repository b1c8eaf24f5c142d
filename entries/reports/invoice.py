"""Invoices a finance team can send: issued once, numbered, rendered as xlsx, CSV, HTML and JSON.

`produce_invoices` first bills the centre's entries that no invoice bills yet (one new invoice per
series, `entries.store.invoices.issue_invoices`), then renders every invoice that bills the
centre's entries within the filters. The same invoice produced again keeps its number and its
bytes; new entries get a new invoice for them only. `build_invoice` reads one issued invoice as the
typed model (docs/architecture.md §8): its details, then one order per order number (entries
without one last), each with lines of one claim, entry code, kind, late flag and fee. Amounts are
integer pence; every line is quantity x unit fee, and the subtotal is the sum of the billed
entries' stored fees.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from entries.core.errors import EntriesError, UsageError
from entries.core.series import is_series
from entries.reports.credit_note import ProducedCreditNote, build_credit_notes, write_credit_note_files
from entries.reports.files import (
    Pence,
    Sheet,
    StyledRow,
    write_csv_atomically,
    write_text_atomically,
    write_workbook_streamed,
)
from entries.reports.invoice_csv import invoice_csv_columns, invoice_csv_rows
from entries.reports.invoice_html import invoice_html
from entries.reports.invoice_model import Invoice, InvoiceLine, InvoiceOrder, Party, Payment
from entries.reports.invoice_xlsx import write_invoice_xlsx
from entries.store.credit_notes import credit_notes_for, issue_credit_notes
from entries.store.database import Connection
from entries.store.invoices import (
    BilledGroup,
    IssuedInvoice,
    billed_groups,
    centres_with_entries,
    invoices_for,
    issue_invoices,
    issued_invoices,
)
from schemas.invoice import INVOICE_LINE

LINE_FRAME_COLUMNS = (
    "invoice_number",
    "centre",
    "series",
    "order_ref",
    "claim_number",
    "entry_code",
    "kind",
    "title",
    "late",
    "quantity",
    "unit_fee_pence",
    "amount_pence",
)
_KIND_ORDER = {"full_award": 0, "unit": 1, "top_up": 2, "move_down": 3}


def check_centre(centre: str, series: str | None) -> str:
    """The centre number, stripped; raises UsageError unless it is 5 digits and the series YYYY-MM."""
    centre = str(centre).strip()
    if not re.fullmatch(r"[0-9]{5}", centre):
        raise UsageError("the centre number must be 5 digits")
    if series is not None and not is_series(series):
        raise UsageError("the series must be written YYYY-MM")
    return centre


def build_invoice(con: Connection, number: str) -> Invoice:
    """The issued invoice `number` as the typed model. Raises EntriesError when no invoice has that number."""
    return build_invoices(con, [number])[0]


def build_invoices(con: Connection, numbers: list[str]) -> list[Invoice]:
    """The issued invoices `numbers`, in that order, as typed models: one query for their details,
    one grouped query for all their lines. Raises EntriesError when no invoice has one of the numbers."""
    found = issued_invoices(con, numbers)
    missing = [n for n in numbers if n not in found]
    if missing:
        raise EntriesError(f"no invoice has the number {missing[0]}")
    groups: dict[str, list[BilledGroup]] = {n: [] for n in numbers}
    for group in billed_groups(con, numbers):
        groups[group.invoice_number].append(group)
    return [_invoice(found[n], groups[n]) for n in numbers]


def _invoice(record: IssuedInvoice, grouped: list[BilledGroup]) -> Invoice:
    """One invoice's model from its stored record and its billed entries grouped into lines."""
    orders: dict[str | None, list[InvoiceLine]] = {}
    for g in grouped:
        orders.setdefault(g.order_ref, []).append(
            InvoiceLine(
                entry_code=g.entry_code,
                title=_line_title(g.title, g.entry_code, g.kind),
                kind=g.kind,
                quantity=int(g.quantity),
                unit_fee_pence=int(g.fee_pence),
                amount_pence=int(g.amount_pence),
                late=bool(g.late),
                claim_number=g.claim_number,
            )
        )
    issuer, centre = json.loads(record.issuer_json), json.loads(record.centre_json)
    return Invoice(
        invoice_number=record.invoice_number,
        invoice_date=record.invoice_date,
        tax_point=record.tax_point,
        due_date=record.due_date,
        payment_terms=record.payment_terms,
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
        vat_note=record.vat_note,
        subtotal_pence=int(record.subtotal_pence),
        vat_pence=int(record.vat_pence),
        total_pence=int(record.total_pence),
        vat_treatment=issuer.get("vat_treatment"),
        payment=_payment(issuer.get("payment")),
        orders=tuple(
            InvoiceOrder(
                order_ref=ref,
                lines=tuple(
                    sorted(
                        lines,
                        key=lambda x: (
                            x.claim_number or "",
                            x.entry_code,
                            x.late,
                            x.unit_fee_pence,
                            _KIND_ORDER.get(x.kind, 9),
                            x.kind,
                        ),
                    )
                ),
            )
            for ref, lines in sorted(orders.items(), key=lambda item: (item[0] is None, item[0] or ""))
        ),
    )


def _payment(stored: dict | None) -> Payment | None:
    """The bank details an invoice was issued with (its issuer_json's `payment`: bank, sort_code,
    account_number, account_name), or None when it was issued without them."""
    if not stored:
        return None
    return Payment(
        bank=stored["bank"],
        sort_code=stored["sort_code"],
        account_number=stored["account_number"],
        account_name=stored["account_name"],
    )


def _line_title(title: str | None, code: str, kind: str) -> str:
    base = title or code
    return f"{base} (unit entries)" if kind == "unit" else base


def invoice_lines(invoice: Invoice) -> pd.DataFrame:
    """The invoice's lines as one frame (columns LINE_FRAME_COLUMNS), validated by INVOICE_LINE;
    the lines must add up to the invoice's subtotal."""
    records = [
        {
            "invoice_number": invoice.invoice_number,
            "centre": invoice.centre.number,
            "series": invoice.series,
            "order_ref": order.order_ref,
            **line.as_json(),
        }
        for order in invoice.orders
        for line in order.lines
    ]
    frame = pd.DataFrame.from_records(records, columns=list(LINE_FRAME_COLUMNS))
    frame = frame.astype(
        {
            "invoice_number": "str",
            "centre": "str",
            "series": "str",
            "entry_code": "str",
            "kind": "str",
            "title": "str",
            "late": "bool",
            "quantity": "int64",
            "unit_fee_pence": "int64",
            "amount_pence": "int64",
        }
    )
    validated = INVOICE_LINE.validate(frame)
    if int(validated["amount_pence"].sum()) != invoice.subtotal_pence:
        raise EntriesError(f"invoice {invoice.invoice_number}: its lines do not add up to its subtotal")
    return validated


def invoice_file_stem(number: str) -> str:
    """`invoice_<number>`: an invoice number is letters, digits and hyphens, safe in a file name."""
    if not re.fullmatch(r"[A-Z]{2,6}-[0-9]{4}-[0-9]{6}", number):
        raise EntriesError(f"{number!r} is not an invoice number")
    return f"invoice_{number}"


def write_invoice_files(invoice: Invoice, out_dir: Path) -> dict[str, Path]:
    """Render `invoice` once per format under `out_dir/<centre>/` (lines validated first); returns
    {"xlsx", "csv", "html", "json"}. Each file is written under a temporary name and moved into place."""
    invoice_lines(invoice)  # raises before any file is written
    folder = Path(out_dir) / (invoice.centre.number or "unknown")
    stem = invoice_file_stem(invoice.invoice_number)
    return {
        "xlsx": write_invoice_xlsx(invoice, folder / f"{stem}.xlsx"),
        "csv": write_csv_atomically(invoice_csv_rows(invoice), invoice_csv_columns(invoice), folder / f"{stem}.csv"),
        "html": write_text_atomically(invoice_html(invoice), folder / f"{stem}.html"),
        "json": write_text_atomically(
            json.dumps(invoice.as_json(), indent=2, ensure_ascii=False) + "\n", folder / f"{stem}.json"
        ),
    }


@dataclass(frozen=True)
class Produced:
    """One invoice as produced by a run: the model, its files, and whether this run issued it."""

    invoice: Invoice
    files: dict[str, Path]
    new: bool

    def as_json(self) -> dict:
        return {
            "document": "invoice",
            **self.invoice.as_json(),
            "new": self.new,
            "files": {k: str(v) for k, v in self.files.items()},
        }


@dataclass(frozen=True)
class Documents:
    """What an invoice run produced: its invoices and its credit notes, each oldest first."""

    invoices: list[Produced]
    credit_notes: list[ProducedCreditNote]

    def as_json(self) -> list[dict]:
        """DESIGN §8 and §10: one list, the invoices, then the credit notes."""
        return [p.as_json() for p in self.invoices] + [c.as_json() for c in self.credit_notes]


def produce_documents(
    con: Connection,
    centre: str | None,
    out_dir: Path,
    *,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
    on: dt.date | None = None,
) -> Documents:
    """The one place money documents are issued and written: bill the unbilled live entries of
    `centre` (every centre for None) within the filters, credit their withdrawn billed ones not yet
    credited (both dated `on`, default today), then write every invoice and credit note of those
    entries within the filters, oldest first. The same documents produced again keep their bytes."""
    issued = issue_invoices(con, centre, on=on, series=series, order_ref=order_ref, received=received)
    credited = issue_credit_notes(con, centre, on=on, series=series, order_ref=order_ref, received=received)
    invoices = build_invoices(con, invoices_for(con, centre, series, order_ref, received))
    notes = build_credit_notes(con, credit_notes_for(con, centre, series, order_ref, received))
    return Documents(
        invoices=[Produced(i, write_invoice_files(i, out_dir), i.invoice_number in issued.new) for i in invoices],
        credit_notes=[
            ProducedCreditNote(n, write_credit_note_files(n, out_dir), n.credit_note_number in credited.new)
            for n in notes
        ],
    )


def produce_invoices(
    con: Connection,
    centre: str,
    out_dir: Path,
    *,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
    on: dt.date | None = None,
) -> list[Produced]:
    """`produce_documents` for one centre, returning its invoices (its credit notes are issued and
    written too, as every invoice run does)."""
    centre = check_centre(centre, series)
    return produce_documents(
        con, centre, out_dir, series=series, order_ref=order_ref, received=received, on=on
    ).invoices


FINANCE_HEADER = (
    "Invoice number",
    "Invoice date",
    "Due date",
    "Centre",
    "Centre name",
    "Series",
    "Orders",
    "Entries",
    "Late entries",
    "Subtotal (£)",
    "VAT (£)",
    "Total (£)",
    "New",
)
FINANCE_CSV_HEADER = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "centre",
    "centre_name",
    "series",
    "orders",
    "entries",
    "late_entries",
    "subtotal_pence",
    "vat_pence",
    "total_pence",
    "new",
)


CREDIT_HEADER = (
    "Credit note number",
    "Date",
    "Centre",
    "Centre name",
    "Series",
    "Invoices credited",
    "Entries",
    "Subtotal (£)",
    "VAT (£)",
    "Total credited (£)",
    "New",
)
CREDIT_CSV_HEADER = (
    "credit_note_number",
    "date",
    "centre",
    "centre_name",
    "series",
    "invoice_numbers",
    "entries",
    "subtotal_pence",
    "vat_pence",
    "total_pence",
    "new",
)
CENTRE_HEADER = ("Centre", "Centre name", "Invoices", "Credit notes", "Invoiced (£)", "Credited (£)", "Net (£)")
CENTRE_CSV_HEADER = (
    "centre",
    "centre_name",
    "invoices",
    "credit_notes",
    "invoiced_pence",
    "credited_pence",
    "net_pence",
)


def write_series_invoices(
    con: Connection,
    series: str | None,
    out_dir: Path,
    received: tuple[dt.date, dt.date] | None = None,
    on: dt.date | None = None,
) -> dict:
    """Invoices and credit notes for every centre with entries in `series` and/or received in a
    date range (issuing new ones, dated `on`), plus one summary for finance: a sheet of invoices, a
    sheet of credit notes and a sheet of what each centre was invoiced, credited and owes net.

    Returns {"series", "received", "invoices": [§8 invoice objects and §10 credit note objects,
    each with "document", "new" and "files"], "centres": [{"centre", "centre_name", "invoices",
    "credit_notes", "orders", "entries", "late", "total_pence", "invoiced_pence", "credited_pence",
    "net_pence"}], "total_pence" (invoiced), "invoiced_pence", "credited_pence", "net_pence",
    "summary"} (the summary's xlsx path; CSVs with pence sit beside it, one a sheet).
    """
    if series is None and received is None:
        raise UsageError("give a series or a date range")
    if series is not None:
        check_centre("00000", series)
    centres = centres_with_entries(con, series, received)
    # Every centre at once: one issue, one lookup and one read of the documents, never one a centre.
    documents = produce_documents(con, None, out_dir, series=series, received=received, on=on)
    produced, credits = documents.invoices, documents.credit_notes
    by_centre: list[dict] = []
    for centre in centres:
        mine = [p for p in produced if p.invoice.centre.number == centre]
        my_credits = [c for c in credits if c.credit_note.centre.number == centre]
        invoiced = sum(p.invoice.total_pence for p in mine)
        credited = sum(c.credit_note.total_pence for c in my_credits)
        by_centre.append(
            {
                "centre": centre,
                "centre_name": mine[0].invoice.centre.name if mine else None,
                "invoices": [p.invoice.invoice_number for p in mine],
                "credit_notes": [c.credit_note.credit_note_number for c in my_credits],
                "orders": sum(len(p.invoice.orders) for p in mine),
                "entries": sum(p.invoice.quantity for p in mine),
                "late": sum(line.quantity for p in mine for line in p.invoice.lines if line.late),
                "total_pence": invoiced,
                "invoiced_pence": invoiced,
                "credited_pence": credited,
                "net_pence": invoiced - credited,
            }
        )
    folder = Path(out_dir) / "finance"
    stem = f"invoices_{series or 'all'}" + (
        f"_received_{received[0].isoformat()}_to_{received[1].isoformat()}" if received else ""
    )
    records: list[tuple] = [
        (
            p.invoice.invoice_number,
            p.invoice.invoice_date,
            p.invoice.due_date,
            p.invoice.centre.number,
            p.invoice.centre.name,
            p.invoice.series,
            len(p.invoice.orders),
            p.invoice.quantity,
            sum(line.quantity for line in p.invoice.lines if line.late),
            p.invoice.subtotal_pence,
            p.invoice.vat_pence,
            p.invoice.total_pence,
            "yes" if p.new else "",
        )
        for p in produced
    ]
    credit_records: list[tuple] = [
        (
            c.credit_note.credit_note_number,
            c.credit_note.credit_date,
            c.credit_note.centre.number,
            c.credit_note.centre.name,
            c.credit_note.series,
            " ".join(c.credit_note.invoice_numbers),
            c.credit_note.quantity,
            c.credit_note.subtotal_pence,
            c.credit_note.vat_pence,
            c.credit_note.total_pence,
            "yes" if c.new else "",
        )
        for c in credits
    ]
    centre_records: list[tuple] = [
        (
            row["centre"],
            row["centre_name"],
            len(row["invoices"]),
            len(row["credit_notes"]),
            row["invoiced_pence"],
            row["credited_pence"],
            row["net_pence"],
        )
        for row in by_centre
    ]
    invoiced = sum(p.invoice.total_pence for p in produced)
    credited = sum(c.credit_note.total_pence for c in credits)
    # Every printed page's footer names the summary (its series and dates).
    reference = "Finance summary: " + stem.removeprefix("invoices_").replace("_", " ")
    sheets = [
        Sheet(name, _money_rows(header, rows, money), freeze_header=True, reference=f"{reference}, {name.lower()}")
        for name, header, rows, money in (
            ("Invoices", FINANCE_HEADER, records, (9, 10, 11)),
            ("Credit notes", CREDIT_HEADER, credit_records, (7, 8, 9)),
            ("Centres", CENTRE_HEADER, centre_records, (4, 5, 6)),
        )
    ]
    summary = write_workbook_streamed(folder / f"{stem}.xlsx", sheets)
    write_csv_atomically(_csv_with_total(records, (6, 7, 8, 9, 10, 11), 1), FINANCE_CSV_HEADER, folder / f"{stem}.csv")
    write_csv_atomically(
        _csv_with_total(credit_records, (6, 7, 8, 9), 1), CREDIT_CSV_HEADER, folder / f"{stem}_credit_notes.csv"
    )
    write_csv_atomically(
        _csv_with_total(centre_records, (2, 3, 4, 5, 6), 0), CENTRE_CSV_HEADER, folder / f"{stem}_centres.csv"
    )
    return {
        "series": series,
        "received": None if received is None else [d.isoformat() for d in received],
        "invoices": documents.as_json(),
        "centres": by_centre,
        "total_pence": invoiced,
        "invoiced_pence": invoiced,
        "credited_pence": credited,
        "net_pence": invoiced - credited,
        "summary": str(summary),
    }


def _money_rows(header: tuple[str, ...], records: list[tuple], money: tuple[int, ...]) -> list[StyledRow]:
    """A finance sheet: the column headings, a row per record (the `money` columns, consecutive, in
    pence, shown as pounds; dates date cells) and a bold Total row summing the money columns."""
    rows: list[StyledRow] = [(header, "header")]
    rows += [(tuple(Pence(v) if i in money else v for i, v in enumerate(rec)), "plain") for rec in records]
    totals = tuple(Pence(sum(int(rec[i]) for rec in records)) for i in money)
    rows.append((("Total", *[None] * (money[0] - 1), *totals), "bold"))
    return rows


def _csv_with_total(records: list[tuple], summed: tuple[int, ...], trailing: int) -> list[list[object]]:
    """The records as CSV rows and a Total row summing the `summed` columns (integers: pence and
    counts), blank elsewhere, with `trailing` blank cells after the last summed column."""
    width = max(summed) + 1 + trailing
    total: list[object] = ["Total", *[""] * (width - 1)]
    for i in summed:
        total[i] = sum(int(rec[i]) for rec in records)
    return [list(rec) for rec in records] + [total]
