"""Commands that bill centres: `entries invoice` (one centre's invoice orders) and `entries invoices`
(every centre with entries in a series or a date range, with the finance summary; in this process,
or with `--prefect` as the invoicing flow, seen in the Prefect UI).

Each `cmd_*` takes the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys

from entries.cli.opening import known_centre, open_store
from entries.core import config
from entries.core.errors import UsageError


def _print_invoice(produced) -> None:
    inv = produced.invoice
    print(
        f"Invoice {inv.invoice_number} ({'new' if produced.new else 'issued before'}, dated {inv.invoice_date}): "
        f"centre {inv.centre.number}, series {inv.series}; {inv.quantity} entries; "
        f"subtotal £{inv.subtotal_pence / 100:,.2f}, VAT £{inv.vat_pence / 100:,.2f}, total £{inv.total_pence / 100:,.2f}; "
        f"due {inv.due_date}"
    )
    for order in inv.orders:
        print(f"  order {order.label}: {order.quantity} entries, £{order.total_pence / 100:,.2f}")
    print(f"  files: {produced.files['html'].parent}/{produced.files['html'].stem}.(html|xlsx|csv|json)")


def _print_credit_note(produced) -> None:
    note = produced.credit_note
    print(
        f"Credit note {note.credit_note_number} ({'new' if produced.new else 'issued before'}, dated {note.credit_date}): "
        f"centre {note.centre.number}, series {note.series}; {note.quantity} withdrawn entries; "
        f"credits invoice(s) {', '.join(note.invoice_numbers)}; total credited £{note.total_pence / 100:,.2f}"
    )
    print(f"  files: {produced.files['html'].parent}/{produced.files['html'].stem}.(html|xlsx|csv|json)")


def cmd_invoice(args: argparse.Namespace) -> int:
    from entries.reports import invoice as invoicing
    from entries.store.series import known_series

    con = open_store(args, verify=True)  # money: never from a damaged store
    if args.series:
        known_series(con, args.series)
    centre = invoicing.check_centre(args.centre, args.series)
    known_centre(con, centre)
    made = invoicing.produce_documents(
        con, centre, config.out_dir(args.out), series=args.series, order_ref=args.order_ref, on=args.on
    )
    if not made.invoices and not made.credit_notes:
        what = f"order {args.order_ref}" if args.order_ref else f"series {args.series}" if args.series else "any series"
        print(f"entries: no stored entries for centre {args.centre} in {what}; no invoice written", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(made.as_json(), indent=2, ensure_ascii=False))
        return 0
    for one in made.invoices:
        _print_invoice(one)
    for note in made.credit_notes:
        _print_credit_note(note)
    new = [p for p in made.invoices if p.new]
    new_credits = [c for c in made.credit_notes if c.new]
    credited = sum(c.credit_note.total_pence for c in made.credit_notes)
    invoiced = sum(p.invoice.total_pence for p in made.invoices)
    print(
        f"{len(made.invoices)} invoice(s) for centre {args.centre}; {len(new)} new"
        + (
            f"; {len(made.credit_notes)} credit note(s), {len(new_credits)} new; invoiced £{invoiced / 100:,.2f}, "
            f"credited £{credited / 100:,.2f}, net £{(invoiced - credited) / 100:,.2f}"
            if made.credit_notes
            else ""
        )
        + ("" if new or new_credits else " (nothing new: the documents above were produced again, unchanged)")
    )
    return 0


def cmd_invoices(args: argparse.Namespace) -> int:
    from entries.reports import invoice as invoicing
    from entries.store.series import known_series

    if (args.received_from is None) != (args.received_to is None):
        raise UsageError("give both --received-from and --received-to, or neither")
    received = (args.received_from, args.received_to) if args.received_from else None
    if args.series is None and received is None:
        raise UsageError("give --series or a date range (--received-from and --received-to)")
    if received is not None and received[0] > received[1]:
        raise UsageError("--received-from is after --received-to")
    con = open_store(args, verify=True)  # money: never from a damaged store
    if args.series:
        known_series(con, args.series)
    if args.prefect:
        con.close()  # the flow's task opens the store itself (and checks it again: a run from the UI must)
        done = _invoices_through_prefect(args)
    else:
        done = invoicing.write_series_invoices(con, args.series, config.out_dir(args.out), received, on=args.on)
    if args.json:
        print(json.dumps(done, indent=2, ensure_ascii=False))
        return 0
    _print_invoices(done)
    return 0


def _invoices_through_prefect(args: argparse.Namespace) -> dict:
    """`entries invoices --prefect`: the invoicing flow, reporting to the Prefect API (a temporary
    local one when none is configured), as `entries nightly` does."""
    from flows.api import ensure_api
    from flows.invoicing import invoicing_flow

    ensure_api()  # one clear line, before anything is written, when no Prefect API can be had
    return invoicing_flow(
        args.series,
        db=str(config.db_path(args.db)),
        out=str(config.out_dir(args.out)),
        received_from=args.received_from.isoformat() if args.received_from else None,
        received_to=args.received_to.isoformat() if args.received_to else None,
        on=args.on.isoformat() if args.on else None,
    )


def _print_invoices(done: dict) -> None:
    for centre in done["centres"]:
        credits = (
            f"; credit notes {', '.join(centre['credit_notes'])}: credited £{centre['credited_pence'] / 100:,.2f}, "
            f"net £{centre['net_pence'] / 100:,.2f}"
            if centre["credit_notes"]
            else ""
        )
        print(
            f"centre {centre['centre']}: {centre['entries']} entries, £{centre['total_pence'] / 100:,.2f}; "
            f"invoices {', '.join(centre['invoices'])}{credits}"
        )
    invoices = [d for d in done["invoices"] if d["document"] == "invoice"]
    notes = [d for d in done["invoices"] if d["document"] == "credit_note"]
    print(
        f"{len(done['centres'])} centre(s), {len(invoices)} invoice(s) ({sum(1 for i in invoices if i['new'])} new), "
        f"total £{done['total_pence'] / 100:,.2f}"
        + (
            f"; {len(notes)} credit note(s) ({sum(1 for n in notes if n['new'])} new), credited "
            f"£{done['credited_pence'] / 100:,.2f}, net £{done['net_pence'] / 100:,.2f}"
            if notes
            else ""
        )
        + f"; finance summary {done['summary']}"
    )
