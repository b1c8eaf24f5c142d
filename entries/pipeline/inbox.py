"""The nightly inbox, INBOX/<centre number>/<files>: what is waiting in it, what a night leaves there.

In: the inbox's folder (a `Layout`). Out: the settled uploads to claim, oldest first; the uploads
still there after claiming; and what a night never takes (files at the root, folders not a centre).
Nothing here moves or opens a file: claiming (`entries.pipeline.claiming`) does that.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from entries.core.series import parse_series

SKIP_SUFFIXES = (".order.txt", ".tmp", ".part", ".crdownload")
CENTRE_FOLDER = re.compile(r"[0-9]{5}")  # INBOX/<centre number>/: any other folder is not read
ORDER_SIDECAR = ".order.txt"  # INBOX/<centre>/<file>.order.txt: the order number given with the upload
CLOCK_SKEW_SECONDS = 60  # a modification time further ahead than this is the sender's clock, not a write


@dataclass(frozen=True)
class Layout:
    """The inbox and the folders beside it; `series` is the run's --series, for files whose folder
    names none (INBOX/<centre>/<series>/ names one)."""

    inbox: Path
    series: str | None = None

    def folder(self, name: str) -> Path:
        return self.inbox.parent / name


def future_dated(path: Path, now: float | None = None) -> bool:
    """The file's modification time is ahead of this machine's clock (beyond a little skew)."""
    return path.stat().st_mtime > (time.time() if now is None else now) + CLOCK_SKEW_SECONDS


def _stable(path: Path, settle_seconds: float, now: float) -> bool:
    first = path.stat()
    if future_dated(path, now):
        return True  # it would look "just written" for ever: import it now, with RUN_02 saying why
    if now - first.st_mtime < settle_seconds:
        return False  # written moments ago: may still be arriving
    if settle_seconds > 0:
        time.sleep(min(0.2, settle_seconds))
        second = path.stat()
        return (first.st_size, first.st_mtime_ns) == (second.st_size, second.st_mtime_ns)
    return True


def _uploads(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIP_SUFFIXES)
    )


def series_folders(centre_dir: Path) -> list[tuple[str, Path]]:
    """(series, folder) for each sub-folder of a centre's folder that names a series (`2027-06` or
    `June 2027`); other sub-folders are not read (their files are listed as left in the inbox)."""
    found = []
    for sub in sorted(p for p in centre_dir.iterdir() if p.is_dir()):
        series = parse_series(sub.name)
        if series is not None:
            found.append((series, sub))
    return found


def centre_folders(folder: Path) -> list[Path]:
    """The sub-folders of `folder` named as a centre number (5 digits), in order."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and CENTRE_FOLDER.fullmatch(p.name))


def not_taken(layout: Layout) -> list[str]:
    """What the inbox holds that a night never takes, each named once for the summary: files at the
    inbox's root, and folders whose name is not a centre number (they are left where they are)."""
    if not layout.inbox.is_dir():
        return []
    return sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in layout.inbox.iterdir()
        if not p.name.startswith(".") and (p.is_file() or (p.is_dir() and not CENTRE_FOLDER.fullmatch(p.name)))
    )


def pending(layout: Layout, settle_seconds: float = 5.0) -> list[tuple[str, str | None, Path]]:
    """(centre, series named by its folder or None, file) waiting in the inbox, oldest first;
    files still being written are left."""
    if not layout.inbox.is_dir():
        return []
    now = time.time()
    found = []
    for centre_dir in centre_folders(layout.inbox):
        places: list[tuple[str | None, Path]] = [(None, centre_dir), *series_folders(centre_dir)]
        for series, folder in places:
            for path in _uploads(folder):
                if _stable(path, settle_seconds, now):
                    found.append((path.stat().st_mtime, centre_dir.name, str(path), series, path))
    return [(centre, series, path) for _, centre, _, series, path in sorted(found)]


def left_in_inbox(layout: Layout) -> list[str]:
    """`centre/file` (or `centre/folder/file`) for every upload still in the inbox after claiming:
    still being written, or in a sub-folder that names no series."""
    if not layout.inbox.is_dir():
        return []
    return sorted(
        str(p.relative_to(layout.inbox))
        for centre_dir in centre_folders(layout.inbox)
        for pattern in ("*", "*/*")
        for p in centre_dir.glob(pattern)
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIP_SUFFIXES)
    )
