"""The web form's drafts: one per portal user, stored as JSON until submitted or cancelled."""

from __future__ import annotations

import json

from entries.core import clock
from entries.store import database
from entries.store.database import Connection


def load(con: Connection, username: str) -> dict | None:
    """The user's draft as saved (None when they have none)."""
    found = con.execute("SELECT draft_json FROM form_drafts WHERE username = ?", [username]).fetchall()
    return json.loads(found[0][0]) if found else None


def save(con: Connection, username: str, centre: str, draft: dict) -> None:
    """Keep the user's draft (replacing the one saved before)."""
    with database.transaction(con):
        con.execute(
            """INSERT INTO form_drafts (username, centre, draft_json, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (username) DO UPDATE SET centre = excluded.centre, draft_json = excluded.draft_json,
                                                    updated_at = excluded.updated_at""",
            [username, centre, json.dumps(draft, ensure_ascii=False, sort_keys=True), clock.now()],
        )


def drop(con: Connection, username: str) -> None:
    """The user's draft is submitted or cancelled."""
    with database.transaction(con):
        con.execute("DELETE FROM form_drafts WHERE username = ?", [username])
