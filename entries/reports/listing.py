"""Read-only views of the store: stored entries, and each centre's entry submission history."""

from __future__ import annotations

from pathlib import Path

import duckdb


def list_entries(
    con: duckdb.DuckDBPyConnection, centre: str | None = None, series: str | None = None, uci: str | None = None
) -> list[dict]:
    """Stored entries (docs/architecture.md §5 `entries list --json`), sorted by centre, candidate, code, unit."""
    where, params = ["TRUE"], []
    for column, value in (("e.centre_number", centre), ("e.series", series), ("c.uci", uci)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    rows = con.execute(
        f"""SELECT e.centre_number, e.candidate_number, c.uci, c.surname, c.forenames, c.date_of_birth, e.entry_code,
                   e.kind, e.unit_number, e.series, e.fee_pence, e.late, e.order_ref, e.candidate_group, e.submission_id,
                   e.entry_id, e.replaced_by
            FROM entries e JOIN candidates c USING (candidate_id)
            WHERE {" AND ".join(where)}
            ORDER BY e.centre_number, e.candidate_number, e.series, e.entry_code, e.unit_key, e.entry_id""",
        params,
    ).fetchall()
    keys = (
        "centre",
        "candidate_number",
        "uci",
        "surname",
        "forenames",
        "date_of_birth",
        "entry_code",
        "kind",
        "unit",
        "series",
        "fee_pence",
        "late",
        "order_ref",
        "candidate_group",
        "submission_id",
        "entry_id",
        "replaced_by",
    )
    out = []
    for row in rows:
        item = dict(zip(keys, row, strict=False))
        item["date_of_birth"] = item["date_of_birth"].isoformat()
        item["replaced"] = item.pop("replaced_by") is not None
        out.append(item)
    return out


def submission_history(
    con: duckdb.DuckDBPyConnection,
    centre: str | None = None,
    qualification: str | None = None,
    group: str | None = None,
    claim: str | None = None,
) -> list[dict]:
    """Each submission (newest first) with its status changes, counts of entries by kind and fees.

    `qualification` keeps submissions with entries leading to that qualification code (counts then
    cover those entries only); `group` likewise for a candidate group; `claim` keeps the one
    submission with that claim number.
    """
    where, params = ["TRUE"], []
    if claim is not None:
        where.append("s.claim_number = ?")
        params.append(claim)
    entry_filter, entry_params = ["TRUE"], []
    if centre is not None:
        where.append("s.centre = ?")
        params.append(centre)
    if qualification is not None:
        entry_filter.append("e.qualification_code = ?")
        entry_params.append(qualification)
    if group is not None:
        entry_filter.append("e.candidate_group = ?")
        entry_params.append(group)
    filtered = qualification is not None or group is not None
    rows = con.execute(
        f"""WITH picked AS (SELECT * FROM entries e WHERE {" AND ".join(entry_filter)}),
                 counts AS (SELECT submission_id, count(*) FILTER (WHERE kind = 'full_award') AS full_award,
                                   count(*) FILTER (WHERE kind = 'unit') AS unit, count(*) FILTER (WHERE kind = 'top_up') AS top_up,
                                   count(*) FILTER (WHERE kind = 'move_down') AS move_down, coalesce(sum(fee_pence), 0) AS fees_pence
                            FROM picked GROUP BY submission_id)
            SELECT s.submission_id, s.centre, s.file_name, s.sha256, s.series, s.order_ref, s.received_on, s.status,
                   s.reason_code, s.rows, s.accepted, s.rejected, s.held,
                   coalesce(k.full_award, 0), coalesce(k.unit, 0), coalesce(k.top_up, 0), coalesce(k.move_down, 0),
                   coalesce(k.fees_pence, 0), s.claim_number
            FROM submissions s LEFT JOIN counts k USING (submission_id)
            WHERE {" AND ".join(where)} {"AND k.submission_id IS NOT NULL" if filtered else ""}
            ORDER BY s.received_on DESC, s.submission_id DESC""",
        [*entry_params, *params],
    ).fetchall()
    changes: dict[int, list[dict]] = {}
    for sid, status, code, at in con.execute(
        "SELECT submission_id, status, reason_code, changed_at FROM submission_status ORDER BY submission_id, seq"
    ).fetchall():
        changes.setdefault(sid, []).append(
            {"status": status, "reason_code": code, "at": at.isoformat(timespec="seconds")}
        )
    out = []
    for r in rows:
        out.append(
            {
                "submission_id": r[0],
                "claim_number": r[18],
                "centre": r[1],
                "file": r[2],
                "sha256": r[3],
                "series": r[4],
                "order_ref": r[5],
                "received_on": r[6].isoformat(),
                "status": r[7],
                "reason_code": r[8],
                "rows": r[9],
                "accepted": r[10],
                "rejected": r[11],
                "held": r[12],
                "entries": {"full_award": r[13], "unit": r[14], "top_up": r[15], "move_down": r[16]},
                "fees_pence": int(r[17]),
                "status_changes": changes.get(r[0], []),
            }
        )
    return out


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

    One row per submission, its status changes in order with their times (as recorded, never now).
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
            s["received_on"],
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
            "; ".join(f"{c['at']} {c['status']}" for c in s["status_changes"]),
        ]
        for s in history
    ]
    folder = Path(out_dir) / "history"
    xlsx = write_xlsx_streamed(
        folder / f"{stem}.xlsx",
        "History",
        [(HISTORY_HEADER, "bold"), *((row, "plain") for row in rows)],
        freeze_header=True,
    )
    csv_path = write_csv_atomically(
        rows,
        [h.lower().replace(" ", "_").replace("(", "").replace(")", "") for h in HISTORY_HEADER],
        folder / f"{stem}.csv",
    )
    return {"xlsx": str(xlsx), "csv": str(csv_path)}
