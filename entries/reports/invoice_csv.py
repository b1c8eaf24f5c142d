"""The invoice as CSV rows: integer pence, one record kind per row (line, order total, subtotal, VAT, total)."""

from __future__ import annotations

from entries.reports.invoice_model import Invoice

CSV_COLUMNS = (
    "record",
    "invoice_number",
    "invoice_date",
    "due_date",
    "centre",
    "series",
    "order_ref",
    "claim_number",
    "entry_code",
    "title",
    "kind",
    "late",
    "quantity",
    "unit_fee_pence",
    "amount_pence",
)


def invoice_csv_rows(invoice: Invoice) -> list[list[object]]:
    """The invoice as CSV rows (CSV_COLUMNS): a row per line and per order total, then the subtotal,
    the VAT (its rate in the title column) and the total; amounts in pence."""
    head = [invoice.invoice_number, invoice.invoice_date.isoformat(), invoice.due_date.isoformat()]
    centre = invoice.centre.number
    rows: list[list[object]] = []
    for order in invoice.orders:
        where = [*head, centre, invoice.series, order.order_ref]
        for line in order.lines:
            rows.append(
                [
                    "line",
                    *where,
                    line.claim_number,
                    line.entry_code,
                    line.title,
                    line.kind,
                    line.late,
                    line.quantity,
                    line.unit_fee_pence,
                    line.amount_pence,
                ]
            )
        rows.append(["order total", *where, None, None, None, None, None, order.quantity, None, order.total_pence])
    where = [*head, centre, invoice.series, None, None, None]
    rows.append(["subtotal", *where, None, None, None, invoice.quantity, None, invoice.subtotal_pence])
    rows.append(["vat", *where, f"VAT at {invoice.vat_rate}", None, None, None, None, invoice.vat_pence])
    rows.append(["total", *where, None, None, None, None, None, invoice.total_pence])
    return rows
