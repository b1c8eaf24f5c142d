"""Issued invoices: each stored entry is billed on exactly one invoice, and an invoice keeps its number.

`issue_invoices` bills a centre's (or every centre's) entries not yet on any invoice: one new
invoice per centre and series, in one transaction, with a number drawn from a sequence and never
reused (`invoices.invoice_number` is the primary key, `invoice_entries.entry_id` too, so an entry
can never be billed twice). The
issuer's and the centre's details, the VAT rate and the payment terms are copied onto the invoice
when it is issued, so the same invoice produced again is the same document even after the
reference data changes.

`invoices_for` finds the invoices that bill a centre's entries (optionally one series, one order
number, or entries received in a date range); `issued_invoices` and `billed_groups` read invoices
back, many at once, for `entries.reports.invoice` to render; `centres_with_entries` lists the
centres a series-wide run invoices.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from entries.core import clock
from entries.core.errors import EntriesError
from entries.store import database, numbering
from entries.store.withdrawals import LIVE


@dataclass(frozen=True)
class Issued:
    """What `issue_invoices` did: the numbers of the invoices it issued (none when nothing was new)."""

    new: tuple[str, ...]


def entry_filter(
    centre: str | None,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> tuple[str, list[object]]:
    """SQL conditions (and their parameters) on `entries e JOIN submissions s`: a centre, a series,
    an order number, entries received in a date range (inclusive); None means any."""
    where = ["TRUE"]
    params: list[object] = []
    if centre is not None:
        where.append("e.centre_number = ?")
        params.append(centre)
    if series is not None:
        where.append("e.series = ?")
        params.append(series)
    if order_ref is not None:
        where.append("e.order_ref = ?")
        params.append(order_ref)
    if received is not None:
        where.append("s.received_on BETWEEN ? AND ?")
        params += list(received)
    return " AND ".join(where), params


def issuer_details(con: duckdb.DuckDBPyConnection) -> dict:
    found = con.execute("SELECT * FROM ref_issuer").df()
    if len(found) != 1:
        raise EntriesError("the reference data has no issuer (reference_data/issuer.csv); load it before invoicing")
    return {k: (None if v is None or v != v else v) for k, v in found.iloc[0].to_dict().items()}


def _centres(con: duckdb.DuckDBPyConnection, centres: list[str]) -> dict[str, dict]:
    """Each centre's details as an invoice carries them (number, name, address lines), by number, in
    one query; a centre the store does not know has no name and no address."""
    found = {
        number: (name, *address)
        for number, name, *address in con.execute(
            """SELECT centre_number, name, address_line_1, address_line_2, town, postcode FROM all_centres
               WHERE centre_number IN (SELECT unnest(?::VARCHAR[]))""",
            [centres],
        ).fetchall()
    }
    out = {}
    for centre in centres:
        name, *address = found.get(centre, (None, None, None, None, None))
        out[centre] = {"number": centre, "name": name, "address": [part for part in address if part]}
    return out


def vat_pence(subtotal_pence: int, basis_points: int) -> int:
    """VAT on `subtotal_pence` at `basis_points` (2000 = 20%), rounded half up to a whole penny."""
    return (subtotal_pence * basis_points + 5_000) // 10_000


def issue_invoices(
    con: duckdb.DuckDBPyConnection,
    centre: str | None,
    *,
    on: dt.date | None = None,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> Issued:
    """Bill the entries of `centre` (every centre for None) within the filters that no invoice
    bills yet: one invoice per centre and series, numbered in centre then series order, dated `on`
    (default today), all in one transaction of a fixed few statements however many invoices.
    Nothing new, nothing issued."""
    day = on or clock.today()
    where, params = entry_filter(centre, series, order_ref, received)
    unbilled = f"""SELECT e.entry_id, e.centre_number, e.series, e.fee_pence FROM entries e JOIN submissions s USING (submission_id)
                   WHERE {where} AND NOT EXISTS (SELECT 1 FROM invoice_entries b WHERE b.entry_id = e.entry_id)
                   AND {LIVE}"""  # an entry withdrawn before it was billed is never billed
    totals = con.execute(
        f"""SELECT centre_number, series, sum(fee_pence) FROM ({unbilled})
            GROUP BY centre_number, series ORDER BY centre_number, series""",
        params,
    ).fetchall()
    if not totals:
        return Issued(new=())
    issuer = issuer_details(con)
    who = _centres(con, sorted({row_centre for row_centre, _, _ in totals}))
    unset = [
        c for c in ("vat_treatment", "bank_name", "sort_code", "account_number", "account_name") if not issuer.get(c)
    ]
    if unset:
        # Reference data loaded before issue 21 has no bank details: never issue an invoice that cannot be paid.
        raise EntriesError(
            f"the issuer has no {', '.join(unset)}; load reference_data/issuer.csv again before invoicing"
        )
    rate = int(issuer["vat_rate_basis_points"])
    terms = int(issuer["payment_terms_days"])
    note = issuer.get("vat_note") or ("" if rate else "No VAT is charged.")
    issuer_json = json.dumps(
        {
            "name": issuer["name"],
            "address": [
                p
                for p in (issuer["address_line_1"], issuer.get("address_line_2"), issuer["town"], issuer["postcode"])
                if p
            ],
            "vat_number": issuer.get("vat_number"),
            "company_number": issuer.get("company_number"),
            "vat_treatment": issuer["vat_treatment"],
            "payment": {
                "bank": issuer["bank_name"],
                "sort_code": issuer["sort_code"],
                "account_number": issuer["account_number"],
                "account_name": issuer["account_name"],
            },
        },
        sort_keys=True,
    )
    with database.transaction(con):
        # One number each, drawn in one statement and handed out in order.
        seqs = sorted(
            n for (n,) in con.execute("SELECT nextval('invoice_numbers') FROM range(?)", [len(totals)]).fetchall()
        )
        if seqs:
            numbering.note_issued(con, "invoice", seqs[-1])  # a restore must never hand them out again
        records = []
        for n, (row_centre, row_series, subtotal) in zip(seqs, totals, strict=True):
            subtotal = int(subtotal)
            vat = vat_pence(subtotal, rate)
            records.append(
                {
                    "invoice_number": f"{issuer['invoice_prefix']}-{day.year}-{n:06d}",
                    "seq": n,
                    "centre": row_centre,
                    "series": row_series,
                    "invoice_date": day,
                    "tax_point": day,  # the tax point of a fee invoiced when the entry is billed: the invoice date
                    "due_date": day + dt.timedelta(days=terms),
                    "payment_terms": f"Payment due within {terms} days of the invoice date.",
                    "issuer_json": issuer_json,
                    "centre_json": json.dumps(who[row_centre], sort_keys=True),
                    "vat_rate_basis_points": rate,
                    "vat_note": note,
                    "subtotal_pence": subtotal,
                    "vat_pence": vat,
                    "total_pence": subtotal + vat,
                }
            )
        con.register("new_invoices", pd.DataFrame.from_records(records))
        try:
            con.execute(
                """INSERT INTO invoices (invoice_number, seq, centre, series, invoice_date, tax_point, due_date,
                       payment_terms, issuer_json, centre_json, vat_rate_basis_points, vat_note,
                       subtotal_pence, vat_pence, total_pence, created_at)
                   SELECT invoice_number, seq, centre, series, CAST(invoice_date AS DATE), CAST(tax_point AS DATE),
                          CAST(due_date AS DATE), payment_terms, issuer_json, centre_json, vat_rate_basis_points,
                          vat_note, subtotal_pence, vat_pence, total_pence, ?
                   FROM new_invoices""",
                [clock.now()],
            )
            con.execute(
                f"""INSERT INTO invoice_entries (entry_id, invoice_number)
                    SELECT u.entry_id, n.invoice_number FROM ({unbilled}) u
                    JOIN new_invoices n ON n.centre = u.centre_number AND n.series = u.series""",
                params,
            )
        finally:
            con.unregister("new_invoices")
    return Issued(new=tuple(r["invoice_number"] for r in records))


def invoices_for(
    con: duckdb.DuckDBPyConnection,
    centre: str | None,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> list[str]:
    """Numbers of the invoices billing the entries of `centre` (every centre for None) within the
    filters, by centre, then oldest first."""
    where, params = entry_filter(centre, series, order_ref, received)
    return [
        r[0]
        for r in con.execute(
            f"""SELECT b.invoice_number FROM invoice_entries b JOIN entries e USING (entry_id)
                JOIN submissions s ON s.submission_id = e.submission_id JOIN invoices i USING (invoice_number)
                WHERE {where} GROUP BY b.invoice_number, i.centre ORDER BY i.centre, min(i.seq)""",
            params,
        ).fetchall()
    ]


@dataclass(frozen=True)
class IssuedInvoice:
    """An issued invoice as stored: its dates, terms, the issuer's and centre's details as copied
    when it was issued (JSON), its VAT basis and its amounts in pence."""

    invoice_number: str
    invoice_date: dt.date
    tax_point: dt.date
    due_date: dt.date
    payment_terms: str
    issuer_json: str
    centre_json: str
    series: str
    vat_rate_basis_points: int
    vat_note: str
    subtotal_pence: int
    vat_pence: int
    total_pence: int


def issued_invoices(con: duckdb.DuckDBPyConnection, numbers: list[str]) -> dict[str, IssuedInvoice]:
    """The issued invoices among `numbers`, by number (one query; a number no invoice has is absent)."""
    if not numbers:
        return {}
    found = con.execute(
        """SELECT invoice_number, invoice_date, tax_point, due_date, payment_terms, issuer_json, centre_json,
                  series, vat_rate_basis_points, coalesce(vat_note, ''), subtotal_pence, vat_pence, total_pence
           FROM invoices WHERE invoice_number IN (SELECT unnest(?::VARCHAR[]))""",
        [numbers],
    ).fetchall()
    return {row[0]: IssuedInvoice(*row) for row in found}


@dataclass(frozen=True)
class BilledGroup:
    """The entries an invoice bills that share an order number, claim number, entry code, kind, late
    flag and fee: how many, their amount, and the entry code's title (None for a code the reference
    data no longer has)."""

    invoice_number: str
    order_ref: str | None
    claim_number: str | None
    entry_code: str
    kind: str
    late: bool
    fee_pence: int
    quantity: int
    amount_pence: int
    title: str | None


def billed_groups(con: duckdb.DuckDBPyConnection, numbers: list[str]) -> list[BilledGroup]:
    """The billed entries of the invoices `numbers`, grouped into invoice lines (one query, in no
    particular order)."""
    if not numbers:
        return []
    found = con.execute(
        """SELECT b.invoice_number, e.order_ref, s.claim_number, e.entry_code, e.kind, e.late, e.fee_pence,
                  count(*) AS quantity, sum(e.fee_pence) AS amount, any_value(ec.title) AS title
           FROM invoice_entries b JOIN entries e USING (entry_id)
           JOIN submissions s ON s.submission_id = e.submission_id
           LEFT JOIN ref_entry_codes ec ON ec.entry_code = e.entry_code
           WHERE b.invoice_number IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY b.invoice_number, e.order_ref, s.claim_number, e.entry_code, e.kind, e.late, e.fee_pence""",
        [numbers],
    ).fetchall()
    return [BilledGroup(*row) for row in found]


def centres_with_entries(
    con: duckdb.DuckDBPyConnection, series: str | None, received: tuple[dt.date, dt.date] | None = None
) -> list[str]:
    """The centres with stored entries in `series` and/or received in the date range (inclusive),
    in order; None means any."""
    where, params = entry_filter(None, series, None, received)
    return [
        r[0]
        for r in con.execute(
            f"""SELECT DISTINCT e.centre_number FROM entries e JOIN submissions s USING (submission_id)
                WHERE {where} ORDER BY e.centre_number""",
            params,
        ).fetchall()
    ]
