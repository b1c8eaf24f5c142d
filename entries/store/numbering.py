"""Numbers never reused: the highest claim, invoice and credit note numbers ever issued, kept beside the store.

A claim, invoice or credit note number is drawn from a sequence inside the store, so a store put back from an
earlier copy (`entries restore --force`) would hand the same numbers out again, to other content.
Each draw is therefore also noted in `<db>.numbers.json` (before its transaction commits: a number
noted and then rolled back is a gap, never a repeat), and a restore moves the copy's sequences past
those marks before the copy goes live (`catch_up`). The ledger holds numbers only: no personal data.
"""

from __future__ import annotations

import json
from pathlib import Path

from entries.store.database import Connection
from entries.store.restoring import write_durably

# kind -> (its sequence, the highest number the store's own rows hold)
KINDS: dict[str, tuple[str, str]] = {
    "claim": (
        "claim_numbers",
        "SELECT coalesce(max(CAST(substr(claim_number, 2, 7) AS BIGINT)), 0) FROM submissions "
        "WHERE claim_number IS NOT NULL",
    ),
    "invoice": ("invoice_numbers", "SELECT coalesce(max(seq), 0) FROM invoices"),
    "credit_note": ("credit_note_numbers", "SELECT coalesce(max(seq), 0) FROM credit_notes"),
}


def ledger_path(db: Path) -> Path:
    return db.with_name(db.name + ".numbers.json")


def store_path(con: Connection) -> Path | None:
    """The file of the store `con` has open (None for a store in memory)."""
    found = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(found[0][0]) if found and found[0][0] else None


def highest(db: Path) -> dict[str, int]:
    """The highest number of each kind ever issued from the store at `db` (0 where none)."""
    path = ledger_path(db)
    marks = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {kind: int(marks.get(kind, 0)) for kind in KINDS}


def note_issued(con: Connection, kind: str, number: int) -> None:
    """Record that `number` of `kind` is being issued from the store `con` has open: call right
    after drawing it, inside the transaction that stores it. Written whole (rename) and synced."""
    db = store_path(con)
    if db is None:
        return
    marks = highest(db)
    if number > marks[kind]:
        marks[kind] = number
        write_durably(ledger_path(db), json.dumps(marks, sort_keys=True))


def catch_up(con: Connection, marks: dict[str, int]) -> dict[str, int]:
    """Move each sequence of the store `con` has open past `marks` (a ledger's highest numbers), so
    its next number is above every number issued before; returns how many values each skipped.
    DuckDB cannot set a sequence, so the gap is drawn, in one statement a kind."""
    skipped = {}
    for kind, (sequence, own_highest) in KINDS.items():
        # Where the sequence stands (a rolled-back draw may have moved it past the rows), or the rows.
        drawn = con.execute(
            "SELECT coalesce(last_value, start_value - 1) FROM duckdb_sequences() WHERE sequence_name = ?", [sequence]
        ).fetchall()[0][0]
        gap = marks.get(kind, 0) - max(int(drawn), int(con.execute(own_highest).fetchall()[0][0]))
        skipped[kind] = max(gap, 0)
        if gap > 0:
            con.execute(f"SELECT max(nextval('{sequence}')) FROM range(?)", [gap]).fetchall()
    return skipped
