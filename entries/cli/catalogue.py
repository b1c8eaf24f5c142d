"""Commands about what centres can enter: `entries qualifications search` and `entries template`
(the entries template workbook, optionally offering one centre's approved entry codes only).

Each `cmd_*` takes the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import json

from entries.cli.opening import known_centre, open_store
from entries.core.errors import UsageError


def cmd_qualifications_search(args: argparse.Namespace) -> int:
    from entries.store import qualifications

    con = open_store(args)
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


def cmd_template(args: argparse.Namespace) -> int:
    from entries.reports.template import write_template

    con = open_store(args)
    if args.path.suffix.lower() != ".xlsx":
        raise UsageError(f"the template is an .xlsx workbook; give a path ending .xlsx, not {args.path.name}")
    args.path.parent.mkdir(parents=True, exist_ok=True)
    written = write_template(args.path, con, args.centre)
    print(f"Entries template written to {written}" + (f" for centre {args.centre}" if args.centre else ""))
    return 0
