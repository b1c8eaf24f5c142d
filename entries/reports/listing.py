"""Read-only views of the store (queried by `entries.store.listing`): stored entries, and each centre's entry
submission history, as JSON and as the history report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from entries.store import listing
from entries.store.database import Connection


def list_entries(
    con: Connection, centre: str | None = None, series: str | None = None, uci: str | None = None
) -> list[dict]:
    """Stored entries (docs/architecture.md §5 `entries list --json`), sorted by centre, candidate, code, unit."""
    out = []
    for item in listing.stored_entries(con, centre, series, uci):
        item["date_of_birth"] = item["date_of_birth"].isoformat()
        item["replaced"] = item.pop("replaced_by") is not None
        out.append(item)
    return out


def submission_history(
    con: Connection,
    centre: str | None = None,
    qualification: str | None = None,
    group: str | None = None,
    claim: str | None = None,
    *,
    search: str | None = None,
    group_search: str | None = None,
) -> list[dict]:
    """Each submission (newest first) with its status changes, counts of entries by kind and fees
    (as entered), and how many of those entries were withdrawn since with the credit that earned.

    `qualification` keeps submissions with entries leading to that qualification code (counts then
    cover those entries only); `group` likewise for a candidate group; `claim` keeps the one
    submission with that claim number; `search` and `group_search` are the portal's searches
    (`entries.store.listing.submission_counts`).
    """
    rows = listing.submission_counts(con, centre, qualification, group, claim, search=search, group_search=group_search)
    changes = listing.status_changes(con, [s.submission_id for s in rows])
    return [
        {
            "submission_id": s.submission_id,
            "claim_number": s.claim_number,
            "centre": s.centre,
            "file": s.file_name,
            "sha256": s.sha256,
            "series": s.series,
            "order_ref": s.order_ref,
            "received_on": s.received_on.isoformat(),
            "status": s.status,
            "reason_code": s.reason_code,
            "rows": s.rows,
            "accepted": s.accepted,
            "rejected": s.rejected,
            "held": s.held,
            "entries": {"full_award": s.full_award, "unit": s.unit, "top_up": s.top_up, "move_down": s.move_down},
            "fees_pence": int(s.fees_pence),
            "withdrawn": int(s.withdrawn),
            "credit_pence": int(s.credit_pence),
            "status_changes": [
                {"status": c.status, "reason_code": c.reason_code, "at": c.changed_at.isoformat(timespec="seconds")}
                for c in changes.get(s.submission_id, [])
            ],
        }
        for s in rows
    ]


HISTORY_HEADER = (
    "Submission",
    "Claim number",
    "Centre",
    "File",
    "Received on",
    "Series",
    "Order",
    "Status",
    "Reason",
    "Rows",
    "Accepted",
    "Rejected",
    "Held",
    "Full award",
    "Unit",
    "Top-up",
    "Moving down",
    "Fees (pence)",
    "Withdrawn",
    "Credit (pence)",
    "Status changes",
)


def write_history(
    history: list[dict],
    out_dir: Path,
    centre: str | None = None,
    qualification: str | None = None,
    group: str | None = None,
    claim: str | None = None,
) -> dict[str, str]:
    """The entry submission history report (xlsx and csv) under out_dir/history/; returns both paths.

    One row per submission, its statuses in the order they were reached. Not their times: those are
    the machine's clock, so the same submissions would give other bytes on another night (the times
    are in `entries history --json`). In the xlsx the received date is a date cell and the counts
    and pence are integers (the CSV writes the date as YYYY-MM-DD); it prints on A4, one page wide,
    the column headings repeated on every page.
    """
    from entries.reports.files import safe_file_part, write_csv_atomically, write_xlsx_streamed

    parts = [f"centre_{centre}" if centre else "all"]
    parts += [f"qualification_{safe_file_part(qualification)}"] if qualification else []
    parts += [f"group_{safe_file_part(group)}"] if group else []
    parts += [f"claim_{claim}"] if claim else []
    stem = "history_" + "_".join(parts)
    rows = [
        [
            s["submission_id"],
            s["claim_number"] or "",
            s["centre"],
            s["file"],
            dt.date.fromisoformat(s["received_on"]),
            s["series"] or "",
            s["order_ref"] or "",
            s["status"],
            s["reason_code"] or "",
            s["rows"],
            s["accepted"],
            s["rejected"],
            s["held"],
            s["entries"]["full_award"],
            s["entries"]["unit"],
            s["entries"]["top_up"],
            s["entries"]["move_down"],
            s["fees_pence"],
            s["withdrawn"],
            s["credit_pence"],
            "; ".join(c["status"] for c in s["status_changes"]),
        ]
        for s in history
    ]
    folder = Path(out_dir) / "history"
    # Every printed page's footer names which history it is (the file name's filters).
    reference = "Entry submission history: " + ", ".join(p.replace("_", " ", 1) for p in parts)
    xlsx = write_xlsx_streamed(
        folder / f"{stem}.xlsx",
        "Submissions",  # not "History": Excel keeps that name for itself
        [(HISTORY_HEADER, "header"), *((row, "plain") for row in rows)],
        freeze_header=True,
        reference=reference,
    )
    csv_path = write_csv_atomically(
        rows,
        [h.lower().replace(" ", "_").replace("(", "").replace(")", "") for h in HISTORY_HEADER],
        folder / f"{stem}.csv",
    )
    return {"xlsx": str(xlsx), "csv": str(csv_path)}
