"""Faults of the machine (a full disk, a refused permission, a failing disk), told apart from what is
wrong with a centre's file: a fault is never a verdict on the file. The file is left where the next
run takes it, and the operator is told the cause in words and what to do."""

from __future__ import annotations

import errno

from entries.core.errors import EntriesError, StoreDamaged

# errno -> (what happened, what to do); `{where}` is the path the system named, when it named one.
_BY_ERRNO = {
    errno.ENOSPC: ("no space left on the disk that holds {where}", "free space on that disk and run again"),
    errno.EDQUOT: ("the disk quota is used up on the disk that holds {where}", "raise the quota or free space"),
    errno.EACCES: ("permission denied on {where}", "give the service's user access to it and run again"),
    errno.EPERM: ("operation not permitted on {where}", "give the service's user access to it and run again"),
    errno.EROFS: ("{where} is on a read-only disk", "mount it writable and run again"),
    errno.EIO: ("the disk that holds {where} reported an input/output error", "check the disk, then run again"),
    errno.EMFILE: ("too many files are open in this process", "raise the open-file limit (ulimit -n)"),
    errno.ENFILE: ("too many files are open on this machine", "close other programs or raise the limit"),
}
# The same faults as DuckDB and other libraries word them (they raise their own exception types).
_BY_TEXT = (
    ("No space left on device", errno.ENOSPC),
    ("Disk quota exceeded", errno.EDQUOT),
    ("Permission denied", errno.EACCES),
    ("Read-only file system", errno.EROFS),
    ("Input/output error", errno.EIO),
    ("Too many open files", errno.EMFILE),
)


# DuckDB refuses every statement after a write it could not finish (its disk full, say) until the
# store is opened again: that is the machine's fault too, and the next run reopens it.
_STORE_STOPPED = "database has been invalidated"
# DuckDB's words for a store it cannot read (an open, or a block read later): damage, not a file's fault.
DAMAGE_MARKERS = (
    "Corrupt database file",
    "not a valid DuckDB database file",
    "Could not read enough bytes",
    "does not match stored checksum",
)


def damage_text(exc: BaseException) -> str | None:
    """How DuckDB's `exc` says the store is damaged, in words and with no path; None when it does not."""
    text = str(exc)
    if not any(marker in text for marker in DAMAGE_MARKERS):
        return None
    if "checksum" in text:
        return "a block of it fails its checksum"
    if "Could not read enough bytes" in text:
        return "it is shorter than its own contents say: truncated?"
    return "it is not a DuckDB database file"


class MachineFault(EntriesError):
    """The machine failed, not the file: what happened and what to do, in words."""


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def machine_fault(exc: BaseException, where: str | None = None) -> str | None:
    """The fault `exc` (or what caused it) stands for, as one sentence with what to do; None when
    it is not a fault of the machine. `where` names the place when the exception does not."""
    for found in _chain(exc):
        if isinstance(found, StoreDamaged):
            return str(found)
        damage = damage_text(found)
        if damage is not None:
            return f"the store is damaged ({damage}): run 'entries restore --force' to put back the last good copy"
        code = found.errno if isinstance(found, OSError) else None
        if code is None:
            text = str(found)
            if _STORE_STOPPED in text:
                return "the store stopped taking writes after one failed (a full disk?): free space and run again"
            code = next((c for marker, c in _BY_TEXT if marker in text), None)
        if code in _BY_ERRNO:
            named = getattr(found, "filename", None) if isinstance(found, OSError) else None
            what, todo = _BY_ERRNO[code]
            return f"{what.format(where=named or where or 'the store or the reports')}: {todo}"
    return None
