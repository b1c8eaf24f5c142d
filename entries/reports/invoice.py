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
import re
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from entries.core.errors import UsageError
from entries.core.series import is_series
from entries.reports.files import (
    MONEY_FORMAT,
    active_sheet,
    pounds,
    put,
    safe_file_part,
    write_csv_atomically,
    write_text_atomically,
    write_xlsx_atomically,
)
from entries.reports.invoice_csv import CSV_COLUMNS, invoice_csv_rows
from entries.reports.invoice_html import invoice_html
from entries.reports.invoice_model import Invoice, InvoiceLine, InvoiceOrder
from entries.reports.invoice_xlsx import invoice_workbook
from schemas.invoice import INVOICE_LINE

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


def _entry_filter(
    series: str | None, received: tuple[dt.date, dt.date] | None, alias: str = ""
) -> tuple[list[str], list[object]]:
    """SQL conditions on `entries` for a series and/or a received-on date range (inclusive)."""
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if series is not None:
        where.append(f"{alias}series = ?")
        params.append(series)
    if received is not None:
        where.append(
            f"{alias}submission_id IN (SELECT submission_id FROM submissions WHERE received_on BETWEEN ? AND ?)"
        )
        params += list(received)
    return where, params


def invoice_orders(
    con: duckdb.DuckDBPyConnection,
    centre: str,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> dict:
    """The centre's invoice as docs/architecture.md §8's JSON object (see the module docstring)."""
    return build_invoice(con, centre, series, order_ref, received).as_json()


def build_invoice(
    con: duckdb.DuckDBPyConnection,
    centre: str,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> Invoice:
    """The centre's invoice, read from the store in one grouped query (and the centre's name).

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
            WHERE {" AND ".join(where)}
            GROUP BY e.series, e.order_ref, e.entry_code, e.kind, e.late, e.fee_pence""",
        params,
    ).fetchall()
    name = con.execute("SELECT name FROM all_centres WHERE centre_number = ?", [centre]).fetchall()

    orders: dict[tuple[str, str | None], list[InvoiceLine]] = {}
    for row_series, ref, code, kind, late, fee, quantity, amount, title in grouped:
        fee, quantity, amount = int(fee), int(quantity), int(amount)
        if amount != quantity * fee:  # cannot happen: every entry of the line has this fee
            raise AssertionError("an invoice line's amount is not quantity x fee")
        orders.setdefault((row_series, ref), []).append(
            InvoiceLine(
                entry_code=code,
                title=_line_title(title, code, kind),
                kind=kind,
                quantity=quantity,
                fee_pence=fee,
                amount_pence=amount,
                late=bool(late),
            )
        )
    ordered = tuple(
        InvoiceOrder(
            order_ref=ref,
            series=row_series,
            lines=tuple(
                sorted(lines, key=lambda x: (x.entry_code, x.late, x.fee_pence, _KIND_ORDER.get(x.kind, 9), x.kind))
            ),
        )
        for (row_series, ref), lines in sorted(orders.items(), key=lambda item: _order_key(*item[0]))
    )
    return Invoice(
        centre=centre, centre_name=name[0][0] if name else None, series=series, order_ref=order_ref, orders=ordered
    )


def _order_key(series: str, order_ref: str | None) -> tuple:
    # Order numbers in order, entries without one last; one order number across series by series.
    return (order_ref is None, order_ref or "", series)


def _line_title(title: str | None, code: str, kind: str) -> str:
    base = title or code
    return f"{base} (unit entries)" if kind == "unit" else base


def invoice_lines(invoice: Invoice | dict) -> pd.DataFrame:
    """The invoice's lines as one frame (columns LINE_FRAME_COLUMNS), validated by INVOICE_LINE."""
    data = invoice.as_json() if isinstance(invoice, Invoice) else invoice
    records = [
        {"centre": data["centre"], "series": order["series"], "order_ref": order["order_ref"], **line}
        for order in data["orders"]
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
    return write_invoice_files(build_invoice(con, centre, series, order_ref, received), out_dir, received)


def write_invoice_files(
    invoice: Invoice, out_dir: Path, received: tuple[dt.date, dt.date] | None = None
) -> dict[str, Path]:
    """Render `invoice` once per format under `out_dir/<centre>/` (lines validated first)."""
    invoice_lines(invoice)  # raises pandera's SchemaError before any file is written
    folder = Path(out_dir) / invoice.centre
    stem = invoice_file_stem(invoice.centre, invoice.series, invoice.order_ref)
    if received is not None:
        stem += f"_received_{received[0].isoformat()}_to_{received[1].isoformat()}"
    return {
        "xlsx": write_xlsx_atomically(invoice_workbook(invoice), folder / f"{stem}.xlsx"),
        "csv": write_csv_atomically(invoice_csv_rows(invoice), CSV_COLUMNS, folder / f"{stem}.csv"),
        "html": write_text_atomically(invoice_html(invoice), folder / f"{stem}.html"),
    }


FINANCE_HEADER = ("Centre", "Centre name", "Orders", "Entries", "Late entries", "Total (£)")


def write_series_invoices(
    con: duckdb.DuckDBPyConnection, series: str | None, out_dir: Path, received: tuple[dt.date, dt.date] | None = None
) -> dict:
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
    centres = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT centre_number FROM entries WHERE {' AND '.join(where)} ORDER BY centre_number", params
        ).fetchall()
    ]
    rows = []
    for centre in centres:
        invoice = build_invoice(con, centre, series, None, received)  # one query per centre
        files = write_invoice_files(invoice, out_dir, received)
        rows.append(
            {
                "centre": centre,
                "centre_name": invoice.centre_name,
                "orders": len(invoice.orders),
                "entries": invoice.quantity,
                "late": sum(line.quantity for line in invoice.lines if line.late),
                "total_pence": invoice.total_pence,
                "files": {kind: str(path) for kind, path in files.items()},
            }
        )
    folder = Path(out_dir) / "finance"
    stem = f"invoices_{series or 'all'}" + (
        f"_received_{received[0].isoformat()}_to_{received[1].isoformat()}" if received else ""
    )
    wb = Workbook()
    ws = active_sheet(wb)
    ws.title = "Invoices"
    for col, title in enumerate(FINANCE_HEADER, start=1):
        put(ws, 1, col, title).font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(
            (row["centre"], row["centre_name"] or "", row["orders"], row["entries"], row["late"]), start=1
        ):
            put(ws, r, col, value)
        put(ws, r, 6, pounds(row["total_pence"])).number_format = MONEY_FORMAT
    total = sum(row["total_pence"] for row in rows)
    last = len(rows) + 2
    put(ws, last, 1, "Total").font = Font(bold=True)
    put(ws, last, 6, pounds(total)).number_format = MONEY_FORMAT
    ws.freeze_panes = "A2"
    summary = write_xlsx_atomically(wb, folder / f"{stem}.xlsx")
    write_csv_atomically(
        [
            [row["centre"], row["centre_name"] or "", row["orders"], row["entries"], row["late"], row["total_pence"]]
            for row in rows
        ]
        + [
            [
                "Total",
                "",
                sum(r["orders"] for r in rows),
                sum(r["entries"] for r in rows),
                sum(r["late"] for r in rows),
                total,
            ]
        ],
        ("centre", "centre_name", "orders", "entries", "late_entries", "total_pence"),
        folder / f"{stem}.csv",
    )
    return {
        "series": series,
        "received": None if received is None else [d.isoformat() for d in received],
        "centres": rows,
        "total_pence": total,
        "summary": str(summary),
    }
