"""Commands that show what is on record: `entries list` (stored entries) and `entries history`
(entry submissions, also written as a report).

Each `cmd_*` takes the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys

from entries.cli.opening import open_store
from entries.core import config
from entries.core.errors import UsageError


def cmd_list(args: argparse.Namespace) -> int:
    from entries.reports import listing

    con = open_store(args)
    found = listing.list_entries(con, args.centre, args.series, args.candidate)
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    for e in found:
        unit = f" unit {e['unit']}" if e["unit"] is not None else ""
        late = " late" if e["late"] else ""
        print(
            f"{e['centre']} {e['candidate_number']} {e['series']} {e['entry_code']}{unit} {e['kind']} "
            f"£{e['fee_pence'] / 100:.2f}{late}{' (replaced)' if e['replaced'] else ''}"
        )
    print(f"{len(found)} entr{'y' if len(found) == 1 else 'ies'}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from entries.core.claims import parse_claim_number
    from entries.reports import listing

    claim = None
    if args.claim is not None:
        claim = parse_claim_number(args.claim)
        if claim is None:
            raise UsageError(
                f"{args.claim!r} is not a claim number (C, seven digits and a check letter, e.g. C0000042K)"
            )
    con = open_store(args)
    found = listing.submission_history(con, args.centre, args.qualification, args.group, claim)
    if claim is not None and not found:
        print(f"entries: no submission has the claim number {claim}", file=sys.stderr)
        return 1
    written = listing.write_history(found, config.out_dir(args.out), args.centre, args.qualification, args.group, claim)
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    for s in found:
        kinds = ", ".join(f"{k} {n}" for k, n in s["entries"].items() if n)
        gone = f"; {s['withdrawn']} withdrawn, credit £{s['credit_pence'] / 100:.2f}" if s["withdrawn"] else ""
        print(
            f"#{s['submission_id']}{' claim ' + s['claim_number'] if s['claim_number'] else ''} {s['received_on']} "
            f"centre {s['centre']} {s['file']}: {s['status']}"
            f" (series {s['series'] or '-'}, order {s['order_ref'] or '-'}; rows {s['rows']}; {kinds or 'no entries'};"
            f" £{s['fees_pence'] / 100:.2f}"
            f"{gone})"
        )
    print(f"{len(found)} submission(s); report {written['xlsx']}")
    return 0
