"""Kill-safety of the nightly import, proven at every step boundary and at random moments.

Each killed run is a child process given SIGKILL (its whole process group, so the reader's child and
the night's worker processes die with it); the next, uninterrupted run must leave the store and the
folders exactly as one uninterrupted run over the same inbox does, with no claim left open and
nothing left in the private spool folder. The runs through Prefect report to the session's one
Prefect API (conftest's `prefect_harness`), which outlives every kill, as an operator's server does.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from entries.pipeline.nightly import run_nightly
from tests.conftest import PROJECT
from tests.test_nightly import RECEIVED, final_state, make_inbox

pytestmark = pytest.mark.slow

# The child: the nightly in this process, killed by itself at the n-th crossing of one boundary.
KILL_AT = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from entries.pipeline import nightly

    root, step, nth = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    crossed = 0

    def cross():
        global crossed
        crossed += 1
        if crossed == nth:
            os.killpg(os.getpgid(0), signal.SIGKILL)

    def before(fn):
        def wrapper(*args, **kwargs):
            cross()
            return fn(*args, **kwargs)
        return wrapper

    def after(fn):
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            cross()
            return result
        return wrapper

    from entries.pipeline import claiming, hall, workers

    BOUNDARIES = {
        "claimed": (claiming, "_claim_row", before),      # in processing/, no journal row yet
        "journalled": (claiming, "_claim_row", after),    # journal row written, nothing prepared
        "prepared": (workers, "prepare_anywhere", after),  # rows spooled (by a worker), nothing stored
        "committed": (hall, "commit", after),             # stored with its claim marked, no report
        "reported": (hall, "with_reports", after),        # reports written, file not moved
        "moved": (claiming, "_close_claim", before),      # file in its final folder, claim still open
        "closed": (claiming, "finish_claim", after),      # claim closed, next file not started
    }
    module, name, how = BOUNDARIES[step]
    setattr(module, name, how(getattr(module, name)))
    nightly.run_nightly(root / "inbox", root / "db" / "e.duckdb", root / "out",
                        received_on=dt.date(2027, 1, 15), settle_seconds=0)
    """
)
BOUNDARIES = ("claimed", "journalled", "prepared", "committed", "reported", "moved", "closed")

# A whole run in a child, in-process or through Prefect, to be killed from outside at random.
WHOLE_RUN = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    root, how = Path(sys.argv[1]), sys.argv[2]
    args = (root / "inbox", root / "db" / "e.duckdb", root / "out")
    if how == "prefect":
        from flows.nightly import nightly_flow
        nightly_flow(*map(str, args), received_on="2027-01-15", settle_seconds=0)
    else:
        from entries.pipeline.nightly import run_nightly
        run_nightly(*args, received_on=dt.date(2027, 1, 15), settle_seconds=0)
    """
)


def _child(code: str, *args: str, api_url: str | None = None) -> subprocess.Popen:
    """A child running `code` with `args`; with `api_url`, its flows report to that Prefect API."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    # A session of its own: killing its process group reaches every process it started.
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )


def _folders(root: Path) -> dict[str, list[str]]:
    """Where every uploaded file is: each must be in exactly one folder."""
    return {
        name: sorted(str(p.relative_to(root / name)) for p in (root / name).rglob("*") if p.is_file())
        for name in ("inbox", "processing", "processed", "rejected", "failed")
        if (root / name).is_dir()
    }


def _finish_and_compare(root: Path, expected: dict, expected_folders: dict) -> None:
    db = root / "db" / "e.duckdb"
    run_nightly(root / "inbox", db, root / "out", received_on=RECEIVED, settle_seconds=0)
    state = final_state(root, db)
    assert state == expected
    assert _folders(root) == expected_folders
    assert not list((root / "db" / "spool").iterdir())  # nothing with candidates' data left behind
    assert not list((root / "out").rglob("*.tmp"))  # nor half-written reports
    claims = _closed_claims(db)
    assert all(final is not None for final in claims), "a closed claim does not say where its file went"


def _closed_claims(db: Path) -> list[str | None]:
    from entries.store import database

    con = database.connect(db, read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT final_path FROM nightly_claims").fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[dict, dict, float]:
    """The state and folders one uninterrupted run leaves, and how long it took in a child."""
    root = tmp_path_factory.mktemp("uninterrupted")
    make_inbox(root)
    start = time.monotonic()
    assert _child(WHOLE_RUN, str(root), "in-process").wait(timeout=600) == 0
    took = time.monotonic() - start
    return final_state(root, root / "db" / "e.duckdb"), _folders(root), took


@pytest.mark.parametrize("step", BOUNDARIES)
@pytest.mark.parametrize("nth", [1, 3])
def test_killed_at_a_step_boundary_the_next_run_finishes_the_night(tmp_path, uninterrupted, step, nth):
    expected, folders, _ = uninterrupted
    make_inbox(tmp_path)
    child = _child(KILL_AT, str(tmp_path), step, str(nth))
    assert child.wait(timeout=600) == -signal.SIGKILL, f"the run was not killed at {step} #{nth}"
    _finish_and_compare(tmp_path, expected, folders)


def test_killed_at_random_moments_in_process_and_through_prefect(tmp_path, uninterrupted, prefect_harness):
    """25 kill -9 cycles at random moments: 18 of the in-process run, 7 of the Prefect flow.

    A moment after the run has already finished is not a kill: that cycle is checked all the same,
    the window shrinks to what the run took, and another moment is drawn (a bounded number of times)."""
    from prefect.settings import PREFECT_API_URL

    expected, folders, took = uninterrupted
    api_url = str(PREFECT_API_URL.value())
    rnd = random.Random(20270115)
    # Through Prefect the child also imports Prefect and talks to the API: a window a few seconds longer.
    plan = {"in-process": (18, took), "prefect": (7, took + 5)}
    for how, (wanted, window) in plan.items():
        kills = attempts = 0
        while kills < wanted:
            attempts += 1
            assert attempts <= 2 * wanted + 10, f"{how}: runs kept finishing before the kill ({kills} kills)"
            root = tmp_path / f"{how}-{attempts}"
            make_inbox(root)
            started = time.monotonic()
            child = _child(WHOLE_RUN, str(root), how, api_url=api_url if how == "prefect" else None)
            time.sleep(rnd.uniform(0.2, 0.95 * window))
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                kills += 1
            else:
                window = min(window, time.monotonic() - started)
            child.wait(timeout=600)
            _finish_and_compare(root, expected, folders)
