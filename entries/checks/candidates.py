"""Candidate matching: select existing candidates rather than create new ones, as the guide asks.

Each candidate of a file (one per candidate number) is matched by UCI, else by centre and
candidate number; a new candidate whose name and date of birth closely match one already at the
centre is held for review instead of becoming a second record. Read-only: the commit stage writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

SAME_PERSON = 0.85  # Jaro-Winkler of "surname forenames": same record, allowing a typo or a nickname
PROBABLE_DUPLICATE = 0.92  # a different candidate number but this close, with the same date of birth


@dataclass
class Matches:
    """Per candidate number in the file: `cand_key` (a stored candidate_id, or negative for a new
    candidate), `hold` (a CAND_ code or None) and `match_id` (the stored candidate it resembles)."""

    table: pd.DataFrame

    def key_of(self) -> dict[str, int]:
        return dict(zip(self.table["candidate_number"], self.table["cand_key"], strict=False))


# The centre's stored candidates, read first and on their own: the filter alone lets DuckDB use the
# centre index (candidates_by_centre); written inside the join, the join's own runtime filters make
# it read the whole table instead, which grows with every file stored.
_AT_CENTRE = """WITH at_centre AS MATERIALIZED (
    SELECT candidate_id, candidate_number, uci, surname, forenames, date_of_birth
    FROM candidates WHERE centre_number = ?)"""


def _name(alias: str) -> str:
    return f"lower({alias}.surname || ' ' || {alias}.forenames)"


def match_candidates(con: duckdb.DuckDBPyConnection, centre: str, rows: pd.DataFrame) -> Matches:
    """Match the file's candidates (normalised rows) against the stored candidates."""
    people = rows.drop_duplicates("candidate_number")[
        ["candidate_number", "uci", "uln", "surname", "forenames", "date_of_birth"]
    ]
    con.register("file_people", people)
    try:
        by_uci = con.execute(
            """SELECT f.candidate_number, c.candidate_id, c.date_of_birth = CAST(f.date_of_birth AS DATE) AS same_dob
               FROM file_people f JOIN candidates c ON c.uci = f.uci"""
        ).df()
        by_number = con.execute(
            f"""{_AT_CENTRE}
                SELECT f.candidate_number, c.candidate_id,
                      (c.date_of_birth = CAST(f.date_of_birth AS DATE)
                       AND jaro_winkler_similarity({_name("c")}, {_name("f")}) >= {SAME_PERSON}
                       AND (c.uci IS NULL OR f.uci IS NULL OR c.uci = f.uci)) AS same_person
                FROM file_people f JOIN at_centre c ON c.candidate_number = f.candidate_number""",
            [centre],
        ).df()
        lookalike = con.execute(
            f"""{_AT_CENTRE}
                SELECT f.candidate_number, c.candidate_id, c.candidate_number AS their_number
                FROM file_people f JOIN at_centre c
                  ON c.date_of_birth = CAST(f.date_of_birth AS DATE)
                 AND c.candidate_number <> f.candidate_number
                WHERE jaro_winkler_similarity({_name("c")}, {_name("f")}) >= {PROBABLE_DUPLICATE}
                QUALIFY row_number() OVER (PARTITION BY f.candidate_number
                                           ORDER BY jaro_winkler_similarity({_name("c")}, {_name("f")}) DESC, c.candidate_id) = 1""",
            [centre],
        ).df()
    finally:
        con.unregister("file_people")
    uci_hit = {n: (int(cid), bool(same)) for n, cid, same in by_uci.itertuples(index=False)}
    number_hit = {n: (int(cid), bool(same)) for n, cid, same in by_number.itertuples(index=False)}
    looks = {n: (int(cid), their) for n, cid, their in lookalike.itertuples(index=False)}
    records = []
    new_key = 0
    for number in people["candidate_number"]:
        hold, match_id, key, params = None, None, None, {}
        if number in uci_hit:
            match_id, same = uci_hit[number]
            key, hold = (match_id, None) if same else (None, "CAND_02")
        elif number in number_hit:
            match_id, same = number_hit[number]
            key, hold = (match_id, None) if same else (None, "CAND_03")
            params = {"candidate": number}
        elif number in looks:
            match_id, their = looks[number]
            hold, params = "CAND_01", {"candidate": their}
        if key is None and hold is None:
            new_key -= 1
            key = new_key
        records.append(
            {"candidate_number": number, "cand_key": key, "hold": hold, "match_id": match_id, "params": params}
        )
    return Matches(
        pd.DataFrame.from_records(records, columns=["candidate_number", "cand_key", "hold", "match_id", "params"])
    )
