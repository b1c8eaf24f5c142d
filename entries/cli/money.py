"""Commands that bill centres: `entries invoice` (one centre's invoice orders) and `entries invoices`
(every centre with entries in a series or a date range, with the finance summary).

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


def cmd_invoice(args: argparse.Namespace) -> int:
    from entries.reports import invoice as invoicing
    from entries.store.series import known_series

    con = open_store(args, verify=True)  # money: never from a damaged store
    if args.series:
        known_series(con, args.series)
    known_centre(con, args.centre)
    produced = invoicing.produce_invoices(
        con, args.centre, config.out_dir(args.out), series=args.series, order_ref=args.order_ref, on=args.on
    )
    if not produced:
        what = f"order {args.order_ref}" if args.order_ref else f"series {args.series}" if args.series else "any series"
        print(f"entries: no stored entries for centre {args.centre} in {what}; no invoice written", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([p.as_json() for p in produced], indent=2, ensure_ascii=False))
        return 0
    for one in produced:
        _print_invoice(one)
    new = [p for p in produced if p.new]
    print(
        f"{len(produced)} invoice(s) for centre {args.centre}; {len(new)} new"
        + ("" if new else " (every entry was already billed: the invoices above were produced again, unchanged)")
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
    done = invoicing.write_series_invoices(con, args.series, config.out_dir(args.out), received, on=args.on)
    if args.json:
        print(json.dumps(done, indent=2, ensure_ascii=False))
        return 0
    for centre in done["centres"]:
        print(
            f"centre {centre['centre']}: {centre['entries']} entries, £{centre['total_pence'] / 100:,.2f}; "
            f"invoices {', '.join(centre['invoices'])}"
        )
    new = sum(1 for i in done["invoices"] if i["new"])
    print(
        f"{len(done['centres'])} centre(s), {len(done['invoices'])} invoice(s) ({new} new), "
        f"total £{done['total_pence'] / 100:,.2f}; finance summary {done['summary']}"
    )
    return 0
