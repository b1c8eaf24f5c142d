"""The invoice as CSV rows: integer pence, one record kind per row (line, order total, grand total)."""

from __future__ import annotations

from entries.reports.invoice_model import Invoice

CSV_COLUMNS = (
    "record",
    "centre",
    "series",
    "order_ref",
    "entry_code",
    "title",
    "kind",
    "late",
    "quantity",
    "fee_pence",
    "amount_pence",
)


def invoice_csv_rows(invoice: Invoice) -> list[list[object]]:
    """The invoice as CSV rows (CSV_COLUMNS): a row per line, per order total and the grand total; pence."""
    centre = invoice.centre
    rows: list[list[object]] = []
    for order in invoice.orders:
        where = [centre, order.series, order.order_ref]
        for line in order.lines:
            rows.append(
                [
                    "line",
                    *where,
                    line.entry_code,
                    line.title,
                    line.kind,
                    line.late,
                    line.quantity,
                    line.fee_pence,
                    line.amount_pence,
                ]
            )
        rows.append(["order total", *where, None, None, None, None, order.quantity, None, order.total_pence])
    rows.append(
        [
            "grand total",
            centre,
            invoice.series,
            None,
            None,
            None,
            None,
            None,
            invoice.quantity,
            None,
            invoice.total_pence,
        ]
    )
    return rows
