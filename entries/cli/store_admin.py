"""Commands that load or put back the store's own data: `entries reference load`, `entries results
load`, `entries onboard` (centres, approvals and candidates in bulk; in this process, or with
`--prefect` as the onboarding flow, seen in the Prefect UI) and `entries restore` (the copy taken
before the last run).

Each `cmd_*` takes the parsed arguments and returns the exit code: 1 when a file was refused and
nothing stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from entries.cli.opening import open_store
from entries.core import clock, config
from entries.core.errors import EntriesError, ReferenceDataError, UsageError


def cmd_reference_load(args: argparse.Namespace) -> int:
    from entries.store import refdata

    con = open_store(args, needs_reference=False)
    directory = Path(args.dir) if args.dir else config.reference_dir()
    try:
        result = refdata.load_reference(con, directory)
    except ReferenceDataError as exc:
        print(
            f"entries: reference data in {directory} was not loaded: {len(exc.problems)} problem(s); "
            "the tables loaded before are unchanged",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  {problem.as_line()}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{name} {n}" for name, n in result.row_counts.items())
    verb = "loaded" if result.changed else "unchanged, already loaded as"
    print(f"Reference data {verb} version {result.version_id} (sha256 {result.sha256[:12]}) from {directory}")
    print(f"  {counts}")
    return 0


def cmd_results_load(args: argparse.Namespace) -> int:
    from entries.store import results

    if not args.path.is_file():
        raise UsageError(f"no such file: {args.path}")
    con = open_store(args, verify=True)  # results decide what a top-up may claim
    loaded = results.load_results(con, args.path)
    if args.json:
        print(json.dumps(loaded.as_json(), indent=2, ensure_ascii=False))
    else:
        verdict = (
            "refused: nothing stored"
            if loaded.has_errors
            else (f"{loaded.inserted} new, {loaded.updated} updated, {loaded.unchanged} unchanged")
        )
        print(f"{args.path.name}: {loaded.rows} result row(s); {verdict}")
        for found in loaded.issues[:20]:
            print(f"    {found.severity}: {found.as_line()}")
    return 1 if loaded.has_errors else 0


def cmd_onboard(args: argparse.Namespace) -> int:
    from entries.pipeline.onboard import onboard
    from entries.store.spool import service_temp, spool_dir

    if not args.path.exists():
        raise UsageError(f"no such file or folder: {args.path}")
    con = open_store(args, verify=True)
    if args.prefect:
        con.close()  # the flow's task opens the store itself
        summary = _onboard_through_prefect(args)
        # The flow's summary carries codes and places, never messages: the report has the words.
        lines = [
            f"{i['severity']}: sheet {i['sheet']}, "
            + ", ".join(p for p in (f"row {i['row']}" if i["row"] is not None else "", i["column"] or "") if p)
            + f": {i['code']}"
            for i in summary["issues"]
        ]
        has_errors = not summary["stored"]
    else:
        with service_temp(
            spool_dir(config.db_path(args.db)), "onboard"
        ) as scratch:  # candidates' cells: beside the store
            result = onboard(
                con, args.path, config.out_dir(args.out), args.received_on or clock.today(), work_dir=scratch
            )
        summary = result.as_json()
        lines = [f"{found.issue.severity}: sheet {found.sheet}, {found.issue.as_line()}" for found in result.issues]
        has_errors = result.has_errors
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        verdict = "refused: nothing stored" if has_errors else "loaded in one transaction"
        print(f"{args.path.name}: {verdict}")
        for key, value in summary.items():
            if key not in ("issues", "groups", "reports", "file"):
                print(f"  {key}: {value}")
        for line in lines[:20]:
            print(f"    {line}")
        for kind, path in (summary.get("reports") or {}).items():
            print(f"  report ({kind}): {path}")
    return 1 if has_errors else 0


def _onboard_through_prefect(args: argparse.Namespace) -> dict:
    """`entries onboard --prefect`: the onboarding flow, reporting to the Prefect API (a temporary
    local one when none is configured), as `entries nightly` does."""
    from flows.api import ensure_api
    from flows.onboarding import onboarding_flow

    ensure_api()  # one clear line, before anything is read, when no Prefect API can be had
    return onboarding_flow(
        str(args.path.resolve()),
        db=str(config.db_path(args.db)),
        out=str(config.out_dir(args.out)),
        received_on=args.received_on.isoformat() if args.received_on else None,
    )


def cmd_restore(args: argparse.Namespace) -> int:
    from entries.reports.files import set_aside_reports
    from entries.store import runlock

    db, out = config.db_path(args.db), config.out_dir(args.out)
    with runlock.run_lock(db, wait_seconds=0):
        lost = runlock.since_copy(db)
        taken = f"taken {lost.taken_at:%Y-%m-%d %H:%M} UTC" if lost.taken_at else "taken before the last run"
        for reason in lost.skipped:
            print(f"A newer copy is passed over: {reason}")
        if lost.unreadable is not None:
            print(
                f"The store cannot be read ({lost.unreadable}), so what it recorded since the copy ({taken}) "
                "cannot be listed; restoring undoes all of it."
            )
            if lost.invoices:
                print(f"  Invoices issued since the copy: {', '.join(lost.invoices)} (their numbers are not reused).")
            if lost.credit_notes:
                print(
                    f"  Credit notes issued since the copy: {', '.join(lost.credit_notes)} (their numbers are not reused)."
                )
        elif not lost.empty:
            print(
                f"The copy ({taken}) lacks {len(lost.submissions)} submission(s), {len(lost.decisions)} "
                f"review decision(s), {len(lost.invoices)} invoice(s) and {len(lost.credit_notes)} credit note(s) "
                "made since; restoring undoes them:"
            )
            for sub in lost.submissions:
                print(
                    f"  submission {sub['submission_id']}: centre {sub['centre']} {sub['file_name']} ({sub['status']})"
                )
            for decision in lost.decisions:
                print(
                    f"  review item {decision['review_id']} of submission {decision['submission_id']}: {decision['resolution']}"
                )
            for number in lost.invoices:
                print(f"  invoice {number} (its number is never given to another invoice)")
            for number in lost.credit_notes:
                print(f"  credit note {number} (its number is never given to another credit note)")
        if not lost.empty and not args.force:
            raise EntriesError("nothing restored: give --force to restore and undo the work listed above")
        had_store = db.exists()
        restored = runlock.restore(db, lost.source)
        aside = runlock.replaced_copies(db)[-1].name if had_store else None
        moved = set_aside_reports(out, lost.submissions, f"undone/{aside}") if aside else False
    kept = f"the store it replaced is kept as {aside}" if aside else "there was no store to keep"
    print(f"Restored {restored} from {lost.source} ({taken}); {kept}")
    if moved and aside:
        print(f"  The reports of {len(lost.submissions)} undone submission(s) moved to {out / 'undone' / aside}.")
    print(
        "  Files that run moved to processed/, rejected/ and failed/ stay there: put them back in the inbox to import them again."
    )
    return 0
