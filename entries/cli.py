"""The `entries` command line (docs/architecture.md §5).

Exit codes: 0 success, 1 a refused file or broken data, 2 a usage error. Errors are one clear line on
stderr (problem lists follow it, one line each); no traceback reaches the operator.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from entries.core import clock, config, crash
from entries.core.errors import EntriesError, ReferenceDataError, UsageError
from flows import schedule  # constants only: Prefect is imported when a flow runs

if TYPE_CHECKING:
    from entries.checks.upload import Outcome

CENTRE_HELP = "five-digit centre number, e.g. 12345"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, as argparse does, but no usage dump
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def centre_number(text: str) -> str:
    """argparse type: a five-digit centre number, kept as text."""
    if not (len(text) == 5 and text.isdigit()):
        raise argparse.ArgumentTypeError(f"centre number must be 5 digits, got {text!r}")
    return text


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--db", default=default, help="DuckDB file (env ENTRIES_DB, default data/entries.duckdb)")
    parser.add_argument("--out", default=default, help="reports folder (env ENTRIES_OUT, default data/out)")


def _say(line: str) -> None:
    print(f"entries: {line}", file=sys.stderr, flush=True)


def _open(args: argparse.Namespace, *, needs_reference: bool = True):
    # While a nightly run holds the store, wait for its next pause between files (with a message).
    from entries.store import database, refdata

    con = database.connect(config.db_path(args.db), wait_seconds=config.store_wait_seconds(), notify=_say)
    if needs_reference:
        refdata.ensure_reference(con)
    return con


def cmd_reference_load(args: argparse.Namespace) -> int:
    from entries.store import refdata

    con = _open(args, needs_reference=False)
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


def known_centre(con, centre: str) -> str:
    """`centre` if it is a published or onboarded centre; else a usage error."""
    from entries.store.centres import is_known_centre

    if not is_known_centre(con, centre):
        raise UsageError(
            f"centre {centre} is not an approved centre (see reference_data/centres.csv or 'entries onboard')"
        )
    return centre


def cmd_qualifications_search(args: argparse.Namespace) -> int:
    from entries.store import qualifications

    con = _open(args)
    if args.centre:
        known_centre(con, args.centre)
    found = qualifications.search(con, args.text or "", args.centre)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print("No qualifications match.")
        return 0
    for q in found:
        print(f"{q['qualification_code']}  {q['title']}  ({q['glh']} GLH; codes {', '.join(q['entry_codes'])})")
    print(f"{len(found)} qualification(s)")
    return 0


def iso_date(text: str) -> dt.date:
    """argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date must be YYYY-MM-DD, got {text!r}") from None


def print_outcome(outcome: Outcome, limit: int = 20) -> None:
    """A short human summary of one upload, with its first issues."""
    reason = f" ({outcome.reason})" if outcome.reason else ""
    print(f"{outcome.file}: {outcome.status}{reason}")
    source = {"default": " (the default: first series at the standard fee)", "option": " (--series)"}
    print(
        f"  centre {outcome.centre}, series {outcome.series or '-'}{source.get(outcome.series_source, '')}, "
        f"order {outcome.order_ref or '-'}; "
        f"rows {outcome.rows}, accepted {outcome.accepted}, rejected {outcome.rejected}, held {outcome.held}"
    )
    stored = sum(outcome.entries.values())
    if outcome.dry_run:
        changes = outcome.changes or {}
        print(
            f"  dry run, nothing stored: would store {stored} entries, total £{outcome.fees_pence / 100:,.2f}; "
            f"{changes.get('new', 0)} new, {changes.get('already_entered', 0)} already entered, "
            f"{changes.get('replaces', 0)} replacing an entry on record"
        )
    elif stored or outcome.claim_number:
        by_series = "; ".join(
            f"{s['series']}{' late' if s['late'] else ''}: {s['entries']} (£{s['fees_pence'] / 100:,.2f})"
            for s in outcome.by_series
        )
        print(
            f"  {stored} entries stored, total £{outcome.fees_pence / 100:,.2f}"
            + (f" ({by_series})" if by_series else "")
            + (f"; claim number {outcome.claim_number}" if outcome.claim_number else "")
        )
    errors = sum(1 for i in outcome.issues if i.severity == "error")
    warnings = len(outcome.issues) - errors
    if outcome.issues:
        print(
            f"  {errors} error(s), {warnings} warning(s)"
            + (f"; first {limit}:" if len(outcome.issues) > limit else ":")
        )
        for found in outcome.issues[:limit]:
            print(f"    {found.severity}: {found.as_line()}")
    for kind, path in outcome.reports.items():
        if path:
            print(f"  {kind}: {path}")


def cmd_results_load(args: argparse.Namespace) -> int:
    from entries.store import results

    if not args.path.is_file():
        raise UsageError(f"no such file: {args.path}")
    con = _open(args)
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

    con = _open(args)
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
    con = _open(args)
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


def print_run(summary: dict) -> None:
    """The nightly run's closing summary: what happened, and what needs a person."""
    totals = summary["totals"]
    print(
        f"Nightly import: {totals['files']} file(s); " + ", ".join(f"{s} {n}" for s, n in totals["by_status"].items())
    )
    print(
        f"  {totals['entries']} entries stored, £{totals['fees_pence'] / 100:,.2f}; {totals['held']} row(s) held for review"
    )
    for f in summary["files"]:
        if f["status"] not in ("Processing complete",):
            print(f"  {f['centre']}/{f['file']}: {f['status']}" + (f" - {f['reason']}" if f["reason"] else ""))
    if totals["held"]:
        print("  next: 'entries review list' to resolve held rows")
    for name in summary.get("left_for_next_run", []):
        print(f"  {name}: still being written (changed within --settle-seconds); left for the next run")
    for left in summary.get("left_by_fault", []):
        print(f"  {left['centre']}/{left['file']}: left for the next run - {left['reason']}")
    for name in summary.get("ignored", []):
        print(f"  {name}: not in a centre's folder (INBOX/<centre number>/); left where it is")
    folders = sorted({str(Path(p).parent) for f in summary["files"] for p in f["reports"].values() if p})
    for folder in folders:
        print(f"  reports: {folder}")


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


def cmd_onboard(args: argparse.Namespace) -> int:
    from entries.pipeline.onboard import onboard

    if not args.path.exists():
        raise UsageError(f"no such file or folder: {args.path}")
    con = _open(args)
    result = onboard(con, args.path, config.out_dir(args.out), args.received_on or clock.today())
    summary = result.as_json()
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        verdict = "refused: nothing stored" if result.has_errors else "loaded in one transaction"
        print(f"{args.path.name}: {verdict}")
        for key, value in summary.items():
            if key not in ("issues", "groups", "reports", "file"):
                print(f"  {key}: {value}")
        for found in result.issues[:20]:
            print(f"    {found.issue.severity}: sheet {found.sheet}, {found.issue.as_line()}")
        for kind, path in (summary.get("reports") or {}).items():
            print(f"  report ({kind}): {path}")
    return 1 if result.has_errors else 0


def cmd_restore(args: argparse.Namespace) -> int:
    from entries.reports.files import set_aside_reports
    from entries.store import runlock

    db, out = config.db_path(args.db), config.out_dir(args.out)
    with runlock.run_lock(db, wait_seconds=0):
        lost = runlock.since_copy(db)
        taken = f"taken {lost.taken_at:%Y-%m-%d %H:%M} UTC" if lost.taken_at else "taken before the last run"
        if not lost.empty:
            print(
                f"The copy ({taken}) lacks {len(lost.submissions)} submission(s) and {len(lost.decisions)} "
                "review decision(s) made since; restoring undoes them:"
            )
            for sub in lost.submissions:
                print(
                    f"  submission {sub['submission_id']}: centre {sub['centre']} {sub['file_name']} ({sub['status']})"
                )
            for decision in lost.decisions:
                print(
                    f"  review item {decision['review_id']} of submission {decision['submission_id']}: {decision['resolution']}"
                )
            if not args.force:
                raise EntriesError("nothing restored: give --force to restore and undo the work listed above")
        restored = runlock.restore(db)
        aside = runlock.replaced_copies(db)[-1].name
        moved = set_aside_reports(out, lost.submissions, f"undone/{aside}")
    print(f"Restored {restored} from {runlock.backup_path(db)} ({taken}); the store it replaced is kept as {aside}")
    if moved:
        print(f"  The reports of {len(lost.submissions)} undone submission(s) moved to {out / 'undone' / aside}.")
    print(
        "  Files that run moved to processed/, rejected/ and failed/ stay there: put them back in the inbox to import them again."
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    db, out = config.db_path(args.db), config.out_dir(args.out)
    print(f"Serving the nightly import of {args.inbox} at '{args.cron}' ({args.timezone}); Ctrl-C to stop")
    schedule.serve_nightly(str(args.inbox.resolve()), str(db.resolve()), str(out.resolve()), args.cron, args.timezone)
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from entries.store import users

    users.check_username(args.username)
    password = sys.stdin.readline().rstrip("\r\n")  # from standard input: never an argument or a log line
    con = _open(args)
    user = users.add_user(con, args.username, password, centre=args.centre, operator=args.operator)
    print(f"User {user.username} added ({'operator' if user.is_operator else 'centre ' + str(user.centre)})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from entries.store import users

    found = users.list_users(_open(args))
    if args.json:
        print(
            json.dumps(
                [{"username": u.username, "role": u.role, "centre": u.centre, "disabled": u.disabled} for u in found],
                indent=2,
            )
        )
        return 0
    for u in found:
        print(f"{u.username}  {u.role}{' ' + u.centre if u.centre else ''}{'  (disabled)' if u.disabled else ''}")
    print(f"{len(found)} user(s)")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from entries.store import users

    users.disable_user(_open(args), args.username)
    print(f"User {args.username} disabled: they can no longer sign in")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn

    from entries.store import database
    from entries.web.app import create_app
    from entries.web.security import load_secret

    db, out = config.db_path(args.db), config.out_dir(args.out)
    con = database.connect(db, wait_seconds=60.0)  # tables and reference data in place before serving
    try:
        from entries.store import refdata

        refdata.ensure_reference(con)
    finally:
        con.close()
    app = create_app(db, out, load_secret(db.with_name(db.name + ".portal-secret")))
    print(f"Portal on http://{args.host}:{args.port}/ (store {db}); Ctrl-C to stop")
    # Access lines carry method, path and status only: paths hold ids and codes, never personal data.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info" if args.access_log else "warning",
        access_log=args.access_log,
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from entries.reports import listing

    con = _open(args)
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
    con = _open(args)
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
        print(
            f"#{s['submission_id']}{' claim ' + s['claim_number'] if s['claim_number'] else ''} {s['received_on']} "
            f"centre {s['centre']} {s['file']}: {s['status']}"
            f" (series {s['series'] or '-'}, order {s['order_ref'] or '-'}; rows {s['rows']}; {kinds or 'no entries'};"
            f" £{s['fees_pence'] / 100:.2f})"
        )
    print(f"{len(found)} submission(s); report {written['xlsx']}")
    return 0


def cmd_review_list(args: argparse.Namespace) -> int:
    from entries.store import review

    con = _open(args)
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

    con = _open(args)
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


def cmd_template(args: argparse.Namespace) -> int:
    from entries.reports.template import write_template

    con = _open(args)
    if args.path.suffix.lower() != ".xlsx":
        raise UsageError(f"the template is an .xlsx workbook; give a path ending .xlsx, not {args.path.name}")
    args.path.parent.mkdir(parents=True, exist_ok=True)
    written = write_template(args.path, con, args.centre)
    print(f"Entries template written to {written}" + (f" for centre {args.centre}" if args.centre else ""))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from entries.checks.validate import Context
    from entries.core.status import ACCEPTED
    from entries.pipeline.ingest import ingest_file
    from entries.store import refdata
    from entries.store.series import series_for

    if args.path.is_dir():
        raise UsageError(f"{args.path} is a folder: give one file (or use 'entries nightly' for an inbox)")
    if not args.path.is_file():
        raise UsageError(f"no such file: {args.path}")
    con = _open(args)
    received_on = args.received_on or clock.today()
    reference = refdata.snapshot(con)
    context = Context(
        centre=args.centre,
        series=series_for(reference, received_on, args.series),
        received_on=received_on,
        series_source="option" if args.series else "default",
    )
    outcome = ingest_file(
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


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; each leaf sets `handler`."""
    parser = _Parser(
        prog="entries", description="Cambridge Technicals entries: check, price and record centres' entry spreadsheets."
    )
    _global_options(parser, None)
    common = _Parser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    reference = commands.add_parser("reference", help="reference data (entry codes, fees, centres)", parents=[common])
    ref_cmds = reference.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ref_cmds.required = True
    load = ref_cmds.add_parser("load", help="validate and load the reference tables", parents=[common])
    load.add_argument("--dir", help="folder of reference CSV files (default: the project's reference_data/)")
    load.set_defaults(handler=cmd_reference_load)

    quals = commands.add_parser("qualifications", help="find qualifications", parents=[common])
    q_cmds = quals.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    q_cmds.required = True
    search = q_cmds.add_parser("search", help="search by code, title or part of a title", parents=[common])
    search.add_argument("text", nargs="?", default="", help="code or words of the title; blank lists all")
    search.add_argument("--centre", type=centre_number, help=f"only suites this centre is approved for ({CENTRE_HELP})")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(handler=cmd_qualifications_search)

    template = commands.add_parser("template", help="write the entries template workbook", parents=[common])
    template.add_argument("path", type=Path, help="where to write the .xlsx")
    template.add_argument(
        "--centre", type=centre_number, help=f"offer only this centre's approved entry codes ({CENTRE_HELP})"
    )
    template.set_defaults(handler=cmd_template)

    ingest = commands.add_parser("ingest", help="read, check and record one entries spreadsheet", parents=[common])
    ingest.add_argument("path", type=Path, help="the uploaded file (.xlsx, .xlsm or .csv)")
    ingest.add_argument("--centre", type=centre_number, required=True, help=f"the uploading centre ({CENTRE_HELP})")
    ingest.add_argument(
        "--series",
        help="series for rows that name none, e.g. 2027-06 or 'June 2027' (default: the first series whose "
        "standard entry deadline has not passed on the received-on date; a late entry only when stated)",
    )
    ingest.add_argument("--order-ref", help="the centre's order number or reference, quoted on its invoice")
    ingest.add_argument(
        "--dry-run",
        action="store_true",
        help="check, match, classify and price without storing or writing anything; say what would change",
    )
    ingest.add_argument("--received-on", type=iso_date, help="YYYY-MM-DD (default: today)")
    ingest.add_argument("--json", action="store_true", help="print the docs/architecture.md §5 JSON object")
    ingest.set_defaults(handler=cmd_ingest)

    results = commands.add_parser("results", help="unit results (for moving-down entries)", parents=[common])
    results_cmds = results.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    results_cmds.required = True
    results_load = results_cmds.add_parser("load", help="validate and load a results CSV", parents=[common])
    results_load.add_argument("path", type=Path, help="CSV: UCI, Qualification Code, Unit Number, Series, Result")
    results_load.add_argument("--json", action="store_true", help="print JSON")
    results_load.set_defaults(handler=cmd_results_load)

    invoice = commands.add_parser("invoice", help="a centre's invoice orders", parents=[common])
    invoice.add_argument("--centre", type=centre_number, required=True, help=CENTRE_HELP)
    invoice.add_argument("--series", help="series, e.g. 2027-06 (default: every series)")
    invoice.add_argument("--order-ref", help="only this order number")
    invoice.add_argument("--on", type=iso_date, help="invoice date (YYYY-MM-DD) of any new invoice (default: today)")
    invoice.add_argument("--json", action="store_true", help="print the invoice JSON")
    invoice.set_defaults(handler=cmd_invoice)

    invoices = commands.add_parser(
        "invoices", help="invoice orders for every centre with entries in a series", parents=[common]
    )
    invoices.add_argument("--series", help="series, e.g. 2027-06")
    invoices.add_argument(
        "--received-from", type=iso_date, help="first day (YYYY-MM-DD) of a date range of submissions"
    )
    invoices.add_argument("--received-to", type=iso_date, help="last day (YYYY-MM-DD) of that range")
    invoices.add_argument("--on", type=iso_date, help="invoice date (YYYY-MM-DD) of any new invoice (default: today)")
    invoices.add_argument("--json", action="store_true", help="print JSON")
    invoices.set_defaults(handler=cmd_invoices)

    nightly_cmd = commands.add_parser(
        "nightly", help="import every centre's uploads from INBOX/<centre>/", parents=[common]
    )
    nightly_cmd.add_argument(
        "inbox", type=Path, help="the inbox folder; processed/, rejected/ and failed/ go beside it"
    )
    nightly_cmd.add_argument(
        "--received-on", type=iso_date, help="YYYY-MM-DD for every file (default: each file's date)"
    )
    nightly_cmd.add_argument(
        "--settle-seconds",
        type=float,
        default=5.0,
        help="leave files changed more recently than this for the next run (default 5)",
    )
    nightly_cmd.add_argument(
        "--series",
        help="series for files that name none (no Series column, no INBOX/<centre>/<series>/ folder); "
        "default: the first series whose standard entry deadline has not passed",
    )
    nightly_cmd.add_argument(
        "--lock-wait", type=float, default=600.0, help="seconds to wait for another run to finish (default 600)"
    )
    nightly_cmd.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=os.environ.get("ENTRIES_DASK_ADDRESS"),
        help="run prepare and report on this Dask scheduler ('local' starts a local cluster; env ENTRIES_DASK_ADDRESS)",
    )
    nightly_cmd.add_argument(
        "--in-process", action="store_true", help="run the same steps without Prefect (no API needed)"
    )
    nightly_cmd.add_argument("--json", action="store_true", help='print {"files": [...], "totals": {...}}')
    nightly_cmd.set_defaults(handler=cmd_nightly)

    onboard_cmd = commands.add_parser(
        "onboard", help="bulk onboarding: centres, approvals and candidates", parents=[common]
    )
    onboard_cmd.add_argument(
        "path", type=Path, help="a workbook with sheets Centres, Approvals, Candidates (or a folder of those files)"
    )
    onboard_cmd.add_argument("--received-on", type=iso_date, help="YYYY-MM-DD (default: today)")
    onboard_cmd.add_argument("--json", action="store_true", help="print JSON")
    onboard_cmd.set_defaults(handler=cmd_onboard)

    restore = commands.add_parser(
        "restore", help="put back the copy of the store taken before the last run", parents=[common]
    )
    restore.add_argument(
        "--force", action="store_true", help="restore even when it undoes submissions or review decisions made since"
    )
    restore.set_defaults(handler=cmd_restore)

    serve = commands.add_parser("serve", help="serve the nightly import on a schedule with Prefect", parents=[common])
    serve.add_argument("inbox", type=Path, help="the inbox folder")
    serve.add_argument(
        "--cron", default=schedule.DEFAULT_CRON, help=f"cron schedule (default '{schedule.DEFAULT_CRON}')"
    )
    serve.add_argument(
        "--timezone",
        default=schedule.DEFAULT_TIMEZONE,
        help=f"time zone of the cron (default {schedule.DEFAULT_TIMEZONE})",
    )
    serve.set_defaults(handler=cmd_serve)

    users_cmd = commands.add_parser("users", help="portal accounts", parents=[common])
    users_cmds = users_cmd.add_subparsers(dest="users_command", metavar="ACTION", parser_class=_Parser)
    users_cmds.required = True
    add_user = users_cmds.add_parser(
        "add", help="add an account; the password is read from standard input", parents=[common]
    )
    add_user.add_argument("username", help="3-40 characters: lower-case letters, digits, '.', '_' or '-'")
    who = add_user.add_mutually_exclusive_group(required=True)
    who.add_argument("--centre", type=centre_number, help="the centre this user acts for (sees only its data)")
    who.add_argument("--operator", action="store_true", help="an operations team member (sees every centre)")
    add_user.set_defaults(handler=cmd_users_add)
    list_users = users_cmds.add_parser("list", help="every account", parents=[common])
    list_users.add_argument("--json", action="store_true", help="print JSON")
    list_users.set_defaults(handler=cmd_users_list)
    disable = users_cmds.add_parser("disable", help="stop an account signing in", parents=[common])
    disable.add_argument("username")
    disable.set_defaults(handler=cmd_users_disable)

    web = commands.add_parser("web", help="serve the centre portal", parents=[common])
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    web.add_argument("--access-log", action="store_true", help="print a line per request (method, path, status)")
    web.set_defaults(handler=cmd_web)

    listing = commands.add_parser("list", help="stored entries", parents=[common])
    listing.add_argument("--centre", type=centre_number, help=CENTRE_HELP)
    listing.add_argument("--series", help="series, e.g. 2027-06")
    listing.add_argument("--candidate", metavar="UCI", help="only this candidate's entries")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=cmd_list)

    history = commands.add_parser("history", help="entry submission history", parents=[common])
    history.add_argument("--centre", type=centre_number, help=CENTRE_HELP)
    history.add_argument("--qualification", help="only submissions with entries for this qualification code")
    history.add_argument("--group", help="only submissions with entries for this candidate group")
    history.add_argument("--claim", metavar="NUMBER", help="the submission with this claim number (e.g. C0000042K)")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=cmd_history)

    review = commands.add_parser("review", help="rows held for the operations team", parents=[common])
    review_cmds = review.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    review_cmds.required = True
    review_list = review_cmds.add_parser("list", help="open held items", parents=[common])
    review_list.add_argument("--json", action="store_true", help="print JSON")
    review_list.set_defaults(handler=cmd_review_list)
    resolve = review_cmds.add_parser("resolve", help="resolve one held item", parents=[common])
    resolve.add_argument("id", type=int, help="the review item number from 'entries review list'")
    resolve.add_argument(
        "--as",
        dest="how",
        required=True,
        choices=["existing", "new", "new-number", "reject"],
        help="existing: the candidate on record; new: a new candidate; new-number: a new candidate with the "
        "centre's lowest free candidate number (tell the centre); reject: drop the rows",
    )
    resolve.set_defaults(handler=cmd_review_resolve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except EntriesError as exc:
        print(f"entries: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("entries: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last guard: never a traceback, never a cell's text
        parsed = locals().get("args")
        doing = f"entries {getattr(parsed, 'command', '')}".strip()
        from entries.core.faults import machine_fault

        fault = machine_fault(exc)
        if fault is not None:  # the machine, in words: no log to write on a full disk
            print(f"entries: error: {doing} stopped: {fault}", file=sys.stderr)
            return 1
        log = crash.record(exc, doing, crash.log_dir(getattr(parsed, "db", None)))
        print(f"entries: error: {crash.one_line(exc, doing, log)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
