"""The commit stage (docs/architecture.md §2): the one writer.

For an upload that passed its checks: match candidates, classify and price against history, and
store the submission, its status changes, new candidates, entries, replacements and held rows in
ONE explicit transaction keyed by the file's SHA-256, so a file is stored wholly or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from entries.checks.candidates import Matches
from entries.checks.classify import Classified, History, classify
from entries.checks.reference import Reference
from entries.checks.upload import Outcome, Prepared
from entries.core import clock
from entries.core.rules import Issue, issue
from entries.core.status import Status, status_for_refusal
from entries.intake.headers import TEMPLATE_COLUMNS, UNIT_COLUMNS
from entries.store import database
from entries.store.candidates import complete_candidates, draw, insert_candidates, run_with
from entries.store.database import Connection
from entries.store.matching import match_candidates
from entries.store.submissions import NewSubmission, accepted_submission, change_status, claim_of, record
from entries.store.withdrawals import LIVE

KINDS = ("full_award", "unit", "top_up", "move_down")
# The cells an entry is classified from: a row with an error in one of them is not classified.
_CLASSIFY_INPUTS = frozenset({"Centre Number", "Candidate Number", "Entry Code", "Series", *UNIT_COLUMNS})


def load_history(con: Connection, candidate_ids: list[int]) -> History:
    """Live entries and achieved units stored for these candidates (keyed by candidate_id).

    A withdrawn entry is not history: it is no duplicate, holds no top-up and counts no attempt;
    an entry whose replacement (a top-up, a moving down) was withdrawn is live again."""
    if not candidate_ids:
        return History()
    ids = pd.DataFrame({"cand_key": candidate_ids})
    con.register("wanted", ids)
    try:
        entries = con.execute(
            f"""SELECT candidate_id AS cand_key, entry_id, entry_code, kind, qualification_code, suite_id,
                      CAST(unit_number AS BIGINT) AS unit_number, series,
                      CASE WHEN replaced_by IN (SELECT entry_id FROM withdrawals) THEN NULL ELSE replaced_by END
                        AS replaced_by
               FROM entries e WHERE candidate_id IN (SELECT cand_key FROM wanted) AND {LIVE}
               ORDER BY candidate_id, entry_id"""
        ).df()
        achieved = con.execute(
            """SELECT DISTINCT c.candidate_id AS cand_key, q.suite_id, CAST(r.unit_number AS BIGINT) AS unit_number
               FROM unit_results r JOIN candidates c ON c.uci = r.uci
               JOIN ref_qualifications q ON q.qualification_code = r.qualification_code
               WHERE r.result <> 'U' AND c.candidate_id IN (SELECT cand_key FROM wanted)"""
        ).df()
    finally:
        con.unregister("wanted")
    entries["unit_number"] = entries["unit_number"].astype("Int64")
    return History(entries=entries, achieved=achieved)


def _outcome(
    prepared: Prepared,
    status: Status,
    reason: str | None,
    issues: list[Issue],
    counts: dict,
    submission_id: int | None,
    order_ref: str | None,
    entries: pd.DataFrame | None = None,
    claim: str | None = None,
    duplicate_of: int | None = None,
) -> Outcome:
    ctx = prepared.context
    by_kind = {k: 0 for k in KINDS}
    fees = 0
    by_series: list[dict] = []
    if entries is not None and not entries.empty:
        for kind, n in entries["kind"].value_counts().items():
            by_kind[str(kind)] = int(n)
        fees = int(entries["fee_pence"].sum())
        by_series = series_totals(entries)
    return Outcome(
        file=prepared.path.name,
        sha256=prepared.sha256,
        centre=ctx.centre,
        series=ctx.series,
        order_ref=order_ref,
        status=status,
        reason=reason,
        rows=counts["rows"],
        accepted=counts["accepted"],
        rejected=counts["rejected"],
        held=counts["held"],
        submission_id=submission_id,
        issues=issues,
        entries=by_kind,
        fees_pence=fees,
        series_source=ctx.series_source,
        by_series=by_series,
        claim_number=claim,
        received_on=ctx.received_on,
        duplicate_of=duplicate_of,
    )


def _on_rows(prepared: Prepared, issues: list[Issue]) -> bool:
    """True when the file's rows were read and every error is on one of them (so each can be
    corrected where it is): a file-wide error (a missing column, say) is not amended cell by cell."""
    return (
        prepared.rows is not None
        and prepared.entries is not None
        and all(i.row is not None for i in issues if i.severity == "error")
    )


def _dry(outcome: Outcome, issues: list[Issue], classified: Classified | None = None) -> Outcome:
    """Mark `outcome` as a dry run and count what would change: entries new to the record, entries
    already on it (DUP_01, not stored again) and entries that would replace one on record (a
    top-up or moving down)."""
    replaces = 0 if classified is None else int(classified.entries["replaces"].notna().sum())
    stored = 0 if classified is None else len(classified.entries)
    outcome.dry_run = True
    outcome.preview = None if classified is None else classified.entries
    outcome.changes = {
        "new": stored - replaces,
        "already_entered": sum(1 for i in issues if i.code == "DUP_01"),
        "replaces": replaces,
    }
    return outcome


def series_totals(entries: pd.DataFrame) -> list[dict]:
    """Per series and fee (standard or late): entries and their fees, in series order."""
    grouped = entries.groupby(["series", "late"], sort=True)["fee_pence"].agg(["size", "sum"])
    return [
        {"series": str(series), "late": bool(late), "entries": int(n), "fees_pence": int(total)}
        for (series, late), n, total in zip(grouped.index, grouped["size"], grouped["sum"], strict=True)
    ]


def _reason(status: Status, code: str | None, issues: list[Issue]) -> str | None:
    if code is None:
        return None
    errors = sum(1 for i in issues if i.severity == "error")
    first = next((i for i in issues if i.code == code), None)
    text = first.message if first else code
    return f"{errors} errors; the first: {text}" if status == Status.READ_AND_REJECTED and errors > 1 else text


def _new_submission(prepared: Prepared, order_ref: str | None) -> NewSubmission:
    ctx = prepared.context
    return NewSubmission(
        sha256=prepared.sha256,
        file_name=prepared.path.name,
        centre=ctx.centre,
        received_on=ctx.received_on,
        series=ctx.series,
        series_source=ctx.series_source,
        order_ref=order_ref,
        file_format=prepared.file_format,
        encoding=prepared.encoding,
    )


def sorted_issues(issues: list[Issue]) -> list[Issue]:
    """Issues in the order a centre reads them: file-level first, then by row, column and code."""
    return sorted(issues, key=lambda i: (i.row if i.row is not None else -1, i.column or "", i.code))


def commit(
    con: Connection,
    prepared: Prepared,
    reference: Reference,
    *,
    order_ref: str | None,
    on_commit: Callable[[Connection, int], None] | None = None,
    dry_run: bool = False,
    amendable: bool = False,
) -> Outcome:
    """Decide the upload's status and store it; everything for the file in one transaction.

    With `amendable` (the portal, where a centre corrects its rows on screen), a file whose every
    error is on one of its rows is not recorded: the outcome is `Read and rejected` with no
    submission id and `to_amend` set, for the door to offer the rows back to correct.

    `on_commit(con, submission_id)` runs inside that transaction (the nightly run journals its
    claim there, so a file's submission and its claim are written together or not at all).
    With `dry_run`, everything is decided (matched, classified, priced) and nothing is written:
    the outcome has no submission id, and its `changes` say what would be new, already entered
    or replaced."""
    rows = prepared.rows
    n_rows = 0 if rows is None else len(rows)
    distinct = None if rows is None else rows.drop_duplicates(subset=list(TEMPLATE_COLUMNS))
    error_rows = {i.row for i in prepared.issues if i.severity == "error" and i.row is not None}
    counts = {
        "rows": n_rows,
        "accepted": 0,
        "rejected": 0 if distinct is None else int(distinct["row"].isin(error_rows).sum()),
        "held": 0,
    }
    new = _new_submission(prepared, order_ref)

    def refuse(status: Status, code: str | None, issues: list[Issue], duplicate_of: int | None = None) -> Outcome:
        reason = _reason(status, code, issues)
        if dry_run:
            return _dry(_outcome(prepared, status, reason, issues, counts, None, order_ref), issues)
        if amendable and status == Status.READ_AND_REJECTED and _on_rows(prepared, issues):
            decided = _outcome(prepared, status, reason, issues, counts, None, order_ref)
            decided.to_amend = True
            return decided
        with database.transaction(con):
            sid = record(
                con,
                new,
                status,
                reason_code=code,
                reason=reason,
                counts=counts,
                issues=issues,
                duplicate_of=duplicate_of,
            )
            if on_commit is not None:
                on_commit(con, sid)
        return _outcome(prepared, status, reason, issues, counts, sid, order_ref, duplicate_of=duplicate_of)

    if prepared.refusal is not None:
        return refuse(status_for_refusal(prepared.refusal), prepared.refusal, list(prepared.issues))
    file_errors = any(i.severity == "error" and i.row is None for i in prepared.issues)
    if prepared.entries is None or file_errors:
        return refuse(
            Status.READ_AND_REJECTED,
            next(i.code for i in prepared.issues if i.severity == "error"),
            list(prepared.issues),
        )
    if not prepared.has_errors:
        earlier = accepted_submission(con, prepared.sha256)
        if earlier is not None:
            told = issue("FILE_22", submission=earlier.label, received=earlier.received_on.isoformat())
            return refuse(Status.DUPLICATE_FILE, "FILE_22", [told, *prepared.issues], earlier.submission_id)

    # One pass: the rows are matched and classified even when some have errors, so every problem
    # of the file is reported at once (a bad UCI and a top-up without its full award alike). A row
    # whose entry is unreadable (its entry code, candidate number, units or series) cannot be
    # classified: its own errors say why.
    norm = prepared.entries
    unclassifiable = {
        i.row for i in prepared.issues if i.severity == "error" and i.column in _CLASSIFY_INPUTS and i.row is not None
    }
    matches = match_candidates(con, prepared.context.centre, norm)
    held_numbers = set(matches.table.loc[matches.table["hold"].notna(), "candidate_number"])
    to_classify = norm[~norm["candidate_number"].isin(held_numbers) & ~norm["row"].isin(unclassifiable)].copy()
    to_classify["cand_key"] = to_classify["candidate_number"].map(matches.key_of()).astype("int64")
    stored_ids = sorted({int(k) for k in to_classify["cand_key"] if k > 0})
    classified = classify(to_classify, prepared.context, reference, load_history(con, stored_ids))
    if prepared.has_errors or classified.has_errors:
        # Nothing is stored, so nothing is held: the hold warnings come when the file is accepted.
        issues = sorted_issues([*prepared.issues, *classified.issues])
        counts["rejected"] = len({i.row for i in issues if i.severity == "error" and i.row is not None})
        return refuse(Status.READ_AND_REJECTED, next(i.code for i in issues if i.severity == "error"), issues)
    issues = sorted_issues([*prepared.issues, *_hold_issues(norm, matches), *classified.issues])
    held_rows = int(norm["candidate_number"].isin(held_numbers).sum())
    if classified.entries.empty and not held_rows:
        return refuse(Status.DUPLICATE_FILE, "DUP_02", [issue("DUP_02"), *issues])

    counts["held"] = held_rows
    counts["accepted"] = len(norm) - held_rows
    final = Status.OCR_HANDLING_THIS if held_rows else Status.PROCESSING_COMPLETE
    reason = f"{held_rows} row(s) held for review" if held_rows else None
    if dry_run:
        return _dry(
            _outcome(prepared, final, reason, issues, counts, None, order_ref, classified.entries), issues, classified
        )
    with database.transaction(con):
        sid = record(con, new, Status.READ_AND_RECOGNISED, counts=counts, issues=issues)
        change_status(con, sid, Status.PROCESSING_IN_PROGRESS)
        store_entries(con, sid, norm, classified, order_ref)
        _store_holds(con, sid, norm, matches)
        change_status(con, sid, final, "CAND_01" if held_rows else None, reason=reason)
        claim = claim_of(con, sid)
        if on_commit is not None:
            on_commit(con, sid)
    return _outcome(prepared, final, reason, issues, counts, sid, order_ref, classified.entries, claim)


def _hold_issues(norm: pd.DataFrame, matches: Matches) -> list[Issue]:
    """One issue per row of each held candidate (rows found by one merge, not a filter per candidate)."""
    held = matches.table.loc[matches.table["hold"].notna(), ["candidate_number", "hold", "params"]]
    rows = held.merge(norm[["candidate_number", "row"]], on="candidate_number", how="inner", sort=False)
    return [
        issue(code, row=int(row), **params)
        for code, row, params in zip(rows["hold"].tolist(), rows["row"].tolist(), rows["params"].tolist(), strict=True)
    ]


def store_entries(
    con: Connection,
    submission_id: int,
    norm: pd.DataFrame,
    classified: Classified,
    order_ref: str | None,
) -> dict[int, int]:
    """Insert new candidates and the classified entries; mark replaced entries. Returns cand_key -> id.

    Set-based: a handful of statements per file whatever its size (frames registered with DuckDB,
    `INSERT ... SELECT` and `UPDATE ... FROM`, sequences drawn in SQL). Call inside the file's
    transaction.
    """
    entries = classified.entries
    if entries.empty:
        return {}
    # One person per candidate key: the first row of their candidate number in the file.
    people = (
        entries[["cand_key", "candidate_number"]]
        .drop_duplicates("cand_key")
        .merge(
            norm.drop(columns=["cand_key"], errors="ignore").drop_duplicates("candidate_number"),
            on="candidate_number",
            how="left",
            sort=False,
        )
    )
    people["cand_key"] = people["cand_key"].astype("int64")
    new = people[people["cand_key"] < 0].sort_values("cand_key", ascending=False)
    known = people[people["cand_key"] > 0]
    keys = {int(k): int(k) for k in known["cand_key"]}
    if len(new):
        ids = insert_candidates(con, new, submission_id)
        keys.update(zip(new["cand_key"].tolist(), ids, strict=True))
    # A later file may carry what an earlier one lacked (a UCI, a ULN) or a new candidate group.
    complete_candidates(con, known.rename(columns={"cand_key": "candidate_id"}))
    table = entries.assign(
        entry_id=draw(con, "entry_ids", len(entries)),
        submission_id=submission_id,
        candidate_id=entries["cand_key"].map(keys).astype("int64"),
        unit_key=entries["unit_number"].fillna(0).astype("int64"),
        order_ref=order_ref,
        created_at=clock.now(),
    )
    run_with(
        con,
        "new_entries",
        table,
        """INSERT INTO entries (entry_id, submission_id, source_row, candidate_id, centre_number, candidate_number, series,
                                entry_code, kind, qualification_code, suite_id, unit_number, unit_key, fee_pence, late,
                                order_ref, candidate_group, replaced_by, created_at)
           SELECT entry_id, submission_id, source_row, candidate_id, centre_number, candidate_number, series, entry_code,
                  kind, qualification_code, suite_id, unit_number, unit_key, fee_pence, late, order_ref, candidate_group,
                  NULL, created_at FROM new_entries""",
    )
    replacing = table.loc[table["replaces"].notna(), ["entry_id", "replaces"]]
    if len(replacing):
        run_with(
            con,
            "replacements",
            replacing.astype("int64"),
            "UPDATE entries SET replaced_by = r.entry_id FROM replacements r WHERE entries.entry_id = r.replaces",
        )
    return keys


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def rows_to_json(rows: pd.DataFrame) -> str:
    """Normalised rows as JSON (dates ISO, nulls null), for a held item."""
    out = rows.copy()
    out["date_of_birth"] = out["date_of_birth"].dt.strftime("%Y-%m-%d")
    records = []
    for rec in out.to_dict("records"):
        records.append(
            {
                k: (
                    None
                    if (v is None or (not isinstance(v, str) and pd.isna(v)))
                    else (int(v) if k.startswith("unit_") or k == "row" else v)
                )
                for k, v in rec.items()
            }
        )
    return json.dumps(records, ensure_ascii=False, sort_keys=True)


def _store_holds(con: Connection, submission_id: int, norm: pd.DataFrame, matches: Matches) -> None:
    """One review item per held candidate, with their rows: grouped once, inserted in one statement."""
    held = matches.table.loc[matches.table["hold"].notna(), ["candidate_number", "hold", "match_id"]]
    if held.empty:
        return
    rows = norm[norm["candidate_number"].isin(held["candidate_number"])]
    grouped = {number: group for number, group in rows.groupby("candidate_number", sort=False)}
    items = held.assign(
        review_id=draw(con, "review_ids", len(held)),
        submission_id=submission_id,
        rows_json=[rows_to_json(grouped[n]) for n in held["candidate_number"]],
        source_rows=[", ".join(str(r) for r in grouped[n]["row"]) for n in held["candidate_number"]],
        match_candidate_id=held["match_id"].astype("Int64"),
    )
    run_with(
        con,
        "held_items",
        items[["review_id", "submission_id", "hold", "rows_json", "source_rows", "match_candidate_id"]],
        """INSERT INTO review_items (review_id, submission_id, reason_code, rows_json, source_rows, match_candidate_id)
           SELECT review_id, submission_id, hold, rows_json, source_rows, match_candidate_id FROM held_items""",
    )
