"""What the store knows of a file's candidates, read for `entries.checks.candidates.decide`.

Every query reads the uploading centre's candidates only, except one that asks whether a UCI is
on record at another centre (yes or no: nothing of that record is read)."""

from __future__ import annotations

import pandas as pd

from entries.checks.candidates import PROBABLE_DUPLICATE, SAME_PERSON, Found, Matches, decide
from entries.store.database import Connection

# The centre's stored candidates, read first and on their own: the filter alone lets DuckDB use the
# centre index (candidates_by_centre); written inside the join, the join's own runtime filters make
# it read the whole table instead, which grows with every file stored.
_AT_CENTRE = """WITH at_centre AS MATERIALIZED (
    SELECT candidate_id, candidate_number, uci, surname, forenames, date_of_birth
    FROM candidates WHERE centre_number = ?)"""


def _name(alias: str) -> str:
    return f"lower({alias}.surname || ' ' || {alias}.forenames)"


def match_candidates(con: Connection, centre: str, rows: pd.DataFrame) -> Matches:
    """Match the file's candidates (normalised rows) against the candidates stored for `centre`."""
    people = rows.drop_duplicates("candidate_number")[
        ["candidate_number", "uci", "uln", "surname", "forenames", "date_of_birth"]
    ]
    con.register("file_people", people)
    try:
        by_uci = con.execute(
            f"""{_AT_CENTRE}
                SELECT f.candidate_number, c.candidate_id,
                       coalesce(c.date_of_birth = CAST(f.date_of_birth AS DATE), false) AS same_dob
                FROM file_people f JOIN at_centre c ON c.uci = f.uci""",
            [centre],
        ).df()
        elsewhere = con.execute(
            """SELECT DISTINCT f.candidate_number FROM file_people f
               WHERE f.uci IS NOT NULL
                 AND EXISTS (SELECT 1 FROM candidates c WHERE c.uci = f.uci AND c.centre_number <> ?)
                 AND NOT EXISTS (SELECT 1 FROM candidates c WHERE c.uci = f.uci AND c.centre_number = ?)""",
            [centre, centre],
        ).df()
        by_number = con.execute(
            f"""{_AT_CENTRE}
                SELECT f.candidate_number, c.candidate_id,
                      coalesce(c.date_of_birth = CAST(f.date_of_birth AS DATE)
                       AND jaro_winkler_similarity({_name("c")}, {_name("f")}) >= {SAME_PERSON}
                       AND (c.uci IS NULL OR f.uci IS NULL OR c.uci = f.uci), false) AS same_person
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
    return decide(people["candidate_number"], Found(by_uci, by_number, lookalike, elsewhere))
