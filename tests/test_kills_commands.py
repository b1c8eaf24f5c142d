"""Kills inside `entries ingest` and `entries onboard` (slow lane): whatever moment a SIGKILL lands,
running the same command again ends as one uninterrupted run does, with its reports written, no
half-written report left, and nothing of the candidates' outside the store and `--out` (the
system's temporary folder of the killed process is one of the test's own, and stays empty).

The kills land at named moments (inside the commit, after it, with a report written but not yet
renamed) and at timed moments through the command's whole run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from entries.store import database
from tests.conftest import PROJECT

pytestmark = pytest.mark.slow

UPLOAD = PROJECT / "data" / "samples" / "inbox" / "12345" / "entries_june_2027.xlsx"
ONBOARDING = PROJECT / "data" / "samples" / "onboarding"
# Names and identifiers of candidates in the two samples: none may be found outside store and out/.
PERSONAL = ("Baker", "Harry", "123450260001H")

# The command in a child process that kills itself (SIGKILL, no clean-up of any kind) at a moment.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    moment, argv = sys.argv[1], sys.argv[2:]

    def die(*_a, **_k):
        os.kill(os.getpid(), signal.SIGKILL)

    if moment == "inside the commit":
        from entries.store import commit
        commit.store_entries = die
    elif moment == "after the commit":
        from entries.pipeline import hall
        hall.with_reports = die
    elif moment == "a report written, not renamed":
        real = os.replace
        def replace(src, dst, *a, **k):
            if str(dst).endswith((".xlsx", ".csv")) and "/out/" in str(dst):
                die()
            return real(src, dst, *a, **k)
        os.replace = replace
    elif moment == "inside the onboarding's commit":
        from entries.store import onboarding
        onboarding._store_candidates = die
    elif moment == "onboarding stored, no report":
        from entries.pipeline import onboard
        onboard.write_report = die
    from entries.cli import main
    sys.exit(main(argv))
    """
)


def _system_temp(root: Path) -> Path:
    """The command's system temporary folder: short, as the fork server's socket path must be."""
    link = root / "system-temp"
    if not link.exists():
        link.symlink_to(tempfile.mkdtemp(prefix="kill-", dir="/tmp"))
    return link.resolve()


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TMPDIR": str(_system_temp(root)),
        "ENTRIES_DB": str(root / "e.duckdb"),
        "ENTRIES_OUT": str(root / "out"),
    }


def _killed(root: Path, moment: str, argv: list[str], after: float | None = None) -> int:
    """Run the command in a child killed at `moment` (or `after` seconds); its return code."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, moment, *argv],
        env=_env(root),
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if after is not None:
        time.sleep(after)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # the reader's child process dies with it
    return child.wait(timeout=300)


def _run(root: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entries.cli", *argv],
        env=_env(root),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _store(root: Path, loaded_store: Path) -> None:
    root.mkdir(parents=True)
    shutil.copyfile(loaded_store, root / "e.duckdb")


def _state(root: Path) -> dict:
    con = database.connect(root / "e.duckdb")
    try:
        return {
            "accepted": con.execute("SELECT count(*) FROM submissions WHERE status = 'Processing complete'").fetchall()[
                0
            ][0],
            "entries": con.execute("SELECT count(*), sum(fee_pence) FROM entries").fetchall()[0],
            "candidates": con.execute("SELECT count(*) FROM candidates").fetchall()[0][0],
            "onboarded": con.execute(
                "SELECT (SELECT count(*) FROM onboarded_centres), (SELECT count(*) FROM onboarded_approvals)"
            ).fetchall()[0],
        }
    finally:
        con.close()


def _outside_the_store_and_out(root: Path) -> list[str]:
    """Files under `root` other than the store, its copies and out/ that hold a candidate's data,
    and anything at all left in the system's temporary folder or the readers' spool."""
    # Regular files only: a killed fork server leaves its socket's folder (no data) behind.
    system_temp = _system_temp(root)
    found = [f"system temp: {p.name}" for p in system_temp.rglob("*") if p.is_file()]
    shutil.rmtree(system_temp, ignore_errors=True)
    spool = root / "spool"
    if spool.is_dir():
        found += [str(p.relative_to(root)) for p in spool.rglob("*") if p.is_file()]
    for path in root.rglob("*"):
        if (
            path.is_file()
            and not path.is_symlink()
            and path.parts[len(root.parts)] not in ("out", "system-temp", "spool")
        ):
            if path.name.startswith("e.duckdb"):
                continue
            text = path.read_bytes()
            found += [f"{path.relative_to(root)}: {word}" for word in PERSONAL if word.encode() in text]
    return found


def _reports(root: Path) -> dict[str, bytes]:
    """Every file under out/, by name: reports are deterministic, so a finished run's are the same bytes."""
    out = root / "out"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


INGEST = ["ingest", str(UPLOAD), "--centre", "12345", "--received-on", "2027-01-15", "--json"]


@pytest.fixture(scope="module")
def ingested_once(tmp_path_factory, loaded_store) -> dict:
    root = tmp_path_factory.mktemp("ingest-once") / "run"
    _store(root, loaded_store)
    done = _run(root, INGEST)
    assert done.returncode == 0, done.stderr
    return {**_state(root), "reports": _reports(root)}


@pytest.mark.parametrize(
    ("moment", "after"),
    [
        ("inside the commit", None),
        ("after the commit", None),
        ("a report written, not renamed", None),
        *[("timed", t) for t in (0.4, 1.0, 1.6, 2.4)],
    ],
)
def test_ingest_killed_then_run_again_ends_as_one_run(tmp_path, loaded_store, ingested_once, moment, after):
    root = tmp_path / "run"
    _store(root, loaded_store)
    code = _killed(root, moment, INGEST, after)
    assert code == -signal.SIGKILL if after is None else code in (-signal.SIGKILL, 0)  # a named moment is reached
    again = _run(root, INGEST)
    assert "Traceback" not in again.stderr
    outcome = json.loads(again.stdout)
    # Run again on the same bytes: stored now, or stored by the killed run (a duplicate, exit 1).
    assert (outcome["status"], again.returncode) in (("Processing complete", 0), ("Duplicate file", 1))
    reports = _reports(root)
    # A second send found stored is told so in its own errors CSV, beside the first's reports.
    duplicate = [name for name in reports if name.endswith(".duplicate.errors.csv")]
    assert len(duplicate) == (outcome["status"] == "Duplicate file")
    for name in duplicate:
        reports.pop(name)
    assert {**_state(root), "reports": reports} == ingested_once  # its reports written, whole
    assert _outside_the_store_and_out(root) == []


ONBOARD = ["onboard", str(ONBOARDING), "--received-on", "2026-09-01", "--json"]


@pytest.fixture(scope="module")
def onboarded_once(tmp_path_factory, loaded_store) -> dict:
    root = tmp_path_factory.mktemp("onboard-once") / "run"
    _store(root, loaded_store)
    done = _run(root, ONBOARD)
    assert done.returncode == 0, done.stderr
    return {**_state(root), "reports": _reports(root)}


@pytest.mark.parametrize(
    ("moment", "after"),
    [
        ("inside the onboarding's commit", None),
        ("onboarding stored, no report", None),
        ("a report written, not renamed", None),
        *[("timed", t) for t in (0.4, 1.0, 1.8)],
    ],
)
def test_onboard_killed_then_run_again_ends_as_one_run(tmp_path, loaded_store, onboarded_once, moment, after):
    root = tmp_path / "run"
    _store(root, loaded_store)
    code = _killed(root, moment, ONBOARD, after)
    assert code == -signal.SIGKILL if after is None else code in (-signal.SIGKILL, 0)  # a named moment is reached
    again = _run(root, ONBOARD)
    assert again.returncode == 0, again.stderr[-2000:]
    # The report says what its run did (a rerun after the commit finds the candidates unchanged).
    assert {**_state(root), "reports": sorted(_reports(root))} == {
        **onboarded_once,
        "reports": sorted(onboarded_once["reports"]),
    }
    assert _outside_the_store_and_out(root) == []
