"""The night's prepare workers: files checked beside the writer, in processes of their own.

Checking a file is Python work that holds the interpreter lock: on threads it fought the writer
(commit, confirmation) for one core; in processes it runs beside the writer. Files travel as spool
paths, never as rows. One worker per core at a lower priority: the writer (the night's pace) never
waits for a core, and the workers use every cycle it leaves (on 2 cores, one worker left a core
idle while it waited for its reader child). A night of fewer files than PROCESS_PREPARE_FROM is
checked on threads (a worker costs a start); ENTRIES_PREPARE_PROCESSES=0 checks on threads only.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from entries.checks.reference import Reference
from entries.core import crash

# One file's prepare step: (claim, reference, spool folder) -> its spool file. A module-level
# function, so that a worker process can be handed it by name.
T = TypeVar("T")
Prepare = Callable[[Any, Reference, Path], T]

PREPARE_THREADS = 2  # files read and checked ahead of the one being stored (2 cores here)
PREPARE_PROCESSES = int(os.environ.get("ENTRIES_PREPARE_PROCESSES", os.cpu_count() or 2))
WORKER_NICENESS = 10  # workers yield the CPU to the writer, and use whatever it leaves
PROCESS_PREPARE_FROM = 4
_WORKER_REFERENCE: Reference | None = None
_POOL: ProcessPoolExecutor | None = None  # this night's workers, while prepare_workers is open


def _worker_init(reference: Reference, log_folder: Path | None) -> None:
    """A prepare worker's start: the night's reference snapshot, once (not once per file), and the
    folder its crash entries go to (beside the store, as the writer's)."""
    global _WORKER_REFERENCE
    _WORKER_REFERENCE = reference
    crash.configure(log_folder)
    with suppress(AttributeError, OSError):  # no nice on this platform: the writer's priority
        os.nice(WORKER_NICENESS)


def _prepare_in_worker(prepare: Prepare[T], claim: Any, folder: Path) -> T:
    if _WORKER_REFERENCE is None:
        raise RuntimeError("the prepare worker has no reference snapshot")
    return prepare(claim, _WORKER_REFERENCE, folder)


@contextmanager
def prepare_workers(reference: Reference, files: int) -> Iterator[None]:
    """Worker processes that `prepare_anywhere` hands files to, for a night of `files` files (none
    for a short night, with ENTRIES_PREPARE_PROCESSES=0, or where processes cannot be started)."""
    global _POOL
    if PREPARE_PROCESSES < 1 or files < PROCESS_PREPARE_FROM or _POOL is not None:
        yield
        return
    try:
        pool = ProcessPoolExecutor(
            max_workers=PREPARE_PROCESSES,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_worker_init,
            initargs=(reference, crash.configured()),
        )
    except OSError:
        yield
        return
    _POOL = pool
    try:
        yield
    finally:
        _POOL = None
        pool.shutdown(wait=True, cancel_futures=True)


def prepare_anywhere(prepare: Prepare[T], claim: Any, reference: Reference, folder: Path) -> T:
    """`prepare` in one of this night's worker processes when there are any, else here. A worker
    that died costs nothing but time: the file is then checked here."""
    pool = _POOL
    if pool is not None:
        try:
            return pool.submit(_prepare_in_worker, prepare, claim, folder).result()
        except BrokenProcessPool:
            pass
    return prepare(claim, reference, folder)


def prepare_ahead(prepare: Prepare[T], claims: list[Any], reference: Reference, folder: Path) -> Iterator[T]:
    """Prepare ahead of the writer on two threads, each handing its file to a worker process (see
    `prepare_workers`), yielding what `prepare` returns in claim order."""
    with prepare_workers(reference, len(claims)):
        pool = ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="prepare")
        futures = [pool.submit(prepare_anywhere, prepare, claim, reference, folder) for claim in claims]
        try:
            for future in futures:
                yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
