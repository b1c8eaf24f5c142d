"""What `entries ingest` and `entries nightly` print for a person: one upload's outcome, and a
nightly run's closing summary. Both write to stdout; neither prints a candidate's personal data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from entries.checks.upload import Outcome


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
