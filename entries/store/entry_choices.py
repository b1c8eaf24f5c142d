"""What the web form asks the store while a centre builds an entry: the entry codes it may use,
the examined units it may choose, and whether a new candidate's number or UCI is taken."""

from __future__ import annotations

from entries.store.database import Connection


def approved_entry(con: Connection, centre: str, entry_code: str) -> tuple[str, str] | None:
    """(title, kind) of `entry_code` when `centre` is approved for its suite, else None."""
    found = con.execute(
        """SELECT e.title, e.kind FROM ref_entry_codes e JOIN ref_qualifications q USING (qualification_code)
           WHERE e.entry_code = ? AND q.suite_id IN
                 (SELECT suite_id FROM all_centre_approvals WHERE centre_number = ?)""",
        [entry_code, centre],
    ).fetchall()
    return (str(found[0][0]), str(found[0][1])) if found else None


def examined_units(con: Connection, entry_code: str) -> list[int]:
    """The examined units of a full award's qualification, in order (unit entries choose from them)."""
    return [
        int(u)
        for (u,) in con.execute(
            """SELECT r.unit_number FROM ref_entry_codes e
               JOIN ref_rules_of_combination r ON r.qualification_code = e.qualification_code
               JOIN ref_qualifications q ON q.qualification_code = e.qualification_code
               JOIN ref_units un ON un.suite_id = q.suite_id AND un.unit_number = r.unit_number
               WHERE e.entry_code = ? AND e.kind = 'full_award' AND un.assessment = 'exam'
               ORDER BY r.unit_number""",
            [entry_code],
        ).fetchall()
    ]


def number_taken(con: Connection, centre: str, candidate_number: str) -> bool:
    """A candidate at `centre` has this candidate number already."""
    return bool(
        con.execute(
            "SELECT 1 FROM candidates WHERE centre_number = ? AND candidate_number = ?", [centre, candidate_number]
        ).fetchall()
    )


def uci_elsewhere(con: Connection, centre: str, uci: str) -> bool:
    """The UCI (its first 12 characters: the check letter may be missing) is on record at another
    centre and not at this one: yes or no, nothing of that record is read."""
    stem = uci.strip().upper()[:12]
    return bool(
        con.execute(
            """SELECT 1 FROM candidates WHERE left(uci, 12) = ? AND centre_number <> ?
               AND NOT EXISTS (SELECT 1 FROM candidates WHERE left(uci, 12) = ? AND centre_number = ?)""",
            [stem, centre, stem, centre],
        ).fetchall()
    )
