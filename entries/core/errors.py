"""Exceptions the command line turns into one clear line and an exit code."""

from __future__ import annotations


class EntriesError(Exception):
    """A problem the operator can act on; its text never carries personal data."""

    exit_code = 1


class UsageError(EntriesError):
    """The command was called wrongly (exit 2)."""

    exit_code = 2


class ReferenceDataError(EntriesError):
    """Reference data failed validation; `problems` lists every one found."""

    def __init__(self, problems: list) -> None:
        self.problems = problems
        super().__init__(f"reference data has {len(problems)} problem(s); nothing was loaded")


class StoreBusy(EntriesError):
    """The database file is held by another process; the same step may succeed a little later."""


class StoreDamaged(EntriesError):
    """The database file is not a whole DuckDB store (truncated, overwritten, missing with copies
    beside it): never "in use", and never a verdict on the file being imported. Its text names the
    store and the command that puts back the last good copy."""
