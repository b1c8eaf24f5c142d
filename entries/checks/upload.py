"""An upload's state between the stages: what prepare found, and what happened to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from entries.checks.validate import Context
from entries.core.rules import Issue
from entries.core.status import Status


@dataclass
class Prepared:
    """A file read and checked, not yet stored. `rows` and `entries` hold personal data: they stay
    in memory and are never logged or persisted by the orchestrator."""

    path: Path
    sha256: str
    context: Context
    issues: list[Issue]
    refusal: str | None = None  # catalogue code when the file could not be read at all
    file_format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1
    positions: dict[str, int] = field(default_factory=dict)
    rows: pd.DataFrame | None = None  # the template rows as read (text)
    entries: pd.DataFrame | None = None  # normalised distinct rows (schemas.upload.NORMALISED_ROW)

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


@dataclass
class Outcome:
    """What happened to one upload: the docs/architecture.md §5 ingest object."""

    file: str
    sha256: str
    centre: str
    series: str | None
    order_ref: str | None
    status: Status
    reason: str | None
    rows: int
    accepted: int
    rejected: int
    held: int
    submission_id: int | None
    issues: list[Issue]
    entries: dict[str, int] = field(default_factory=lambda: {"full_award": 0, "unit": 0, "top_up": 0, "move_down": 0})
    fees_pence: int = 0
    # Not recorded: every error is on a row, for the centre to correct on screen (the portal).
    to_amend: bool = False
    reports: dict[str, str | None] = field(default_factory=lambda: {"annotated": None, "confirmation": None})
    series_source: str = "stated"
    by_series: list[dict] = field(default_factory=list)  # entries and fees per series and late flag
    claim_number: str | None = None
    dry_run: bool = False
    changes: dict[str, int] | None = None  # a dry run's new / already_entered / replaces
    # A dry run's classified entries (schemas.entry.CLASSIFIED_ENTRY): in memory only, never in JSON.
    preview: pd.DataFrame | None = field(default=None, repr=False)
    received_on: dt.date | None = None
    duplicate_of: int | None = None  # a `Duplicate file`'s earlier submission (same bytes): never in JSON

    def as_json(self) -> dict:
        """The docs/architecture.md §5 object (no personal data: issues carry codes, rows and columns)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "centre": self.centre,
            "series": self.series,
            "order_ref": self.order_ref,
            "status": str(self.status),
            "reason": self.reason,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "held": self.held,
            "entries": dict(self.entries),
            "fees_pence": self.fees_pence,
            "series_source": self.series_source,
            "late": any(s["late"] for s in self.by_series),
            "by_series": [dict(s) for s in self.by_series],
            "claim_number": self.claim_number,
            "issues": [i.as_json() for i in self.issues],
            "reports": dict(self.reports),
            **({"dry_run": True, "changes": dict(self.changes or {})} if self.dry_run else {}),
        }
