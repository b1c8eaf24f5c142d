"""The candidates table: new candidates inserted, known ones completed, a few statements a file.

Shared by the commit of an upload and by an onboarding: both add candidates and both let a later
file fill what an earlier one lacked.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from entries.core import clock

COLUMNS = (
    "candidate_id",
    "centre_number",
    "candidate_number",
    "uci",
    "uln",
    "surname",
    "forenames",
    "sex",
    "date_of_birth",
    "candidate_group",
    "submission_id",
)


def draw(con: duckdb.DuckDBPyConnection, sequence: str, n: int) -> list[int]:
    """`n` values of `sequence`, in order, in one statement."""
    if n == 0:
        return []
    return [r[0] for r in con.execute(f"SELECT nextval('{sequence}') AS id FROM range(?) ORDER BY id", [n]).fetchall()]


def run_with(
    con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, sql: str, params: list[object] | None = None
) -> None:
    """Run `sql` with `frame` registered as `name` (one statement, whatever the frame's size)."""
    con.register(name, frame)
    try:
        con.execute(sql, params or [])
    finally:
        con.unregister(name)


def insert_candidates(con: duckdb.DuckDBPyConnection, people: pd.DataFrame, submission_id: int) -> list[int]:
    """Give each row of `people` (the template's person columns) a new candidate id, in row order,
    and insert them all; returns the ids. Call inside the transaction."""
    ids = draw(con, "candidate_ids", len(people))
    if ids:
        run_with(
            con,
            "new_candidates",
            people.assign(candidate_id=ids, submission_id=submission_id)[list(COLUMNS)],
            f"""INSERT INTO candidates ({", ".join(COLUMNS)}, added_on)
                SELECT {", ".join(c if c != "date_of_birth" else "CAST(date_of_birth AS DATE)" for c in COLUMNS)},
                       ?::DATE FROM new_candidates""",
            [clock.today()],
        )
    return ids


def complete_candidates(con: duckdb.DuckDBPyConnection, known: pd.DataFrame) -> None:
    """For candidates on record (`candidate_id`, `uci`, `uln`, `candidate_group`): fill a missing UCI
    or ULN and take a new, non-blank candidate group. Call inside the transaction."""
    if len(known):
        run_with(
            con,
            "known_candidates",
            known[["candidate_id", "uci", "uln", "candidate_group"]].astype({"candidate_id": "int64"}),
            """UPDATE candidates SET uci = coalesce(candidates.uci, k.uci), uln = coalesce(candidates.uln, k.uln),
                      candidate_group = CASE WHEN k.candidate_group <> '' THEN k.candidate_group
                                             ELSE candidates.candidate_group END
               FROM known_candidates k WHERE candidates.candidate_id = k.candidate_id""",
        )
