"""The nightly run's journal of claimed files (`nightly_claims`): no personal data, only where a
file is, its hash, and which submission it became."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from entries.core import clock
from entries.store import database
from entries.store.database import Connection


def journal_claim(
    con: Connection,
    *,
    sha256: str,
    centre: str,
    file_name: str,
    path: Path,
    received_on: dt.date,
    order_ref: str | None,
    series: str | None,
    series_source: str,
) -> int:
    """Journal a file just claimed (renamed into processing/); returns its claim id."""
    with database.transaction(con):
        return int(
            con.execute(
                """INSERT INTO nightly_claims (claim_id, sha256, centre, file_name, claimed_path, received_on, order_ref,
                                              claimed_at, series, series_source)
                   VALUES (nextval('claim_ids'), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING claim_id""",
                [sha256, centre, file_name, str(path), received_on, order_ref, clock.now(), series, series_source],
            ).fetchall()[0][0]
        )


def open_claims(con: Connection) -> list[tuple]:
    """Claims no run has finished, oldest first: (claim_id, centre, file_name, claimed_path, sha256,
    received_on, order_ref, submission_id, series, series_source)."""
    return con.execute(
        """SELECT claim_id, centre, file_name, claimed_path, sha256, received_on, order_ref, submission_id,
                  series, coalesce(series_source, 'default')
           FROM nightly_claims WHERE done_at IS NULL ORDER BY claim_id"""
    ).fetchall()


def rehash(con: Connection, claim_id: int, sha256: str) -> None:
    """The claimed file's bytes changed before anything was stored: journal its hash as it is now."""
    with database.transaction(con):
        con.execute(
            "UPDATE nightly_claims SET sha256 = ? WHERE claim_id = ? AND submission_id IS NULL", [sha256, claim_id]
        )


def note_submission(con: Connection, claim_id: int, submission_id: int) -> None:
    """Mark the claim's submission; call inside that submission's transaction."""
    con.execute("UPDATE nightly_claims SET submission_id = ? WHERE claim_id = ?", [submission_id, claim_id])


def close_claim(con: Connection, claim_id: int, final_path: Path | None) -> None:
    """The claim is done: the file is in its final folder (or gone, None)."""
    with database.transaction(con):
        con.execute(
            "UPDATE nightly_claims SET final_path = ?, done_at = ? WHERE claim_id = ?",
            [None if final_path is None else str(final_path), clock.now(), claim_id],
        )
