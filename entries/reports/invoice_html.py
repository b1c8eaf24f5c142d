"""The invoice as a self-contained printable HTML page (inline CSS, no scripts, every text escaped)."""

from __future__ import annotations

import html

from entries.reports.files import pounds_text
from entries.reports.invoice_model import Invoice
from entries.reports.invoice_xlsx import LATE_MARK, TITLE

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


def invoice_html(invoice: Invoice) -> str:
    """The invoice as a self-contained printable HTML page: inline CSS, no scripts, every text escaped."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    page_title = f"{TITLE}: centre {invoice.centre}, {invoice.series or 'all series'}"
    if invoice.order_ref is not None:
        page_title += f", order {invoice.order_ref}"
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
    for label, value in invoice.header_fields():
        out.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")
    out.append("</dl>")
    if not invoice.orders:
        out.append('<p class="note">No entries are stored for this invoice.</p>')
    for order in invoice.orders:
        out.append('<section class="order">')
        out.append(f"<h2>Order number: {e(order.label)} &middot; Series {e(order.series)}</h2>")
        out.append("<table>")
        out.append(
            '<thead><tr><th>Entry code</th><th>Title</th><th class="num">Quantity</th>'
            '<th class="num">Fee</th><th class="num">Amount</th></tr></thead>'
        )
        out.append("<tbody>")
        for line in order.lines:
            late = f' <span class="late-mark">({e(LATE_MARK)})</span>' if line.late else ""
            css = ' class="late"' if line.late else ""
            out.append(
                f"<tr{css}><td>{e(line.entry_code)}</td><td>{e(line.title)}{late}</td>"
                f'<td class="num">{line.quantity}</td><td class="num">{e(pounds_text(line.fee_pence))}</td>'
                f'<td class="num">{e(pounds_text(line.amount_pence))}</td></tr>'
            )
        out.append("</tbody>")
        out.append(
            f'<tfoot><tr><th colspan="2">Order total</th><td class="num">{order.quantity}</td>'
            f'<td></td><td class="num">{e(pounds_text(order.total_pence))}</td></tr></tfoot>'
        )
        out.append("</table>")
        out.append("</section>")
    out.append(f'<p class="grand-total">Grand total: {e(pounds_text(invoice.total_pence))}</p>')
    out.append('<p class="note">Amounts are in pounds sterling. Lines marked late are charged the late entry fee.</p>')
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"
