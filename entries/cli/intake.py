"""Commands that take centres' uploads in: `entries ingest` (one file, in this process),
`entries nightly` (every centre's inbox folder) and `entries serve` (the nightly run on a schedule,
with invoicing and onboarding served beside it, run on demand from the Prefect UI).

Each `cmd_*` takes the parsed arguments and returns the exit code: 0 when done, 1 when a file was
refused or the run left files a person must see to.
"""

from __future__ import annotations

import argparse
import json

from entries.cli.opening import open_store
from entries.cli.output import print_outcome, print_run
from entries.core import clock, config
from entries.core.errors import UsageError
from flows import schedule  # constants only: Prefect is imported when a flow runs


def cmd_ingest(args: argparse.Namespace) -> int:
    from entries.core.status import ACCEPTED
    from entries.pipeline import hall
    from entries.store import refdata

    if args.path.is_dir():
        raise UsageError(f"{args.path} is a folder: give one file (or use 'entries nightly' for an inbox)")
    if not args.path.is_file():
        raise UsageError(f"no such file: {args.path}")
    con = open_store(args)
    received_on = args.received_on or clock.today()
    reference = refdata.snapshot(con)
    context = hall.context_for(reference, args.centre, received_on, args.series)
    outcome = hall.submit(
        con,
        args.path,
        context=context,
        reference=reference,
        order_ref=args.order_ref,
        out_dir=config.out_dir(args.out),
        dry_run=args.dry_run,
    )
    if args.json:
        print(json.dumps(outcome.as_json(), indent=2, ensure_ascii=False))
    else:
        print_outcome(outcome)
    return 0 if outcome.status in ACCEPTED else 1


def cmd_nightly(args: argparse.Namespace) -> int:
    from entries.core.series import parse_series
    from entries.pipeline import nightly

    if not args.inbox.is_dir():
        raise UsageError(f"no inbox folder at {args.inbox}")
    series = None
    if args.series:
        series = parse_series(args.series)
        if series is None:
            raise UsageError(f"--series must be a series such as 2027-06 or 'June 2027', not {args.series!r}")
    # The store is opened only under the run's lock (a second run waits there, with a message);
    # the run loads the reference data itself when the store has none.
    db, out = config.db_path(args.db), config.out_dir(args.out)
    if args.in_process:
        summary = nightly.run_nightly(
            args.inbox,
            db,
            out,
            received_on=args.received_on,
            settle_seconds=args.settle_seconds,
            lock_wait_seconds=args.lock_wait,
            series=series,
        ).as_json()
    else:
        from flows.api import ensure_api
        from flows.nightly import runner_for

        ensure_api()  # one clear line, before anything is claimed, when no Prefect API can be had
        summary = runner_for(args.dask)(
            str(args.inbox),
            db=str(db),
            out=str(out),
            received_on=args.received_on.isoformat() if args.received_on else None,
            settle_seconds=args.settle_seconds,
            lock_wait_seconds=args.lock_wait,
            series=series,
        )
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_run(summary)
    # Files a fault of the machine stopped are not done: the run must be seen to need a person.
    return 1 if summary.get("left_by_fault") else 0


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.inbox.is_dir():  # a night would fail on it: say so now, not at 02:00
        raise UsageError(f"no inbox folder at {args.inbox}")
    db, out = config.db_path(args.db), config.out_dir(args.out)
    print(
        f"Serving the nightly import of {args.inbox} at '{args.cron}' ({args.timezone}), and the invoices "
        "and onboard deployments on demand; Ctrl-C to stop"
    )
    schedule.serve_all(str(args.inbox.resolve()), str(db.resolve()), str(out.resolve()), args.cron, args.timezone)
    return 0
