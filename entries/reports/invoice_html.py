"""The invoice as a self-contained printable HTML page, laid out for A4 (inline CSS, no scripts,
every text escaped)."""

from __future__ import annotations

import html

from entries.reports.files import pounds_text
from entries.reports.invoice_model import Invoice
from entries.reports.invoice_xlsx import LATE_MARK, STANDARD_MARK, TITLE

# The A4 page every printed money document shares (invoices and credit notes).
PAGE_CSS = """
  @page { size: A4; margin: 16mm 14mm; }
  body { font-family: "DejaVu Sans", "Segoe UI", Arial, Helvetica, sans-serif; color: #111; font-size: 10pt;
         margin: 1.5em auto; max-width: 182mm; padding: 0 1em; }
  header.top { display: flex; justify-content: space-between; align-items: flex-start; gap: 2em; }
  .issuer { text-align: right; font-size: 9pt; }
  .issuer strong { font-size: 11pt; }
  h1 { font-size: 20pt; letter-spacing: 0.05em; margin: 0 0 0.3em; }
  h2 { font-size: 11pt; margin: 1.4em 0 0.3em; }
  .parties { display: flex; justify-content: space-between; gap: 2em; margin: 1.2em 0; }
  .bill-to { border: 1px solid #999; padding: 0.6em 0.9em; min-width: 45%; }
  .bill-to h2 { margin-top: 0; }
  dl.details { display: grid; grid-template-columns: max-content auto; gap: 0.15em 1em; margin: 0; }
  dl.details dt { font-weight: bold; }
  dl.details dd { margin: 0; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #bbb; padding: 0.3em 0.4em; text-align: left; vertical-align: top; }
  th.num, td.num, td.code { text-align: right; white-space: nowrap; }
  td.code { text-align: left; }
  tfoot th, tfoot td { font-weight: bold; border-top: 2px solid #111; border-bottom: none; }
  tr.late td { background: #fff2cc; }
  .late-mark { font-weight: bold; color: #9c5700; }
  table.totals { width: 45%; margin: 1.2em 0 0 auto; }
  table.totals th { text-align: left; }
  table.totals tr.grand th, table.totals tr.grand td { border-top: 3px double #111; font-size: 12pt; }
  p.note { color: #333; font-size: 9pt; margin: 0.3em 0; }
  footer { margin-top: 2em; border-top: 1px solid #999; padding-top: 0.5em; font-size: 8.5pt; color: #444; }
  @media print {
    body { margin: 0; max-width: none; padding: 0; }
    section.order { break-inside: avoid; page-break-inside: avoid; }
    table.totals, footer { break-inside: avoid; page-break-inside: avoid; }
    thead { display: table-header-group; }
  }
"""

# Only pages with a payment block carry its style, so invoices issued without one keep their bytes.
_PAYMENT_CSS = """
  section.payment { border: 1px solid #999; padding: 0.6em 0.9em; margin: 1.2em 0 0; width: 60%; }
  section.payment h2 { margin-top: 0; }
  section.payment p.note { margin-bottom: 0.6em; }
  span.whole { white-space: nowrap; }
  @media print { section.payment { break-inside: avoid; page-break-inside: avoid; } }
"""


def invoice_html(invoice: Invoice) -> str:
    """The invoice as a self-contained printable HTML page (A4): issuer, details, the centre billed,
    the orders and their lines, subtotal, VAT and total, the VAT statement, payment terms and (when
    the invoice carries them) how to pay: the bank details and the invoice number as the reference."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    def lines_of(parts: tuple[str, ...] | list[str]) -> str:
        return "<br>".join(e(p) for p in parts if p)

    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(TITLE)} {e(invoice.invoice_number)}: centre {e(invoice.centre.number)}</title>",
        f"<style>{PAGE_CSS}{_PAYMENT_CSS if invoice.payment is not None else ''}</style>",
        "</head>",
        "<body>",
        '<header class="top">',
        f"<div><h1>{e(TITLE.upper())}</h1><p><strong>{e(invoice.invoice_number)}</strong></p></div>",
        f'<div class="issuer"><strong>{e(invoice.issuer.name)}</strong><br>{lines_of(invoice.issuer.address)}</div>',
        "</header>",
        '<div class="parties">',
        '<div class="bill-to"><h2>Bill to</h2>',
        f"<p>{e(invoice.centre.name)}<br>Centre number {e(invoice.centre.number)}"
        + (f"<br>{lines_of(invoice.centre.address)}" if invoice.centre.address else "")
        + "</p></div>",
        '<dl class="details">',
    ]
    for label, value in invoice.header_fields():
        if label in ("Centre number", "Centre name"):
            continue  # shown under Bill to
        out.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")
    out.append("</dl>")
    out.append("</div>")
    if not invoice.orders:
        out.append('<p class="note">No entries are billed on this invoice.</p>')
    for order in invoice.orders:
        out.append('<section class="order">')
        out.append(f"<h2>Order number: {e(order.label)}</h2>")
        out.append("<table>")
        out.append(
            "<thead><tr><th>Claim number</th><th>Entry code</th><th>Title</th><th>Fee</th>"
            '<th class="num">Quantity</th><th class="num">Unit fee</th><th class="num">Amount</th></tr></thead>'
        )
        out.append("<tbody>")
        for line in order.lines:
            fee = f'<span class="late-mark">{e(LATE_MARK)}</span>' if line.late else e(STANDARD_MARK)
            css = ' class="late"' if line.late else ""
            out.append(
                f'<tr{css}><td class="code">{e(line.claim_number or "")}</td><td class="code">{e(line.entry_code)}</td>'
                f'<td>{e(line.title)}</td><td class="code">{fee}</td><td class="num">{line.quantity}</td>'
                f'<td class="num">{e(pounds_text(line.unit_fee_pence))}</td>'
                f'<td class="num">{e(pounds_text(line.amount_pence))}</td></tr>'
            )
        out.append("</tbody>")
        out.append(
            f'<tfoot><tr><th colspan="4">Order total</th><td class="num">{order.quantity}</td>'
            f'<td></td><td class="num">{e(pounds_text(order.total_pence))}</td></tr></tfoot>'
        )
        out.append("</table>")
        out.append("</section>")
    out.append('<table class="totals">')
    out.append(f'<tr><th>Subtotal</th><td class="num">{e(pounds_text(invoice.subtotal_pence))}</td></tr>')
    out.append(f'<tr><th>{e(invoice.vat_label)}</th><td class="num">{e(pounds_text(invoice.vat_pence))}</td></tr>')
    out.append(f'<tr class="grand"><th>Total due</th><td class="num">{e(pounds_text(invoice.total_pence))}</td></tr>')
    out.append("</table>")
    if invoice.vat_note:
        out.append(f'<p class="note">{e(invoice.vat_note)}</p>')
    out.append(f'<p class="note">{e(invoice.payment_terms)} Due date: {e(invoice.due_date.isoformat())}.</p>')
    if invoice.payment is not None:
        out.append('<section class="payment"><h2>How to pay</h2>')
        out.append(
            # A date or amount broken at its hyphen or comma misreads: keep each on one line.
            f'<p class="note">By bank transfer (BACS or Faster Payments) of '
            f'<span class="whole">{e(pounds_text(invoice.total_pence))}</span> '
            f'by <span class="whole">{e(invoice.due_date.isoformat())}</span>, quoting the payment reference '
            f"<strong>{e(invoice.payment_reference)}</strong> so that we can match your payment to this invoice.</p>"
        )
        out.append('<dl class="details">')
        for label, value in invoice.payment.fields(invoice.payment_reference):
            out.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")
        out.append("</dl></section>")
    out.append(
        '<p class="note">Amounts are in pounds sterling. Lines marked late are charged the late entry fee. '
        "Please quote the invoice number, your centre number and the claim number in all communications.</p>"
    )
    registration = invoice.issuer.registration
    out.append(
        f"<footer>{e(invoice.issuer.name)}" + (f" &middot; {e(registration)}" if registration else "") + "</footer>"
    )
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"
