"""The credit note rendered: an A4 HTML page, xlsx rows (amounts in pounds, its date a date cell,
codes text) and CSV rows (pence).

Laid out as the invoice is (`entries.reports.invoice_html`'s page), so a finance officer files both
the same way; the credit note names the invoices it credits on every line and in its details.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

from entries.reports.credit_note_model import CreditNote
from entries.reports.files import Pence, StyledRow, pounds_text
from entries.reports.invoice_html import PAGE_CSS
from entries.reports.invoice_xlsx import LATE_MARK, STANDARD_MARK

TITLE = "Credit note"
SHEET = "Credit note"
LINE_COLUMNS = ("Invoice", "Order number", "Claim number", "Entry code", "Title", "Fee", "Quantity", "Each", "Amount")
CSV_COLUMNS = (
    "record",
    "credit_note_number",
    "date",
    "centre",
    "series",
    "invoice_number",
    "order_ref",
    "claim_number",
    "entry_code",
    "title",
    "kind",
    "late",
    "quantity",
    "unit_credit_pence",
    "amount_pence",
    "note",
)
_BLANK: StyledRow = ((), "plain")


def credit_note_rows(note: CreditNote) -> Iterator[StyledRow]:
    """The credit note's workbook rows: issuer, details, the centre credited, a row per line, then
    subtotal, VAT and total credited, the VAT statement and what the centre does with the credit."""
    yield (note.issuer.name,), "heading"
    for text in (*note.issuer.address, note.issuer.registration):
        if text:
            yield (text,), "plain"
    yield _BLANK
    yield (TITLE,), "title"
    for label, value in note.header_fields():
        yield (label, note.credit_date if label == "Date" else value), "label"
    yield _BLANK
    for n, text in enumerate((f"{note.centre.name} (centre {note.centre.number})", *note.centre.address)):
        yield ("Credit to" if n == 0 else None, text), "label"
    yield _BLANK
    yield LINE_COLUMNS, "header"
    for line in note.lines:
        yield (
            (
                line.invoice_number,
                line.order_ref or "",
                line.claim_number or "",
                line.entry_code,
                line.title,
                LATE_MARK if line.late else STANDARD_MARK,
                line.quantity,
                Pence(line.unit_credit_pence),
                Pence(line.amount_pence),
            ),
            "plain",
        )
    yield _BLANK
    blank = (None,) * 7
    for label, pence in (
        ("Subtotal", note.subtotal_pence),
        (note.vat_label, note.vat_pence),
        ("Total credited", note.total_pence),
    ):
        yield (*blank, label, Pence(pence)), "bold"
    yield _BLANK
    for text in (note.vat_note, note.settlement):
        if text:
            yield (text,), "note"


def credit_note_csv_rows(note: CreditNote) -> list[list[object]]:
    """The credit note as CSV rows (CSV_COLUMNS): a row per line, then subtotal, VAT (its words in
    the title column, the VAT note in `note`) and total credited; amounts in pence, positive."""
    head = [note.credit_note_number, note.credit_date.isoformat(), note.centre.number, note.series]
    rows: list[list[object]] = [
        [
            "line",
            *head,
            line.invoice_number,
            line.order_ref,
            line.claim_number,
            line.entry_code,
            line.title,
            line.kind,
            line.late,
            line.quantity,
            line.unit_credit_pence,
            line.amount_pence,
            None,
        ]
        for line in note.lines
    ]
    invoices = " ".join(note.invoice_numbers)
    rows.append(["subtotal", *head, invoices, *[None] * 6, note.quantity, None, note.subtotal_pence, None])
    rows.append(["vat", *head, invoices, None, None, None, note.vat_label, *[None] * 4, note.vat_pence, note.vat_note])
    rows.append(["total", *head, invoices, *[None] * 8, note.total_pence, note.settlement])
    return rows


def credit_note_html(note: CreditNote) -> str:
    """The credit note as a self-contained printable HTML page (A4, inline CSS, no scripts, every
    text escaped): issuer, details naming the invoices credited, the centre, the lines, subtotal,
    VAT and total credited, and what the centre does with the credit."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    def lines_of(parts: tuple[str, ...]) -> str:
        return "<br>".join(e(p) for p in parts if p)

    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(TITLE)} {e(note.credit_note_number)}: centre {e(note.centre.number)}</title>",
        f"<style>{PAGE_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="top">',
        f"<div><h1>{e(TITLE.upper())}</h1><p><strong>{e(note.credit_note_number)}</strong></p></div>",
        f'<div class="issuer"><strong>{e(note.issuer.name)}</strong><br>{lines_of(note.issuer.address)}</div>',
        "</header>",
        '<div class="parties">',
        '<div class="bill-to"><h2>Credit to</h2>',
        f"<p>{e(note.centre.name)}<br>Centre number {e(note.centre.number)}"
        + (f"<br>{lines_of(note.centre.address)}" if note.centre.address else "")
        + "</p></div>",
        '<dl class="details">',
    ]
    for label, value in note.header_fields():
        if label not in ("Centre number", "Centre name"):
            out.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")
    out += ["</dl>", "</div>", '<section class="order">', "<h2>Withdrawn entries credited</h2>", "<table>"]
    out.append(
        "<thead><tr><th>Invoice</th><th>Order number</th><th>Claim number</th><th>Entry code</th><th>Title</th>"
        '<th>Fee</th><th class="num">Quantity</th><th class="num">Each</th><th class="num">Amount</th></tr></thead>'
    )
    out.append("<tbody>")
    for line in note.lines:
        fee = f'<span class="late-mark">{e(LATE_MARK)}</span>' if line.late else e(STANDARD_MARK)
        css = ' class="late"' if line.late else ""
        out.append(
            f'<tr{css}><td class="code">{e(line.invoice_number)}</td>'
            f'<td class="code">{e(line.order_ref or "")}</td><td class="code">{e(line.claim_number or "")}</td>'
            f'<td class="code">{e(line.entry_code)}</td><td>{e(line.title)}</td><td class="code">{fee}</td>'
            f'<td class="num">{line.quantity}</td><td class="num">{e(pounds_text(line.unit_credit_pence))}</td>'
            f'<td class="num">{e(pounds_text(line.amount_pence))}</td></tr>'
        )
    out += ["</tbody>", "</table>", "</section>", '<table class="totals">']
    out.append(f'<tr><th>Subtotal</th><td class="num">{e(pounds_text(note.subtotal_pence))}</td></tr>')
    out.append(f'<tr><th>{e(note.vat_label)}</th><td class="num">{e(pounds_text(note.vat_pence))}</td></tr>')
    out.append(f'<tr class="grand"><th>Total credited</th><td class="num">{e(pounds_text(note.total_pence))}</td></tr>')
    out.append("</table>")
    if note.vat_note:
        out.append(f'<p class="note">{e(note.vat_note)}</p>')
    out.append(f'<p class="note">{e(note.settlement)}</p>')
    out.append(
        '<p class="note">Amounts are in pounds sterling. An entry withdrawn on or before its series\' entry '
        "deadline is credited its whole fee; one withdrawn after it is not credited.</p>"
    )
    registration = note.issuer.registration
    out.append(
        f"<footer>{e(note.issuer.name)}" + (f" &middot; {e(registration)}" if registration else "") + "</footer>"
    )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"
