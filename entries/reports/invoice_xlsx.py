"""The invoice as an xlsx workbook: amounts are number cells in pounds (`£` format)."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from entries.reports.files import MONEY_FORMAT, active_sheet, pounds, put
from entries.reports.invoice_model import Invoice

SHEET = "Invoice"
TITLE = "Entry fees invoice"
LATE_MARK = "Late fee"
LINE_COLUMNS = ("Entry code", "Title", "Late", "Quantity", "Fee", "Amount")
_WIDTHS = (14, 62, 10, 10, 12, 14)


def invoice_workbook(invoice: Invoice) -> Workbook:
    """The invoice as one sheet: details, each order's lines and total, the grand total."""
    wb = Workbook()
    ws = active_sheet(wb)
    ws.title = SHEET
    bold = Font(bold=True)
    row = 1
    put(ws, row, 1, TITLE).font = Font(bold=True, size=14)
    for label, value in invoice.header_fields():
        row += 1
        put(ws, row, 1, label).font = bold
        put(ws, row, 2, value)
    row += 1
    for order in invoice.orders:
        row += 1
        put(ws, row, 1, "Order number").font = bold
        put(ws, row, 2, order.label)
        put(ws, row, 3, "Series").font = bold
        put(ws, row, 4, order.series)
        row += 1
        for col, name in enumerate(LINE_COLUMNS, start=1):
            put(ws, row, col, name).font = bold
        for line in order.lines:
            row += 1
            put(ws, row, 1, line.entry_code)
            put(ws, row, 2, line.title)
            put(ws, row, 3, LATE_MARK if line.late else "")
            put(ws, row, 4, line.quantity)
            put(ws, row, 5, pounds(line.fee_pence)).number_format = MONEY_FORMAT
            put(ws, row, 6, pounds(line.amount_pence)).number_format = MONEY_FORMAT
        row += 1
        put(ws, row, 1, "Order total").font = bold
        put(ws, row, 4, order.quantity).font = bold
        total = put(ws, row, 6, pounds(order.total_pence))
        total.number_format, total.font = MONEY_FORMAT, bold
        row += 1
    row += 1
    put(ws, row, 1, "Grand total").font = bold
    put(ws, row, 4, invoice.quantity).font = bold
    total = put(ws, row, 6, pounds(invoice.total_pence))
    total.number_format, total.font = MONEY_FORMAT, bold
    for col, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    return wb
