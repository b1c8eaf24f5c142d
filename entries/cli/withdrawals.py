"""`entries withdraw`: withdraw a centre's live entries (of a claim, or of a candidate, optionally of
one entry code) and say the credit each earns (DESIGN §10).

`cmd_withdraw` takes the parsed arguments and returns the exit code: 0 when entries were withdrawn
(or, with --dry-run, would be), 1 when nothing matched or a live top-up or moving-down entry rests on
one of them (one line on stderr; nothing changed). The store's `withdrawals.withdraw` does the work,
as it does for the portal.
"""

from __future__ import annotations

import argparse
import getpass
import json

from entries.cli.opening import known_centre, open_store
from entries.core import clock
from entries.core.errors import UsageError


def _operator() -> str:
    """Who a withdrawal from the command line is recorded as: "operator" and the OS user."""
    try:
        return f"operator {getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container): say so, never guess one
        return "operator (unknown OS user)"


def _candidate(text: str) -> tuple[str | None, str | None]:
    """(UCI, candidate number) as `text` names one of them: a UCI (13 characters) or a candidate
    number (4 digits)."""
    from entries.intake.uci import uci_problem

    value = text.strip().upper()
    if len(value) == 4 and value.isdigit():
        return None, value
    if len(value) == 13 and uci_problem(value) is None:
        return value, None
    raise UsageError(f"--candidate must be a UCI (13 characters) or a candidate number (4 digits), got {text!r}")


def cmd_withdraw(args: argparse.Namespace) -> int:
    from entries.core.claims import parse_claim_number
    from entries.store.withdrawals import Selection, withdraw

    claim = uci = number = None
    if args.claim is not None:
        claim = parse_claim_number(args.claim)
        if claim is None:
            raise UsageError(
                f"{args.claim!r} is not a claim number (C, seven digits and a check letter, e.g. C0000042K)"
            )
    else:
        uci, number = _candidate(args.candidate)
    code = args.entry_code.strip().upper() if args.entry_code else None
    con = open_store(args)
    selection = Selection(
        centre=known_centre(con, args.centre), claim=claim, uci=uci, candidate_number=number, entry_code=code
    )
    on = args.on or clock.today()
    done = withdraw(con, selection, on=on, by_whom=_operator(), reason=args.reason, dry_run=args.dry_run)
    total = sum(w.credit_pence for w in done)
    if args.json:
        out: dict[str, object] = {
            "withdrawn": [
                {
                    "entry_id": w.entry_id,
                    "claim_number": w.claim_number,
                    "candidate_number": w.candidate_number,
                    "entry_code": w.entry_code,
                    "series": w.series,
                    "fee_pence": w.fee_pence,
                    "credit_pence": w.credit_pence,
                }
                for w in done
            ],
            "total_credit_pence": total,
            "withdrawn_on": on.isoformat(),
        }
        if args.dry_run:
            out["dry_run"] = True
        print(json.dumps(out, indent=2))
        return 0
    for w in done:
        print(
            f"entry {w.entry_id} claim {w.claim_number or '-'} candidate {w.candidate_number} {w.series} "
            f"{w.entry_code}: fee £{w.fee_pence / 100:.2f}, credit £{w.credit_pence / 100:.2f}"
        )
    verb = "would be withdrawn (dry run: nothing changed)" if args.dry_run else "withdrawn"
    print(f"{len(done)} entr{'y' if len(done) == 1 else 'ies'} {verb} on {on.isoformat()}; credit £{total / 100:.2f}")
    return 0
