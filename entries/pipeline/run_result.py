"""What a night hands back: per file an outcome or why a fault left it (`Left`), and the run's
`RunResult` (every file's docs/architecture.md §5 object, the totals, what the night left alone).

In: the outcomes as the runner collects them. Out: plain JSON values for the summary (no personal
data: centres, file names, counts, statuses and issues).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from entries.checks.upload import Outcome


@dataclass(frozen=True)
class Left:
    """A claimed file that a fault of the machine (a full disk, a refused permission) stopped: it
    stays in processing/ with its claim open, and the next run takes it. Never a verdict on it."""

    reason: str
    status: str = "Left for the next run"


Spooled = Path | Left  # what prepare hands the writer: a spool file, or why a fault stopped the file
Delivered = Outcome | Left


@dataclass
class RunResult:
    """Every file's docs/architecture.md §5 object and the run's totals."""

    files: list[dict] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # centre/file still being written: next run
    ignored: list[str] = field(default_factory=list)  # files at the inbox's root, folders not a centre
    faulted: list[dict] = field(default_factory=list)  # centre, file, reason: left by a fault

    def totals(self) -> dict:
        by_status: dict[str, int] = {}
        for f in self.files:
            by_status[f["status"]] = by_status.get(f["status"], 0) + 1
        return {
            "files": len(self.files),
            "by_status": dict(sorted(by_status.items())),
            "entries": sum(sum(f["entries"].values()) for f in self.files),
            "fees_pence": sum(f["fees_pence"] for f in self.files),
            "held": sum(f["held"] for f in self.files),
            "left_for_next_run": len(self.left),
            "left_by_fault": len(self.faulted),
            "ignored": len(self.ignored),
        }

    def as_json(self) -> dict:
        return {
            "files": self.files,
            "totals": self.totals(),
            "left_for_next_run": self.left,
            "left_by_fault": self.faulted,
            "ignored": self.ignored,
        }
