"""Invoices for a centre's stored entries: one order per order number, lines per entry code and fee.

`invoice_orders` returns the `entries invoice --json` object (docs/architecture.md §8):

    {"centre", "series", "orders": [{"order_ref", "lines": [{"entry_code", "quantity", "fee_pence",
     "amount_pence", "late"}], "total_pence"}], "total_pence"}

plus, as extra keys, `centre_name`, each order's `series` and each line's `title` and `kind`.
Every stored entry is invoiced, replaced ones included (they were entered). An order is one order
number in one series (entries without an order number are an order of their own, listed last).
A line is the entries of one order with the same entry code, kind, late flag and fee, so late fees
are lines of their own; lines are sorted by entry code, late, fee. Amounts are integer pence and
every total is the sum of the stored entries' fees.

`write_invoice` writes the same invoice as xlsx, CSV and a printable HTML page.
"""

from __future__ import annotations

import datetime as dt

import hashlib
import html
import re
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from entries.core.series import is_series

from entries.core.errors import UsageError
from entries.reports.files import (
    MONEY_FORMAT,
    pounds,
    pounds_text,
    put,
    safe_file_part,
    write_csv_atomically,
    write_text_atomically,
    write_xlsx_atomically,
)
from schemas.invoice import INVOICE_LINE

SHEET = "Invoice"
TITLE = "Entry fees invoice"
NO_ORDER = "No order number"
LATE_MARK = "Late fee"
LINE_COLUMNS = ("Entry code", "Title", "Late", "Quantity", "Fee", "Amount")
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
LINE_FRAME_COLUMNS = (
    "centre",
    "series",
    "order_ref",
    "entry_code",
    "kind",
    "title",
    "late",
    "quantity",
    "fee_pence",
    "amount_pence",
)
_KIND_ORDER = {"full_award": 0, "unit": 1, "top_up": 2, "move_down": 3}
_WIDTHS = (14, 62, 10, 10, 12, 14)


def _check_arguments(centre: str, series: str | None) -> str:
    centre = str(centre).strip()
    if not re.fullmatch(r"[0-9]{5}", centre):
        raise UsageError("the centre number must be 5 digits")
    if series is not None and not is_series(series):
        raise UsageError("the series must be written YYYY-MM")
    return centre


def _entry_filter(series: str | None, received: tuple[dt.date, dt.date] | None, alias: str = "") -> tuple[list[str], list[object]]:
    """SQL conditions on `entries` for a series and/or a received-on date range (inclusive)."""
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if series is not None:
        where.append(f"{alias}series = ?")
        params.append(series)
    if received is not None:
        where.append(f"{alias}submission_id IN (SELECT submission_id FROM submissions WHERE received_on BETWEEN ? AND ?)")
        params += list(received)
    return where, params


def invoice_orders(
    con: duckdb.DuckDBPyConnection, centre: str, series: str | None = None, order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> dict:
    """The centre's invoice as docs/architecture.md §8's JSON object (see the module docstring).

    `series` None covers every series (the object's `series` is then null); `order_ref` None
    covers every order, else only that order number. Raises UsageError for a malformed centre
    number or series.
    """
    centre = _check_arguments(centre, series)
    where, params = _entry_filter(series, received, "e.")
    where.append("e.centre_number = ?")
    params.append(centre)
    if order_ref is not None:
        where.append("e.order_ref = ?")
        params.append(order_ref)
    grouped = con.execute(
        f"""SELECT e.series, e.order_ref, e.entry_code, e.kind, e.late, e.fee_pence,
                   count(*) AS quantity, sum(e.fee_pence) AS amount, any_value(ec.title) AS title
            FROM entries e LEFT JOIN ref_entry_codes ec ON ec.entry_code = e.entry_code
            WHERE {' AND '.join(where)}
            GROUP BY e.series, e.order_ref, e.entry_code, e.kind, e.late, e.fee_pence""",
        params,
    ).fetchall()
    name = con.execute("SELECT name FROM ref_centres WHERE centre_number = ?", [centre]).fetchall()

    orders: dict[tuple[str, str | None], list[dict]] = {}
    for row_series, ref, code, kind, late, fee, quantity, amount, title in grouped:
        fee, quantity, amount = int(fee), int(quantity), int(amount)
        if amount != quantity * fee:  # cannot happen: every entry of the line has this fee
            raise AssertionError("an invoice line's amount is not quantity x fee")
        orders.setdefault((row_series, ref), []).append(
            {
                "entry_code": code,
                "title": _line_title(title, code, kind),
                "kind": kind,
                "quantity": quantity,
                "fee_pence": fee,
                "amount_pence": amount,
                "late": bool(late),
            }
        )
    out_orders = []
    for (row_series, ref), lines in sorted(orders.items(), key=lambda item: _order_key(*item[0])):
        lines.sort(key=lambda x: (x["entry_code"], x["late"], x["fee_pence"], _KIND_ORDER.get(x["kind"], 9), x["kind"]))
        out_orders.append(
            {
                "order_ref": ref,
                "series": row_series,
                "lines": lines,
                "total_pence": sum(line["amount_pence"] for line in lines),
            }
        )
    return {
        "centre": centre,
        "centre_name": name[0][0] if name else None,
        "series": series,
        "orders": out_orders,
        "total_pence": sum(order["total_pence"] for order in out_orders),
    }


def _order_key(series: str, order_ref: str | None) -> tuple:
    # Order numbers in order, entries without one last; one order number across series by series.
    return (order_ref is None, order_ref or "", series)


def _line_title(title: str | None, code: str, kind: str) -> str:
    base = title or code
    return f"{base} (unit entries)" if kind == "unit" else base


def invoice_lines(invoice: dict) -> pd.DataFrame:
    """The invoice's lines as one frame (columns LINE_FRAME_COLUMNS), validated by INVOICE_LINE."""
    records = [
        {"centre": invoice["centre"], "series": order["series"], "order_ref": order["order_ref"], **line}
        for order in invoice["orders"]
        for line in order["lines"]
    ]
    frame = pd.DataFrame.from_records(records, columns=list(LINE_FRAME_COLUMNS))
    frame = frame.astype(
        {
            "centre": "str",
            "series": "str",
            "order_ref": "str",
            "entry_code": "str",
            "kind": "str",
            "title": "str",
            "late": "bool",
            "quantity": "int64",
            "fee_pence": "int64",
            "amount_pence": "int64",
        }
    )
    return INVOICE_LINE.validate(frame)


def invoice_file_stem(centre: str, series: str | None = None, order_ref: str | None = None) -> str:
    """`invoice_{centre}_{series or 'all'}[_{order}]`; an order number that is not a safe file name
    part is made one and given a hash of the original, so two order numbers never share a file."""
    stem = f"invoice_{centre}_{series or 'all'}"
    if order_ref is not None:
        part = safe_file_part(order_ref)
        if part != order_ref or not part:
            part = f"{part}_{hashlib.sha256(order_ref.encode('utf-8')).hexdigest()[:8]}".lstrip("_")
        stem += f"_{part}"
    return stem


def write_invoice(
    con: duckdb.DuckDBPyConnection,
    centre: str,
    out_dir: Path,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> dict[str, Path]:
    """Write the invoice as xlsx, CSV and HTML under `out_dir/<centre>/`; return {"xlsx", "csv", "html"}.

    Amounts are pounds and pence in the xlsx (number cells, `£` format) and the HTML, integer pence
    in the CSV. The lines are validated (INVOICE_LINE) before anything is written; each file is
    written under a temporary name and moved into place.
    """
    invoice = invoice_orders(con, centre, series, order_ref, received)
    invoice_lines(invoice)  # raises pandera's SchemaError before any file is written
    centre = invoice["centre"]
    folder = Path(out_dir) / centre
    stem = invoice_file_stem(centre, series, order_ref)
    if received is not None:
        stem += f"_received_{received[0].isoformat()}_to_{received[1].isoformat()}"
    return {
        "xlsx": write_xlsx_atomically(_workbook(invoice, order_ref), folder / f"{stem}.xlsx"),
        "csv": write_csv_atomically(_csv_rows(invoice), CSV_COLUMNS, folder / f"{stem}.csv"),
        "html": write_text_atomically(invoice_html(invoice, order_ref), folder / f"{stem}.html"),
    }


def _order_label(order: dict) -> str:
    return order["order_ref"] if order["order_ref"] is not None else NO_ORDER


def _quantity(order: dict) -> int:
    return sum(line["quantity"] for line in order["lines"])


def _workbook(invoice: dict, order_ref: str | None) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    bold = Font(bold=True)
    row = 1
    put(ws, row, 1, TITLE).font = Font(bold=True, size=14)
    for label, value in _header_fields(invoice, order_ref):
        row += 1
        put(ws, row, 1, label).font = bold
        put(ws, row, 2, value)
    row += 1
    for order in invoice["orders"]:
        row += 1
        put(ws, row, 1, "Order number").font = bold
        put(ws, row, 2, _order_label(order))
        put(ws, row, 3, "Series").font = bold
        put(ws, row, 4, order["series"])
        row += 1
        for col, name in enumerate(LINE_COLUMNS, start=1):
            put(ws, row, col, name).font = bold
        for line in order["lines"]:
            row += 1
            put(ws, row, 1, line["entry_code"])
            put(ws, row, 2, line["title"])
            put(ws, row, 3, LATE_MARK if line["late"] else "")
            put(ws, row, 4, line["quantity"])
            put(ws, row, 5, pounds(line["fee_pence"])).number_format = MONEY_FORMAT
            put(ws, row, 6, pounds(line["amount_pence"])).number_format = MONEY_FORMAT
        row += 1
        put(ws, row, 1, "Order total").font = bold
        put(ws, row, 4, _quantity(order)).font = bold
        total = put(ws, row, 6, pounds(order["total_pence"]))
        total.number_format, total.font = MONEY_FORMAT, bold
        row += 1
    row += 1
    put(ws, row, 1, "Grand total").font = bold
    put(ws, row, 4, sum(_quantity(o) for o in invoice["orders"])).font = bold
    total = put(ws, row, 6, pounds(invoice["total_pence"]))
    total.number_format, total.font = MONEY_FORMAT, bold
    for col, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    return wb


def _header_fields(invoice: dict, order_ref: str | None) -> list[tuple[str, str]]:
    return [
        ("Centre number", invoice["centre"]),
        ("Centre name", invoice["centre_name"] or ""),
        ("Series", invoice["series"] or "All series"),
        ("Order number", order_ref if order_ref is not None else "All orders"),
    ]


def _csv_rows(invoice: dict) -> list[list[object]]:
    centre = invoice["centre"]
    rows: list[list[object]] = []
    for order in invoice["orders"]:
        where = [centre, order["series"], order["order_ref"]]
        for line in order["lines"]:
            rows.append(
                [
                    "line",
                    *where,
                    line["entry_code"],
                    line["title"],
                    line["kind"],
                    line["late"],
                    line["quantity"],
                    line["fee_pence"],
                    line["amount_pence"],
                ]
            )
        rows.append(["order total", *where, None, None, None, None, _quantity(order), None, order["total_pence"]])
    rows.append(
        [
            "grand total",
            centre,
            invoice["series"],
            None,
            None,
            None,
            None,
            None,
            sum(_quantity(o) for o in invoice["orders"]),
            None,
            invoice["total_pence"],
        ]
    )
    return rows


_CSS = """
  body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
  h1 { font-size: 1.6em; margin-bottom: 0.3em; }
  h2 { font-size: 1.15em; margin: 1.6em 0 0.4em; }
  dl.details { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; margin: 0 0 1em; }
  dl.details dt { font-weight: bold; }
  dl.details dd { margin: 0; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #bbb; padding: 0.35em 0.5em; text-align: left; vertical-align: top; }
  th.num, td.num { text-align: right; white-space: nowrap; }
  tfoot th, tfoot td { font-weight: bold; border-top: 2px solid #111; border-bottom: none; }
  tr.late td { background: #fff2cc; }
  .late-mark { font-weight: bold; color: #9c5700; }
  p.grand-total { font-size: 1.2em; font-weight: bold; text-align: right; border-top: 3px double #111; padding-top: 0.5em; margin-top: 2em; }
  p.note { color: #555; font-size: 0.9em; }
  @media print {
    body { margin: 0; max-width: none; font-size: 10.5pt; }
    section.order { break-inside: avoid; page-break-inside: avoid; }
    tr.late td { background: none; }
    thead { display: table-header-group; }
  }
"""


def invoice_html(invoice: dict, order_ref: str | None = None) -> str:
    """The invoice as a self-contained printable HTML page: inline CSS, no scripts, every text escaped."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    page_title = f"{TITLE}: centre {invoice['centre']}, {invoice['series'] or 'all series'}"
    if order_ref is not None:
        page_title += f", order {order_ref}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(page_title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(TITLE)}</h1>",
        '<dl class="details">',
    ]
    for label, value in _header_fields(invoice, order_ref):
        out.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")
    out.append("</dl>")
    if not invoice["orders"]:
        out.append('<p class="note">No entries are stored for this invoice.</p>')
    for order in invoice["orders"]:
        out.append('<section class="order">')
        out.append(f"<h2>Order number: {e(_order_label(order))} &middot; Series {e(order['series'])}</h2>")
        out.append("<table>")
        out.append(
            '<thead><tr><th>Entry code</th><th>Title</th><th class="num">Quantity</th>'
            '<th class="num">Fee</th><th class="num">Amount</th></tr></thead>'
        )
        out.append("<tbody>")
        for line in order["lines"]:
            late = f' <span class="late-mark">({e(LATE_MARK)})</span>' if line["late"] else ""
            css = ' class="late"' if line["late"] else ""
            out.append(
                f"<tr{css}><td>{e(line['entry_code'])}</td><td>{e(line['title'])}{late}</td>"
                f'<td class="num">{line["quantity"]}</td><td class="num">{e(pounds_text(line["fee_pence"]))}</td>'
                f'<td class="num">{e(pounds_text(line["amount_pence"]))}</td></tr>'
            )
        out.append("</tbody>")
        out.append(
            f'<tfoot><tr><th colspan="2">Order total</th><td class="num">{_quantity(order)}</td>'
            f'<td></td><td class="num">{e(pounds_text(order["total_pence"]))}</td></tr></tfoot>'
        )
        out.append("</table>")
        out.append("</section>")
    out.append(f'<p class="grand-total">Grand total: {e(pounds_text(invoice["total_pence"]))}</p>')
    out.append('<p class="note">Amounts are in pounds sterling. Lines marked late are charged the late entry fee.</p>')
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


FINANCE_HEADER = ("Centre", "Centre name", "Orders", "Entries", "Late entries", "Total (£)")


def write_series_invoices(con: duckdb.DuckDBPyConnection, series: str | None, out_dir: Path,
                          received: tuple[dt.date, dt.date] | None = None) -> dict:
    """Invoice orders for every centre with entries in `series` and/or received in a date range,
    by centre, plus one summary for finance.

    Returns {"series", "received", "centres": [{"centre", "centre_name", "orders", "entries", "late",
    "total_pence", "files"}], "total_pence", "summary"} (the summary's xlsx path; a CSV with pence
    sits beside it).
    """
    if series is None and received is None:
        raise UsageError("give a series or a date range")
    if series is not None:
        _check_arguments("00000", series)
    where, params = _entry_filter(series, received)
    centres = [r[0] for r in con.execute(
        f"SELECT DISTINCT centre_number FROM entries WHERE {' AND '.join(where)} ORDER BY centre_number", params).fetchall()]
    rows = []
    for centre in centres:
        invoice = invoice_orders(con, centre, series, None, received)
        files = write_invoice(con, centre, out_dir, series, None, received)
        lines = [line for order in invoice["orders"] for line in order["lines"]]
        rows.append({
            "centre": centre,
            "centre_name": invoice.get("centre_name"),
            "orders": len(invoice["orders"]),
            "entries": sum(line["quantity"] for line in lines),
            "late": sum(line["quantity"] for line in lines if line["late"]),
            "total_pence": invoice["total_pence"],
            "files": {kind: str(path) for kind, path in files.items()},
        })
    folder = Path(out_dir) / "finance"
    stem = f"invoices_{series or 'all'}" + (f"_received_{received[0].isoformat()}_to_{received[1].isoformat()}" if received else "")
    wb = Workbook()
    ws = wb.active
    ws.title = "Invoices"
    for col, title in enumerate(FINANCE_HEADER, start=1):
        put(ws, 1, col, title).font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate((row["centre"], row["centre_name"] or "", row["orders"], row["entries"], row["late"]), start=1):
            put(ws, r, col, value)
        put(ws, r, 6, pounds(row["total_pence"])).number_format = MONEY_FORMAT
    total = sum(row["total_pence"] for row in rows)
    last = len(rows) + 2
    put(ws, last, 1, "Total").font = Font(bold=True)
    put(ws, last, 6, pounds(total)).number_format = MONEY_FORMAT
    ws.freeze_panes = "A2"
    summary = write_xlsx_atomically(wb, folder / f"{stem}.xlsx")
    write_csv_atomically(
        [[row["centre"], row["centre_name"] or "", row["orders"], row["entries"], row["late"], row["total_pence"]] for row in rows]
        + [["Total", "", sum(r["orders"] for r in rows), sum(r["entries"] for r in rows), sum(r["late"] for r in rows), total]],
        ("centre", "centre_name", "orders", "entries", "late_entries", "total_pence"),
        folder / f"{stem}.csv",
    )
    return {"series": series, "received": None if received is None else [d.isoformat() for d in received],
            "centres": rows, "total_pence": total, "summary": str(summary)}
