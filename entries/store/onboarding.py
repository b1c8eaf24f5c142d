"""An onboarding against the store: what is new, what changes, what clashes; then ONE transaction.

Planning is read-only and set-based (joins against the stored rows); `store_onboarding` writes every
change of an onboarding with a few statements per table inside one `database.transaction`.
Onboarded candidates carry `submission_id` 0: an onboarding is an operator's load, not a centre's
upload, so it gets no `submissions` row; 0 is never a real submission id (the sequence starts at 1).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from entries.checks.candidates import SAME_PERSON
from entries.checks.onboarding import Change, OnboardResult, SheetIssue
from entries.core import clock
from entries.core.rules import Issue, issue
from entries.store import database
from entries.store.candidates import complete_candidates, insert_candidates
from schemas.onboarding import ADDRESS_FIELDS, APPROVAL_ROW, CENTRE_ROW

CENTRE_VALUES = ["name", "centre_type", *ADDRESS_FIELDS]
ONBOARDED_SUBMISSION = 0  # candidates.submission_id of an onboarded candidate: no submission row


def plan_candidates(con: duckdb.DuckDBPyConnection, norm: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Issue]]:
    """One row per candidate with `action` (added/updated/unchanged) and `candidate_id`; ONB_10/ONB_12 issues."""
    usable = norm[
        norm["centre_number"].str.fullmatch(r"[0-9]{5}")
        & norm["candidate_number"].str.fullmatch(r"[0-9]{4}")
        & norm["date_of_birth"].notna()
        & (norm["surname"] != "")
    ]
    people = usable.drop_duplicates(["centre_number", "candidate_number"]).reset_index(drop=True)
    name = "lower({0}.surname || ' ' || {0}.forenames)"
    con.register("onboard_people", people)
    try:
        on_record = con.execute(
            f"""SELECT f.centre_number, f.candidate_number, c.candidate_id, c.uci, c.uln, c.candidate_group,
                       (c.date_of_birth = CAST(f.date_of_birth AS DATE)
                        AND jaro_winkler_similarity({name.format("c")}, {name.format("f")}) >= {SAME_PERSON}
                        AND (c.uci IS NULL OR f.uci IS NULL OR c.uci = f.uci)) AS same_person
                FROM onboard_people f JOIN candidates c
                  ON c.centre_number = f.centre_number AND c.candidate_number = f.candidate_number"""
        ).fetchall()
        uci_elsewhere = con.execute(
            """SELECT f.centre_number, f.candidate_number, c.centre_number, c.candidate_number
               FROM onboard_people f JOIN candidates c ON c.uci = f.uci
               WHERE NOT (c.centre_number = f.centre_number AND c.candidate_number = f.candidate_number)
               QUALIFY row_number() OVER (PARTITION BY f.centre_number, f.candidate_number ORDER BY c.candidate_id) = 1"""
        ).fetchall()
    finally:
        con.unregister("onboard_people")
    stored = {(c, n): (cid, uci, uln, group, same) for c, n, cid, uci, uln, group, same in on_record}
    elsewhere = {(c, n): (their_c, their_n) for c, n, their_c, their_n in uci_elsewhere}
    issues: list[Issue] = []
    actions, ids = [], []
    # Every sheet row of each candidate, found once by a group-by (not a filter per candidate).
    rows_of = norm.groupby(["centre_number", "candidate_number"], sort=False)["row"].agg(list).to_dict()
    for rec in people.itertuples(index=False):
        key = (rec.centre_number, rec.candidate_number)
        rows = rows_of.get(key, [])
        action, cid = "added", None
        if key in stored:
            cid, uci, uln, group, same = stored[key]
            if not same:
                issues += [issue("ONB_10", file=file, row=int(r), candidate=key[1], centre=key[0]) for r in rows]
                action = "clash"
            else:
                changes = (
                    (uci is None and not pd.isna(rec.uci))
                    or (uln is None and not pd.isna(rec.uln))
                    or (rec.candidate_group != "" and rec.candidate_group != group)
                )
                action = "updated" if changes else "unchanged"
        if key in elsewhere and action != "clash":
            their_centre, their_number = elsewhere[key]
            issues += [
                issue("ONB_12", file=file, row=int(r), candidate=their_number, centre=their_centre) for r in rows
            ]
            action = "clash"
        actions.append(action)
        ids.append(cid)
    return people.assign(action=actions, candidate_id=pd.Series(ids, dtype="Int64")), issues


def _plan_rows(
    con: duckdb.DuckDBPyConnection,
    sql_onboarded: str,
    sql_published: str,
    frame: pd.DataFrame,
    keys: list[str],
    values: list[str],
) -> list[str]:
    """Per row of `frame`: published | added | updated | unchanged, against the store."""
    onboarded = {tuple(r[: len(keys)]): tuple(r[len(keys) :]) for r in con.execute(sql_onboarded).fetchall()}
    published = {tuple(r) for r in con.execute(sql_published).fetchall()}
    out = []
    for rec in frame[keys + values].itertuples(index=False):
        key, value = tuple(rec[: len(keys)]), tuple(rec[len(keys) :])
        if key in published:
            out.append("published")
        elif key not in onboarded:
            out.append("added")
        else:
            out.append("unchanged" if onboarded[key] == value else "updated")
    return out


def store_onboarding(
    con: duckdb.DuckDBPyConnection,
    result: OnboardResult,
    centres: pd.DataFrame | None,
    approvals: pd.DataFrame | None,
    plan: pd.DataFrame | None,
) -> None:
    """Work out every change against the store, then write them all in ONE transaction."""
    if centres is not None:
        CENTRE_ROW.validate(centres)
        centres = _keep_stored_addresses(con, centres)
        centres = centres.assign(
            action=_plan_rows(
                con,
                "SELECT centre_number, name, centre_type, coalesce(address_line_1, ''), coalesce(address_line_2, ''), "
                "coalesce(town, ''), coalesce(postcode, '') FROM onboarded_centres",
                "SELECT centre_number FROM ref_centres",
                centres,
                ["centre_number"],
                CENTRE_VALUES,
            )
        )
    if approvals is not None:
        APPROVAL_ROW.validate(approvals)
        approvals = approvals.assign(day=approvals["approved_from"].dt.date)
        approvals = approvals.assign(
            action=_plan_rows(
                con,
                "SELECT centre_number, suite_id, approved_from FROM onboarded_approvals",
                "SELECT centre_number, suite_id FROM ref_centre_approvals",
                approvals,
                ["centre_number", "suite_id"],
                ["day"],
            )
        )
    now = clock.now()
    with database.transaction(con):
        if centres is not None:
            _write_changes(con, centres, "onboarded_centres", ["centre_number"], CENTRE_VALUES, now)
        if approvals is not None:
            _write_changes(
                con,
                approvals.assign(approved_from=approvals["day"]),
                "onboarded_approvals",
                ["centre_number", "suite_id"],
                ["approved_from"],
                now,
            )
        if plan is not None:
            _store_candidates(con, plan)
    for sheet, frame, prefix in (("Centres", centres, "centres"), ("Approvals", approvals, "approvals")):
        if frame is None:
            continue
        counts = frame["action"].value_counts()
        for action in ("added", "updated", "unchanged"):
            setattr(result, f"{prefix}_{action}", int(counts.get(action, 0)))
        for rec in frame.itertuples(index=False):
            if rec.action == "published":
                key = (
                    f"Centre {rec.centre_number}"
                    if sheet == "Centres"
                    else f"The approval of centre {rec.centre_number} for {rec.suite_id}"
                )
                result.issues.append(
                    SheetIssue(sheet, issue("ONB_06", file=None, row=int(rec.row), column="Centre Number", key=key))
                )
            if rec.action in ("added", "updated", "unchanged", "published"):
                result.changes.append(
                    Change(
                        sheet,
                        int(rec.row),
                        "not stored (published)" if rec.action == "published" else rec.action,
                        rec.centre_number,
                        suite=getattr(rec, "suite_id", ""),
                    )
                )
    if plan is not None:
        counts = plan["action"].value_counts()
        result.candidates_added, result.candidates_updated, result.candidates_unchanged = (
            int(counts.get(a, 0)) for a in ("added", "updated", "unchanged")
        )
        for rec in plan.itertuples(index=False):
            if rec.action in ("added", "updated", "unchanged"):
                result.changes.append(
                    Change(
                        "Candidates",
                        int(rec.row),
                        rec.action,
                        rec.centre_number,
                        candidate=rec.candidate_number,
                        group=rec.candidate_group,
                    )
                )
        grouped = plan[plan["candidate_group"] != ""].groupby(["centre_number", "candidate_group"]).size()
        groups: dict[str, list[tuple[str, int]]] = {}
        for (centre, group), n in sorted(grouped.items()):
            groups.setdefault(centre, []).append((group, int(n)))
        result.groups = groups


def _keep_stored_addresses(con: duckdb.DuckDBPyConnection, centres: pd.DataFrame) -> pd.DataFrame:
    """A Centres row that gives no address keeps the one on record (an onboarding that only
    changes a name must not wipe the address invoices are sent to)."""
    stored = con.execute(
        "SELECT centre_number, "
        + ", ".join(f"coalesce({f}, '') AS stored_{f}" for f in ADDRESS_FIELDS)
        + " FROM onboarded_centres"
    ).df()
    merged = centres.merge(stored, on="centre_number", how="left")
    blank = (merged[list(ADDRESS_FIELDS)] == "").all(axis=1) & merged[f"stored_{ADDRESS_FIELDS[0]}"].notna()
    for f in ADDRESS_FIELDS:
        merged[f] = merged[f].where(~blank, merged[f"stored_{f}"]).astype("str")
    return merged.drop(columns=[f"stored_{f}" for f in ADDRESS_FIELDS])


def _write_changes(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, table: str, keys: list[str], values: list[str], now: object
) -> None:
    """Insert the rows planned `added` and update those planned `updated`: two statements, whatever
    the number of rows. Call inside the transaction."""
    columns = [*keys, *values]
    changed = frame.loc[frame["action"].isin(["added", "updated"]), [*columns, "action"]]
    if not len(changed):
        return
    con.register("onboard_changes", changed)
    try:
        listed = ", ".join(columns)
        con.execute(
            f"INSERT INTO {table} ({listed}, onboarded_at) SELECT {listed}, ? FROM onboard_changes "
            "WHERE action = 'added'",
            [now],
        )
        assignments = ", ".join(f"{c} = u.{c}" for c in values)
        matched = " AND ".join(f"{table}.{k} = u.{k}" for k in keys)
        con.execute(
            f"UPDATE {table} SET {assignments}, onboarded_at = ? FROM onboard_changes u "
            f"WHERE u.action = 'updated' AND {matched}",
            [now],
        )
    finally:
        con.unregister("onboard_changes")


def _store_candidates(con: duckdb.DuckDBPyConnection, plan: pd.DataFrame) -> None:
    """Insert new candidates, complete and regroup matched ones. Call inside the transaction."""
    new = plan[plan["action"] == "added"]
    insert_candidates(con, new.assign(date_of_birth=new["date_of_birth"].dt.date), ONBOARDED_SUBMISSION)
    # As an upload does: fill a missing UCI or ULN, take a new (non-blank) group.
    complete_candidates(con, plan[plan["action"] == "updated"])
