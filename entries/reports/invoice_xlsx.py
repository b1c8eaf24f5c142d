"""The invoice as an xlsx workbook: amounts are number cells in pounds (`£` format)."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from entries.reports.files import MONEY_FORMAT, active_sheet, pounds, put
from entries.reports.invoice_model import Invoice

SHEET = "Invoice"
TITLE = "Invoice"
LATE_MARK = "Late fee"
STANDARD_MARK = "Standard fee"
LINE_COLUMNS = ("Claim number", "Entry code", "Title", "Fee", "Quantity", "Unit fee", "Amount")
_WIDTHS = (14, 12, 58, 13, 10, 12, 14)


def invoice_workbook(invoice: Invoice) -> Workbook:
    """The invoice as one sheet: issuer, details, the centre billed, each order's lines and total,
    then subtotal, VAT and total, the VAT statement and the payment terms."""
    wb = Workbook()
    ws = active_sheet(wb)
    ws.title = SHEET
    bold = Font(bold=True)
    row = 1
    put(ws, row, 1, invoice.issuer.name).font = Font(bold=True, size=12)
    for text in (*invoice.issuer.address, invoice.issuer.registration):
        if text:
            row += 1
            put(ws, row, 1, text)
    row += 2
    put(ws, row, 1, TITLE).font = Font(bold=True, size=14)
    for label, value in invoice.header_fields():
        row += 1
        put(ws, row, 1, label).font = bold
        put(ws, row, 2, value)
    row += 2
    put(ws, row, 1, "Bill to").font = bold
    for text in (f"{invoice.centre.name} (centre {invoice.centre.number})", *invoice.centre.address):
        put(ws, row, 2, text)
        row += 1
    for order in invoice.orders:
        row += 1
        put(ws, row, 1, "Order number").font = bold
        put(ws, row, 2, order.label)
        row += 1
        for col, name in enumerate(LINE_COLUMNS, start=1):
            put(ws, row, col, name).font = bold
        for line in order.lines:
            row += 1
            put(ws, row, 1, line.claim_number or "")
            put(ws, row, 2, line.entry_code)
            put(ws, row, 3, line.title)
            put(ws, row, 4, LATE_MARK if line.late else STANDARD_MARK)
            put(ws, row, 5, line.quantity)
            put(ws, row, 6, pounds(line.unit_fee_pence)).number_format = MONEY_FORMAT
            put(ws, row, 7, pounds(line.amount_pence)).number_format = MONEY_FORMAT
        row += 1
        put(ws, row, 1, "Order total").font = bold
        put(ws, row, 5, order.quantity).font = bold
        total = put(ws, row, 7, pounds(order.total_pence))
        total.number_format, total.font = MONEY_FORMAT, bold
        row += 1
    row += 1
    for label, pence in (
        ("Subtotal", invoice.subtotal_pence),
        (f"VAT at {invoice.vat_rate}", invoice.vat_pence),
        ("Total due", invoice.total_pence),
    ):
        put(ws, row, 6, label).font = bold
        cell = put(ws, row, 7, pounds(pence))
        cell.number_format, cell.font = MONEY_FORMAT, bold
        row += 1
    row += 1
    for text in (invoice.vat_note, invoice.payment_terms, f"Due date: {invoice.due_date.isoformat()}"):
        if text:
            put(ws, row, 1, text).alignment = Alignment(wrap_text=False)
            row += 1
    for col, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    return wb
