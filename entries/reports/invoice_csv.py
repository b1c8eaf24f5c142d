"""The invoice as CSV rows: integer pence, one record kind per row (line, order total, subtotal, VAT,
total and, when the invoice carries bank details, payment)."""

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

# Invoices issued with the issuer's VAT treatment and bank details carry these too (older invoices
# keep the columns, and so the bytes, they were issued with).
PAYMENT_COLUMNS = ("note", "bank", "sort_code", "account_number", "account_name", "payment_reference")


def invoice_csv_columns(invoice: Invoice) -> tuple[str, ...]:
    """The CSV header of `invoice`: CSV_COLUMNS, then PAYMENT_COLUMNS when it carries the details."""
    return CSV_COLUMNS + PAYMENT_COLUMNS if _carries_payment(invoice) else CSV_COLUMNS


def _carries_payment(invoice: Invoice) -> bool:
    return invoice.payment is not None or invoice.vat_treatment is not None


def invoice_csv_rows(invoice: Invoice) -> list[list[object]]:
    """The invoice as CSV rows (`invoice_csv_columns`): a row per line and per order total, then the
    subtotal, the VAT (`VAT: exempt` or its rate in the title column) and the total; amounts in pence.
    An invoice carrying the VAT treatment and bank details adds the VAT note to the VAT row and a
    payment row: the total due, the bank details and the payment reference (the invoice number)."""
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
    rows.append(["vat", *where, invoice.vat_label, None, None, None, None, invoice.vat_pence])
    rows.append(["total", *where, None, None, None, None, None, invoice.total_pence])
    if not _carries_payment(invoice):
        return rows
    blank = [None] * len(PAYMENT_COLUMNS)
    rows = [row + blank for row in rows]
    rows[-2][len(CSV_COLUMNS)] = invoice.vat_note or None  # the VAT row's note: why no VAT, say
    if invoice.payment is not None:
        p = invoice.payment
        rows.append(
            [
                "payment",
                *where,
                f"Bank transfer quoting {invoice.payment_reference}",
                None,
                None,
                None,
                None,
                invoice.total_pence,
                f"{invoice.payment_terms} Due date: {invoice.due_date.isoformat()}.",
                p.bank,
                p.sort_code,
                p.account_number,
                p.account_name,
                invoice.payment_reference,
            ]
        )
    return rows
