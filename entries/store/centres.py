"""Centres on record: the published list and the bulk-onboarded ones (the `all_centres` view)."""

from __future__ import annotations

from entries.store.database import Connection


def is_known_centre(con: Connection, centre: str) -> bool:
    """Whether `centre` (five digits, as text) is a published or an onboarded centre."""
    return bool(con.execute("SELECT 1 FROM all_centres WHERE centre_number = ?", [centre]).fetchall())


def centre_name(con: Connection, centre: str) -> str | None:
    """The centre's name on record (published or onboarded), or None for a centre not on record."""
    found = con.execute("SELECT name FROM all_centres WHERE centre_number = ?", [centre]).fetchall()
    return found[0][0] if found else None
