"""The `entries` command tree: global options, the argument types, and one `add_*` function per
command, each naming the handler (`args.handler`) its parsed arguments go to.

`build_parser()` returns the whole tree. A usage error is raised as `UsageError` (one line, exit 2),
never argparse's usage dump.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from entries.cli.catalogue import cmd_qualifications_search, cmd_template
from entries.cli.intake import cmd_ingest, cmd_nightly, cmd_serve
from entries.cli.money import cmd_invoice, cmd_invoices
from entries.cli.portal import cmd_users_add, cmd_users_disable, cmd_users_list, cmd_web
from entries.cli.records import cmd_history, cmd_list
from entries.cli.review import cmd_review_list, cmd_review_resolve
from entries.cli.store_admin import cmd_onboard, cmd_reference_load, cmd_restore, cmd_results_load
from entries.cli.withdrawals import cmd_withdraw
from entries.core.errors import UsageError
from flows import schedule  # constants only: Prefect is imported when a flow runs

CENTRE_HELP = "five-digit centre number, e.g. 12345"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, as argparse does, but no usage dump
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


# The subcommands' collection, as `add_subparsers` returns it (argparse names no public type for it).
Commands = argparse._SubParsersAction


def centre_number(text: str) -> str:
    """argparse type: a five-digit centre number, kept as text."""
    if not (len(text) == 5 and text.isdigit()):
        raise argparse.ArgumentTypeError(f"centre number must be 5 digits, got {text!r}")
    return text


def iso_date(text: str) -> dt.date:
    """argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date must be YYYY-MM-DD, got {text!r}") from None


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--db", default=default, help="DuckDB file (env ENTRIES_DB, default data/entries.duckdb)")
    parser.add_argument("--out", default=default, help="reports folder (env ENTRIES_OUT, default data/out)")


def add_reference(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries reference`: its arguments, and the handler its parsed arguments go to."""
    reference = commands.add_parser("reference", help="reference data (entry codes, fees, centres)", parents=[common])
    ref_cmds = reference.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ref_cmds.required = True
    load = ref_cmds.add_parser("load", help="validate and load the reference tables", parents=[common])
    load.add_argument("--dir", help="folder of reference CSV files (default: the project's reference_data/)")
    load.set_defaults(handler=cmd_reference_load)


def add_qualifications(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries qualifications`: its arguments, and the handler its parsed arguments go to."""
    quals = commands.add_parser("qualifications", help="find qualifications", parents=[common])
    q_cmds = quals.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    q_cmds.required = True
    search = q_cmds.add_parser("search", help="search by code, title or part of a title", parents=[common])
    search.add_argument("text", nargs="?", default="", help="code or words of the title; blank lists all")
    search.add_argument("--centre", type=centre_number, help=f"only suites this centre is approved for ({CENTRE_HELP})")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(handler=cmd_qualifications_search)


def add_template(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries template`: its arguments, and the handler its parsed arguments go to."""
    template = commands.add_parser("template", help="write the entries template workbook", parents=[common])
    template.add_argument("path", type=Path, help="where to write the .xlsx")
    template.add_argument(
        "--centre", type=centre_number, help=f"offer only this centre's approved entry codes ({CENTRE_HELP})"
    )
    template.set_defaults(handler=cmd_template)


def add_ingest(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries ingest`: its arguments, and the handler its parsed arguments go to."""
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


def add_results(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries results`: its arguments, and the handler its parsed arguments go to."""
    results = commands.add_parser("results", help="unit results (for moving-down entries)", parents=[common])
    results_cmds = results.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    results_cmds.required = True
    results_load = results_cmds.add_parser("load", help="validate and load a results CSV", parents=[common])
    results_load.add_argument("path", type=Path, help="CSV: UCI, Qualification Code, Unit Number, Series, Result")
    results_load.add_argument("--json", action="store_true", help="print JSON")
    results_load.set_defaults(handler=cmd_results_load)


def add_invoice(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries invoice`: its arguments, and the handler its parsed arguments go to."""
    invoice = commands.add_parser("invoice", help="a centre's invoice orders", parents=[common])
    invoice.add_argument("--centre", type=centre_number, required=True, help=CENTRE_HELP)
    invoice.add_argument("--series", help="series, e.g. 2027-06 (default: every series)")
    invoice.add_argument("--order-ref", help="only this order number")
    invoice.add_argument("--on", type=iso_date, help="invoice date (YYYY-MM-DD) of any new invoice (default: today)")
    invoice.add_argument("--json", action="store_true", help="print the invoice JSON")
    invoice.set_defaults(handler=cmd_invoice)


def add_invoices(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries invoices`: its arguments, and the handler its parsed arguments go to."""
    invoices = commands.add_parser(
        "invoices", help="invoice orders for every centre with entries in a series", parents=[common]
    )
    invoices.add_argument("--series", help="series, e.g. 2027-06")
    invoices.add_argument(
        "--received-from", type=iso_date, help="first day (YYYY-MM-DD) of a date range of submissions"
    )
    invoices.add_argument("--received-to", type=iso_date, help="last day (YYYY-MM-DD) of that range")
    invoices.add_argument("--on", type=iso_date, help="invoice date (YYYY-MM-DD) of any new invoice (default: today)")
    invoices.add_argument(
        "--prefect",
        action="store_true",
        help="run as the Prefect invoicing flow (PREFECT_API_URL, else a temporary local API)",
    )
    invoices.add_argument("--json", action="store_true", help="print JSON")
    invoices.set_defaults(handler=cmd_invoices)


def add_nightly(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries nightly`: its arguments, and the handler its parsed arguments go to."""
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


def add_onboard(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries onboard`: its arguments, and the handler its parsed arguments go to."""
    onboard_cmd = commands.add_parser(
        "onboard", help="bulk onboarding: centres, approvals and candidates", parents=[common]
    )
    onboard_cmd.add_argument(
        "path", type=Path, help="a workbook with sheets Centres, Approvals, Candidates (or a folder of those files)"
    )
    onboard_cmd.add_argument("--received-on", type=iso_date, help="YYYY-MM-DD (default: today)")
    onboard_cmd.add_argument(
        "--prefect",
        action="store_true",
        help="run as the Prefect onboarding flow (PREFECT_API_URL, else a temporary local API)",
    )
    onboard_cmd.add_argument("--json", action="store_true", help="print JSON")
    onboard_cmd.set_defaults(handler=cmd_onboard)


def add_restore(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries restore`: its arguments, and the handler its parsed arguments go to."""
    restore = commands.add_parser(
        "restore", help="put back the copy of the store taken before the last run", parents=[common]
    )
    restore.add_argument(
        "--force", action="store_true", help="restore even when it undoes submissions or review decisions made since"
    )
    restore.set_defaults(handler=cmd_restore)


def add_serve(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries serve`: its arguments, and the handler its parsed arguments go to."""
    serve = commands.add_parser(
        "serve",
        help="serve the nightly import on a schedule with Prefect, and invoicing and onboarding on demand",
        parents=[common],
    )
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


def add_users(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries users`: its arguments, and the handler its parsed arguments go to."""
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


def add_web(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries web`: its arguments, and the handler its parsed arguments go to."""
    web = commands.add_parser("web", help="serve the centre portal", parents=[common])
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    web.add_argument("--access-log", action="store_true", help="print a line per request (method, path, status)")

    def addresses(text: str) -> frozenset[str]:
        """argparse type: comma-separated IP addresses (of trusted proxies), each in its canonical form."""
        from entries.web.security import canonical_address

        found: set[str] = set()
        for part in text.split(","):
            try:
                found.add(canonical_address(part))
            except ValueError:
                raise argparse.ArgumentTypeError(f"not an IP address: {part.strip()!r}") from None
        return frozenset(found)

    web.add_argument(
        "--forwarded-allow-ips",
        type=addresses,
        default=frozenset(),
        metavar="LIST",
        help="comma-separated addresses of the proxies whose X-Forwarded-For names the client (default none)",
    )
    web.set_defaults(handler=cmd_web)


def add_list(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries list`: its arguments, and the handler its parsed arguments go to."""
    listing = commands.add_parser("list", help="stored entries", parents=[common])
    listing.add_argument("--centre", type=centre_number, help=CENTRE_HELP)
    listing.add_argument("--series", help="series, e.g. 2027-06")
    listing.add_argument("--candidate", metavar="UCI", help="only this candidate's entries")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=cmd_list)


def add_history(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries history`: its arguments, and the handler its parsed arguments go to."""
    history = commands.add_parser("history", help="entry submission history", parents=[common])
    history.add_argument("--centre", type=centre_number, help=CENTRE_HELP)
    history.add_argument("--qualification", help="only submissions with entries for this qualification code")
    history.add_argument("--group", help="only submissions with entries for this candidate group")
    history.add_argument("--claim", metavar="NUMBER", help="the submission with this claim number (e.g. C0000042K)")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=cmd_history)


def add_review(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries review`: its arguments, and the handler its parsed arguments go to."""
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


def add_withdraw(commands: Commands, common: argparse.ArgumentParser) -> None:
    """`entries withdraw`: its arguments, and the handler its parsed arguments go to."""
    withdraw = commands.add_parser(
        "withdraw", help="withdraw a centre's live entries (of a claim or a candidate)", parents=[common]
    )
    withdraw.add_argument("--centre", type=centre_number, required=True, help=CENTRE_HELP)
    which = withdraw.add_mutually_exclusive_group(required=True)
    which.add_argument("--claim", metavar="CLAIM", help="every live entry of this claim number (e.g. C0000042K)")
    which.add_argument(
        "--candidate", metavar="UCI_OR_NUMBER", help="every live entry of this candidate (UCI or candidate number)"
    )
    withdraw.add_argument("--entry-code", metavar="CODE", help="only the entries of this entry code")
    withdraw.add_argument(
        "--on", type=iso_date, help="withdrawal date (YYYY-MM-DD), which decides the credit (default: today)"
    )
    withdraw.add_argument("--reason", metavar="TEXT", help="why (kept with the withdrawal, shown to no centre)")
    withdraw.add_argument("--dry-run", action="store_true", help="say what would be withdrawn; change nothing")
    withdraw.add_argument("--json", action="store_true", help="print JSON")
    withdraw.set_defaults(handler=cmd_withdraw)


# In the order `entries --help` lists them.
COMMANDS: tuple[Callable[[Commands, argparse.ArgumentParser], None], ...] = (
    add_reference,
    add_qualifications,
    add_template,
    add_ingest,
    add_results,
    add_invoice,
    add_invoices,
    add_nightly,
    add_onboard,
    add_restore,
    add_serve,
    add_users,
    add_web,
    add_list,
    add_history,
    add_review,
    add_withdraw,
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; each leaf sets `handler`."""
    parser = _Parser(
        prog="entries", description="Cambridge Technicals entries: check, price and record centres' entry spreadsheets."
    )
    _global_options(parser, None)
    # Every subcommand accepts the global options too (`entries ingest --db X`); SUPPRESS keeps a
    # subcommand's unset option from overwriting one given before the command.
    common = _Parser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for add in COMMANDS:
        add(commands, common)
    return parser
