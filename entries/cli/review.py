"""Commands for rows held for the operations team: `entries review list` and `entries review resolve`.

Each `cmd_*` takes the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import json

from entries.cli.opening import open_store
from entries.core import config


def cmd_review_list(args: argparse.Namespace) -> int:
    from entries.store import review

    con = open_store(args)
    items = review.open_items(con)
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return 0
    for item in items:
        rec = item["on_record"]
        entered = ", ".join(
            f"{e['entry_code']}{' units ' + '/'.join(map(str, e['units'])) if e['units'] else ''} {e['series']}"
            for e in item["entries"]
        )
        print(
            f"#{item['review_id']} {item['reason_code']} centre {item['centre']} {item['file']} rows {item['rows']}: "
            f"{item['candidate_number']} {item['surname']}, {item['forenames']} ({item['date_of_birth']})"
            + (
                f" ~ on record {rec['candidate_number']} {rec['surname']}, {rec['forenames']} ({rec['date_of_birth']})"
                if rec
                else ""
            )
            + f"; entries {entered}"
        )
    print(f"{len(items)} open item(s)")
    return 0


def cmd_review_resolve(args: argparse.Namespace) -> int:
    from entries.pipeline import hall
    from entries.store import refdata

    con = open_store(args)
    done = hall.resolve_held(con, args.id, args.how, refdata.snapshot(con), config.out_dir(args.out))
    confirmation = done["confirmation"]
    print(
        f"Review item {done['review_id']} resolved as {done['resolution']}: {done['entries']} entr"
        f"{'y' if done['entries'] == 1 else 'ies'} stored; submission now {done['submission_status']}; "
        f"confirmation {confirmation}"
    )
    if done["candidate_number"]:
        print(f"  the new candidate was given the free candidate number {done['candidate_number']}: tell the centre")
    return 0
