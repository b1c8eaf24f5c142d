"""Finding a centre's candidates for the web entry form: by name, number or UCI, by when they were
added, by candidate group (the MIS's, or one the centre made in the portal). Set-based: one query
per search, always limited to one centre."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from entries.core import clock
from entries.core.errors import UsageError
from entries.store import database

# "Added" within these (the guide's search restrictions), in days before today.
ADDED_WITHIN = {"today": 0, "week": 7, "month": 31, "year": 366, "five_years": 5 * 366}
MAX_FOUND = 200


@dataclass(frozen=True)
class Candidate:
    candidate_id: int
    candidate_number: str
    uci: str | None
    uln: str | None
    surname: str
    forenames: str
    sex: str
    date_of_birth: dt.date
    candidate_group: str


_COLUMNS = "c.candidate_id, c.candidate_number, c.uci, c.uln, c.surname, c.forenames, c.sex, c.date_of_birth, c.candidate_group"


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[Candidate]:
    return [Candidate(*row) for row in con.execute(sql, params).fetchall()]


def search(
    con: duckdb.DuckDBPyConnection, centre: str, text: str = "", added_within: str | None = None
) -> list[Candidate]:
    """The centre's candidates whose surname, forenames, candidate number or UCI contain `text`
    (any case), first recorded within `added_within` (today, week, month, year, five_years)."""
    where = ["c.centre_number = ?"]
    params: list[object] = [centre]
    words = [w for w in text.strip().split() if w][:5]
    for word in words:
        where.append("(c.surname ILIKE ? OR c.forenames ILIKE ? OR c.candidate_number = ? OR c.uci ILIKE ?)")
        like = f"%{word}%"
        params += [like, like, word.zfill(4) if word.isdigit() else word, like]
    if added_within:
        if added_within not in ADDED_WITHIN:
            raise UsageError(f"added within must be one of {', '.join(ADDED_WITHIN)}")
        where.append("c.added_on >= ?")
        params.append(clock.today() - dt.timedelta(days=ADDED_WITHIN[added_within]))
    return _rows(
        con,
        f"""SELECT {_COLUMNS} FROM candidates c
            WHERE {" AND ".join(where)} ORDER BY c.surname, c.forenames, c.candidate_number LIMIT {MAX_FOUND}""",
        params,
    )


def by_ids(con: duckdb.DuckDBPyConnection, centre: str, ids: list[int]) -> list[Candidate]:
    """These candidates, only where they are the centre's (another centre's ids are ignored)."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return _rows(
        con,
        f"SELECT {_COLUMNS} FROM candidates c WHERE c.centre_number = ? AND c.candidate_id IN ({marks}) "
        "ORDER BY c.candidate_number",
        [centre, *ids],
    )


def groups(con: duckdb.DuckDBPyConnection, centre: str) -> list[tuple[str, int]]:
    """(group, candidates) of the centre: its MIS groups and the ones it made here."""
    return [
        (g, int(n))
        for g, n in con.execute(
            """SELECT g, count(DISTINCT id) FROM (
                   SELECT candidate_group AS g, candidate_id AS id FROM candidates
                   WHERE centre_number = ? AND candidate_group <> ''
                   UNION ALL SELECT name, candidate_id FROM portal_groups WHERE centre = ?)
               GROUP BY g ORDER BY g""",
            [centre, centre],
        ).fetchall()
    ]


def in_group(con: duckdb.DuckDBPyConnection, centre: str, group: str) -> list[Candidate]:
    return _rows(
        con,
        f"""SELECT {_COLUMNS} FROM candidates c WHERE c.centre_number = ? AND (c.candidate_group = ?
               OR c.candidate_id IN (SELECT candidate_id FROM portal_groups WHERE centre = ? AND name = ?))
            ORDER BY c.candidate_number""",
        [centre, group, centre, group],
    )


def make_group(con: duckdb.DuckDBPyConnection, centre: str, name: str, ids: list[int]) -> int:
    """A bespoke group `name` of these candidates (the centre's own only); returns how many joined."""
    name = name.strip()
    if not name or len(name) > 40:
        raise UsageError("a group name is 1 to 40 characters")
    mine = [c.candidate_id for c in by_ids(con, centre, ids)]
    if mine:
        now = clock.now()
        values = [v for cid in mine for v in (centre, name, cid, now)]
        with database.transaction(con):  # one statement for the whole group
            con.execute(f"INSERT OR IGNORE INTO portal_groups VALUES {', '.join('(?, ?, ?, ?)' for _ in mine)}", values)
    return len(mine)
