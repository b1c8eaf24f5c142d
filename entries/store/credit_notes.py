"""Issued credit notes (DESIGN §10): withdrawn entries that an issued invoice billed are credited once.

`issue_credit_notes` credits, per centre, series and VAT rate of the invoices credited, the entries
withdrawn with a credit above 0 that an invoice bills and no credit note credits yet: one new credit
note each, in one transaction of a fixed few statements, numbered `<prefix>-CN-<year>-NNNNNN` from
a sequence of its own (noted in the numbers ledger, so a restore never hands a number out again).
`credit_note_entries.entry_id` is the key, so no entry is credited twice. A credit note copies the
issuer's and the centre's details and the VAT basis from the newest invoice it credits: it reverses
what was billed, whatever the reference data says today, and produced again it is the same document.

`credit_notes_for` finds the credit notes of a centre's entries within the invoice filters;
`issued_credit_notes` and `credited_groups` read them back for `entries.reports.credit_note`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from entries.core import clock
from entries.store import database, numbering
from entries.store.database import Connection
from entries.store.invoices import Issued, entry_filter, issuer_details, vat_pence


def _uncredited(where: str) -> str:
    """The withdrawn, billed, not yet credited entries within `where` (over e and s), with the
    invoice that billed each and its VAT basis."""
    return f"""SELECT e.entry_id, e.centre_number, e.series, w.credit_pence, b.invoice_number, i.seq AS invoice_seq,
                      i.vat_rate_basis_points AS rate
               FROM entries e JOIN submissions s USING (submission_id)
               JOIN withdrawals w ON w.entry_id = e.entry_id
               JOIN invoice_entries b ON b.entry_id = e.entry_id
               JOIN invoices i ON i.invoice_number = b.invoice_number
               WHERE {where} AND w.credit_pence > 0
               AND NOT EXISTS (SELECT 1 FROM credit_note_entries c WHERE c.entry_id = e.entry_id)"""


def issue_credit_notes(
    con: Connection,
    centre: str | None,
    *,
    on: dt.date | None = None,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> Issued:
    """Credit the withdrawn entries of `centre` (every centre for None) within the filters that an
    invoice bills and no credit note credits yet: one credit note per centre, series and VAT rate,
    numbered in that order and dated `on` (default today). Nothing to credit, nothing issued."""
    day = on or clock.today()
    where, params = entry_filter(centre, series, order_ref, received)
    uncredited = _uncredited(where)
    groups = con.execute(
        f"""SELECT u.centre_number, u.series, u.rate, sum(u.credit_pence),
                   arg_max(i.issuer_json, i.seq), arg_max(i.centre_json, i.seq), arg_max(i.vat_note, i.seq)
            FROM ({uncredited}) u JOIN invoices i ON i.invoice_number = u.invoice_number
            GROUP BY u.centre_number, u.series, u.rate ORDER BY u.centre_number, u.series, u.rate""",
        params,
    ).fetchall()
    if not groups:
        return Issued(new=())
    prefix = issuer_details(con)["invoice_prefix"]
    with database.transaction(con):
        seqs = sorted(
            n for (n,) in con.execute("SELECT nextval('credit_note_numbers') FROM range(?)", [len(groups)]).fetchall()
        )
        numbering.note_issued(con, "credit_note", seqs[-1])  # a restore must never hand them out again
        records = []
        for n, (row_centre, row_series, rate, subtotal, issuer_json, centre_json, note) in zip(
            seqs, groups, strict=True
        ):
            subtotal, rate = int(subtotal), int(rate)
            vat = vat_pence(subtotal, rate)
            records.append(
                {
                    "credit_note_number": f"{prefix}-CN-{day.year}-{n:06d}",
                    "seq": n,
                    "centre": row_centre,
                    "series": row_series,
                    "credit_date": day,
                    "issuer_json": issuer_json,
                    "centre_json": centre_json,
                    "rate": rate,
                    "vat_note": note,
                    "subtotal_pence": subtotal,
                    "vat_pence": vat,
                    "total_pence": subtotal + vat,
                }
            )
        con.register("new_credit_notes", pd.DataFrame.from_records(records))
        try:
            con.execute(
                """INSERT INTO credit_notes (credit_note_number, seq, centre, series, credit_date, issuer_json,
                       centre_json, vat_rate_basis_points, vat_treatment, vat_note, subtotal_pence, vat_pence,
                       total_pence, created_at)
                   SELECT credit_note_number, seq, centre, series, CAST(credit_date AS DATE), issuer_json, centre_json,
                          rate, json_extract_string(issuer_json, '$.vat_treatment'), vat_note, subtotal_pence,
                          vat_pence, total_pence, ?
                   FROM new_credit_notes""",
                [clock.now()],
            )
            con.execute(
                f"""INSERT INTO credit_note_entries (entry_id, credit_note_number, invoice_number, amount_pence)
                    SELECT u.entry_id, n.credit_note_number, u.invoice_number, u.credit_pence FROM ({uncredited}) u
                    JOIN new_credit_notes n ON n.centre = u.centre_number AND n.series = u.series AND n.rate = u.rate""",
                params,
            )
        finally:
            con.unregister("new_credit_notes")
    return Issued(new=tuple(r["credit_note_number"] for r in records))


def credit_notes_for(
    con: Connection,
    centre: str | None,
    series: str | None = None,
    order_ref: str | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> list[str]:
    """Numbers of the credit notes crediting the entries of `centre` (every centre for None)
    within the filters, by centre, then oldest first."""
    where, params = entry_filter(centre, series, order_ref, received)
    return [
        r[0]
        for r in con.execute(
            f"""SELECT c.credit_note_number FROM credit_note_entries c JOIN entries e USING (entry_id)
                JOIN submissions s ON s.submission_id = e.submission_id JOIN credit_notes n USING (credit_note_number)
                WHERE {where} GROUP BY c.credit_note_number, n.centre ORDER BY n.centre, min(n.seq)""",
            params,
        ).fetchall()
    ]


@dataclass(frozen=True)
class IssuedCreditNote:
    """A credit note as stored: its date, the issuer's and centre's details as on the newest invoice
    it credits (JSON), its VAT basis and its amounts in pence (positive: the amount credited)."""

    credit_note_number: str
    credit_date: dt.date
    issuer_json: str
    centre_json: str
    series: str
    vat_rate_basis_points: int
    vat_treatment: str | None
    vat_note: str
    subtotal_pence: int
    vat_pence: int
    total_pence: int


def issued_credit_notes(con: Connection, numbers: list[str]) -> dict[str, IssuedCreditNote]:
    """The issued credit notes among `numbers`, by number (one query; a number none has is absent)."""
    if not numbers:
        return {}
    found = con.execute(
        """SELECT credit_note_number, credit_date, issuer_json, centre_json, series, vat_rate_basis_points,
                  vat_treatment, coalesce(vat_note, ''), subtotal_pence, vat_pence, total_pence
           FROM credit_notes WHERE credit_note_number IN (SELECT unnest(?::VARCHAR[]))""",
        [numbers],
    ).fetchall()
    return {row[0]: IssuedCreditNote(*row) for row in found}


@dataclass(frozen=True)
class CreditedGroup:
    """The entries a credit note credits that share the invoice that billed them, an order number,
    claim number, entry code, kind, late flag and amount: how many, their amount, and the title."""

    credit_note_number: str
    invoice_number: str
    order_ref: str | None
    claim_number: str | None
    entry_code: str
    kind: str
    late: bool
    unit_pence: int
    quantity: int
    amount_pence: int
    title: str | None


def credited_groups(con: Connection, numbers: list[str]) -> list[CreditedGroup]:
    """The credited entries of the credit notes `numbers`, grouped into lines (one query, in no
    particular order)."""
    if not numbers:
        return []
    found = con.execute(
        """SELECT c.credit_note_number, c.invoice_number, e.order_ref, s.claim_number, e.entry_code, e.kind, e.late,
                  c.amount_pence, count(*), sum(c.amount_pence), any_value(ec.title)
           FROM credit_note_entries c JOIN entries e USING (entry_id)
           JOIN submissions s ON s.submission_id = e.submission_id
           LEFT JOIN ref_entry_codes ec ON ec.entry_code = e.entry_code
           WHERE c.credit_note_number IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY c.credit_note_number, c.invoice_number, e.order_ref, s.claim_number, e.entry_code, e.kind,
                    e.late, c.amount_pence""",
        [numbers],
    ).fetchall()
    return [CreditedGroup(*row) for row in found]
