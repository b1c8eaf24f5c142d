"""The invoice as an xlsx workbook: amounts are number cells in pounds (`£` format), its dates date
cells, quantities integers, codes text; printed, it fits A4 one page wide, the invoice number and
the page in every page's footer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entries.reports.files import Pence, StyledRow, write_xlsx_streamed
from entries.reports.invoice_model import Invoice

SHEET = "Invoice"
TITLE = "Invoice"
LATE_MARK = "Late fee"
STANDARD_MARK = "Standard fee"
LINE_COLUMNS = ("Claim number", "Entry code", "Title", "Fee", "Quantity", "Unit fee", "Amount")
_BLANK: StyledRow = ((), "plain")


def invoice_rows(invoice: Invoice) -> Iterator[StyledRow]:
    """The invoice's rows, in order: issuer, details, the centre billed, each order's lines and
    total, then subtotal, VAT and total, the VAT statement, the payment terms and (when the invoice
    carries them) how to pay: bank details and the invoice number as the payment reference."""
    yield (invoice.issuer.name,), "heading"
    for text in (*invoice.issuer.address, invoice.issuer.registration):
        if text:
            yield (text,), "plain"
    yield _BLANK
    yield (TITLE,), "title"
    dates = {"Invoice date": invoice.invoice_date, "Tax point": invoice.tax_point, "Due date": invoice.due_date}
    for label, value in invoice.header_fields():
        yield (label, dates.get(label, value)), "label"
    yield _BLANK
    bill_to = (f"{invoice.centre.name} (centre {invoice.centre.number})", *invoice.centre.address)
    for n, text in enumerate(bill_to):
        yield ("Bill to" if n == 0 else None, text), "label"
    for order in invoice.orders:
        yield _BLANK
        yield ("Order number", order.label), "label"
        yield LINE_COLUMNS, "header"
        for line in order.lines:
            yield (
                (
                    line.claim_number or "",
                    line.entry_code,
                    line.title,
                    LATE_MARK if line.late else STANDARD_MARK,
                    line.quantity,
                    Pence(line.unit_fee_pence),
                    Pence(line.amount_pence),
                ),
                "plain",
            )
        yield ("Order total", None, None, None, order.quantity, None, Pence(order.total_pence)), "bold"
    yield _BLANK
    for label, pence in (
        ("Subtotal", invoice.subtotal_pence),
        (invoice.vat_label, invoice.vat_pence),
        ("Total due", invoice.total_pence),
    ):
        yield (None, None, None, None, None, label, Pence(pence)), "bold"
    yield _BLANK
    for text in (invoice.vat_note, invoice.payment_terms, f"Due date: {invoice.due_date.isoformat()}"):
        if text:
            yield (text,), "note"
    if invoice.payment is not None:
        yield _BLANK
        yield ("How to pay",), "bold"
        yield (f"By bank transfer, quoting the payment reference {invoice.payment_reference}",), "note"
        for label, value in invoice.payment.fields(invoice.payment_reference):
            yield (label, value), "label"


def write_invoice_xlsx(invoice: Invoice, path: Path) -> Path:
    """Write the invoice's workbook at `path` (atomically, streamed)."""
    return write_xlsx_streamed(path, SHEET, invoice_rows(invoice), reference=f"Invoice {invoice.invoice_number}")
