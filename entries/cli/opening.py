"""Opening the store for a command, and checking a centre named on the command line against it.

`open_store(args)` gives a connection to the store named by `--db` (waiting, with a message on
stderr, while a nightly run holds it); `known_centre(con, centre)` gives the centre back or raises
a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from entries.core import config
from entries.core.errors import UsageError

if TYPE_CHECKING:
    from entries.store.database import Connection


def say(line: str) -> None:
    """One progress line on stderr (not the command's output), flushed at once."""
    print(f"entries: {line}", file=sys.stderr, flush=True)


def open_store(args: argparse.Namespace, *, needs_reference: bool = True, verify: bool = False) -> Connection:
    """The store of `args.db` (env ENTRIES_DB), its tables in place and, unless told otherwise, its
    reference data loaded. With `verify`, every block of the store is read first (commands that
    issue money or write what a night relies on): a damaged store is refused before anything."""
    # While a nightly run holds the store, wait for its next pause between files (with a message).
    from entries.store import database, refdata

    con = database.connect(config.db_path(args.db), wait_seconds=config.store_wait_seconds(), notify=say, verify=verify)
    if needs_reference:
        refdata.ensure_reference(con)
    return con


def known_centre(con: Connection, centre: str) -> str:
    """`centre` if it is a published or onboarded centre; else a usage error."""
    from entries.store.centres import is_known_centre

    if not is_known_centre(con, centre):
        raise UsageError(
            f"centre {centre} is not an approved centre (see reference_data/centres.csv or 'entries onboard')"
        )
    return centre
