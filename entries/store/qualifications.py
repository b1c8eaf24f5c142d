"""Find qualifications by code, title or part of a title, as the web form's "select assessment"."""

from __future__ import annotations

import duckdb


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
