"""Whether a process named in a leftover (a temporary file's name, a folder's) is still alive."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True unless no process `pid` exists (another user's live process counts as alive: its
    leftovers are not ours to sweep)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
