"""Qualifications, entry codes and units: found by code, title or part of a title (the web form's
"select assessment"), and offered to a centre (the entries template's drop-downs)."""

from __future__ import annotations

import duckdb

# Full awards first, then top-ups, then moving down: the order the template lists a qualification's codes.
_KIND_ORDER = "CASE e.kind WHEN 'full_award' THEN 0 WHEN 'top_up' THEN 1 ELSE 2 END"


def search(con: duckdb.DuckDBPyConnection, text: str = "", centre: str | None = None) -> list[dict]:
    """Qualifications whose code or title contains every word of `text` (case ignored).

    An empty `text` lists them all. With `centre`, only suites the centre is approved for.
    Each result carries its full award code and the top-up and moving-down codes leading to it.
    """
    words = [w.lower() for w in text.split()]
    where = ["TRUE"]
    params: list[object] = []
    for word in words:
        where.append("(strpos(lower(q.title), ?) > 0 OR strpos(q.qualification_code, ?) > 0)")
        params += [word, word]
    if centre is not None:
        where.append("q.suite_id IN (SELECT suite_id FROM all_centre_approvals WHERE centre_number = ?)")
        params.append(centre)
    rows = con.execute(
        f"""
        SELECT q.qualification_code, q.title, q.suite_id, s.title AS suite_title, q.size, q.size_rank, q.glh,
               coalesce(list(e.entry_code ORDER BY e.entry_code) FILTER (WHERE e.kind <> 'full_award'), []) AS other_codes
        FROM ref_qualifications q
        JOIN ref_suites s USING (suite_id)
        LEFT JOIN ref_entry_codes e ON e.qualification_code = q.qualification_code
        WHERE {" AND ".join(where)}
        GROUP BY ALL
        ORDER BY q.suite_id, q.size_rank, q.qualification_code
        """,
        params,
    ).fetchall()
    return [
        {
            "qualification_code": code,
            "title": title,
            "suite_id": suite,
            "suite_title": suite_title,
            "size": size,
            "size_rank": rank,
            "glh": glh,
            "entry_codes": [code, *others],
        }
        for code, title, suite, suite_title, size, rank, glh, others in rows
    ]


def _offered_suites(centre: str | None) -> tuple[str, list[object]]:
    """A subquery of the suites offered to `centre` (those it is approved for; every suite for None)."""
    if centre is None:
        return "SELECT suite_id FROM ref_suites", []
    return "SELECT suite_id FROM all_centre_approvals WHERE centre_number = ?", [centre]


def offered_entry_codes(con: duckdb.DuckDBPyConnection, centre: str | None = None) -> list[tuple[str, str, str]]:
    """(entry code, kind, title) of every code in the suites offered to `centre` (all suites for
    None), by qualification code, then full award, top-up, moving down, then code."""
    suites, params = _offered_suites(centre)
    rows = con.execute(
        f"""
        SELECT e.entry_code, e.kind, e.title
        FROM ref_entry_codes e JOIN ref_qualifications q USING (qualification_code)
        WHERE q.suite_id IN ({suites})
        ORDER BY q.qualification_code, {_KIND_ORDER}, e.entry_code
        """,
        params,
    ).fetchall()
    return [(str(c), str(k), str(t)) for c, k, t in rows]


def examined_units(con: duckdb.DuckDBPyConnection, centre: str | None = None) -> list[str]:
    """The unit numbers, in order and once each, assessed by exam in the suites offered to `centre`
    (all suites for None)."""
    suites, params = _offered_suites(centre)
    rows = con.execute(
        f"""
        SELECT DISTINCT unit_number FROM ref_units
        WHERE assessment = 'exam' AND suite_id IN ({suites})
        ORDER BY unit_number
        """,
        params,
    ).fetchall()
    return [str(u) for (u,) in rows]
