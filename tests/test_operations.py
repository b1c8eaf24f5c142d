"""Operations: one file's failure in any stage after the reader costs that file alone, never the night.

Fixtures: tests/fixtures/operations/make_fixtures.py (real-world quirks, one per file).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from entries.checks.validate import Context
from entries.pipeline import hall
from entries.pipeline.nightly import run_nightly
from entries.store import refdata
from tests.conftest import FIXTURES
from tests.test_nightly import EXPECTED, RECEIVED, final_state, make_inbox

OPERATIONS = FIXTURES / "operations"


def test_a_workbook_openpyxl_cannot_load_gets_its_errors_in_a_rebuilt_workbook(con, tmp_path):
    with pytest.raises(TypeError):
        openpyxl.load_workbook(OPERATIONS / "mac_empty_style.xlsx")  # the quirk is real
    ctx = Context(centre="12345", series="2027-06", received_on=dt.date(2027, 1, 15))
    outcome = hall.submit(
        con,
        OPERATIONS / "mac_empty_style.xlsx",
        context=ctx,
        reference=refdata.snapshot(con),
        order_ref=None,
        out_dir=tmp_path,
    )
    assert str(outcome.status) == "Processing complete"
    assert "RPT_01" in {i.code for i in outcome.issues} and outcome.reports["annotated_as"] == "rebuilt"
    rebuilt = openpyxl.load_workbook(outcome.reports["annotated"])
    errors = [row for row in rebuilt["Errors"].iter_rows(values_only=True)]
    assert any("RPT_01" in row for row in errors)
    assert Path(outcome.reports["confirmation"]).is_file()


def _inbox_with(tmp_path: Path, extra: dict[str, Path]) -> Path:
    inbox = make_inbox(tmp_path)
    for name, source in extra.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, inbox / name)
    return inbox


def test_a_night_with_a_report_that_cannot_be_written_at_all_still_finishes(tmp_path, monkeypatch):
    """Even when no workbook at all can be written for one file, that file ends in its folder with
    RPT_02, every other file is imported, and a rerun finds nothing left to do."""
    real = hall.write_annotated

    def broken_for_one(path, *args, **kwargs):
        if Path(path).name.startswith("entries_june_2027"):
            raise OSError("disk full")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(hall, "write_annotated", broken_for_one)
    db, out = tmp_path / "db" / "e.duckdb", tmp_path / "out"
    inbox = _inbox_with(tmp_path, {"12345/mac_empty_style.xlsx": OPERATIONS / "mac_empty_style.xlsx"})
    result = run_nightly(inbox, db, out, received_on=RECEIVED, settle_seconds=0)
    seen = {f"{f['centre']}/{f['file']}": f for f in result.files}
    assert set(seen) == {*EXPECTED, "12345/mac_empty_style.xlsx"}
    for name, (folder, status) in EXPECTED.items():
        assert seen[name]["status"] == status and (tmp_path / folder / name).is_file(), name
    broken = seen["12345/entries_june_2027.xlsx"]
    assert "RPT_02" in {i["code"] for i in broken["issues"]} and broken["reports"]["annotated"] is None
    mac = seen["12345/mac_empty_style.xlsx"]
    assert mac["status"] == "Processing complete" and "RPT_01" in {i["code"] for i in mac["issues"]}
    assert (tmp_path / "processed" / "12345" / "mac_empty_style.xlsx").is_file()
    assert final_state(tmp_path, db)["claims_open"] == [(0,)]
    assert run_nightly(inbox, db, out, received_on=RECEIVED, settle_seconds=0).files == []


def test_a_file_whose_commit_fails_unexpectedly_fails_alone(tmp_path, monkeypatch):
    real = hall.commit

    def broken_for_one(con, prepared, *args, **kwargs):
        if prepared.path.name == "mis_export.csv" and prepared.refusal is None:
            raise RuntimeError("a bug in the commit stage")
        return real(con, prepared, *args, **kwargs)

    monkeypatch.setattr(hall, "commit", broken_for_one)
    db = tmp_path / "db" / "e.duckdb"
    result = run_nightly(make_inbox(tmp_path), db, tmp_path / "out", received_on=RECEIVED, settle_seconds=0)
    seen = {f"{f['centre']}/{f['file']}": f for f in result.files}
    failed = seen["23456/mis_export.csv"]
    assert failed["status"] == "Upload failed" and [i["code"] for i in failed["issues"]] == ["RUN_01"]
    assert (tmp_path / "failed" / "23456" / "mis_export.csv").is_file()
    assert seen["56789/entries.xlsx"]["status"] == "Processing complete"  # later files were imported
    assert final_state(tmp_path, db)["claims_open"] == [(0,)]


HOLDER = """
import sys, time
from pathlib import Path
import duckdb
from entries.store.runlock import run_lock
db = Path(sys.argv[1])
with run_lock(db):
    con = duckdb.connect(str(db))  # a nightly holds the store open for writing
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
"""


def test_a_second_nightly_waits_for_the_first_and_says_so(tmp_path, capfd):
    import subprocess
    import sys

    from entries.cli import main
    from tests.conftest import PROJECT

    db = tmp_path / "db" / "e.duckdb"
    db.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), "30"], cwd=PROJECT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        code = main(
            [
                "--db",
                str(db),
                "--out",
                str(tmp_path / "out"),
                "nightly",
                str(make_inbox(tmp_path)),
                "--in-process",
                "--settle-seconds",
                "0",
                "--lock-wait",
                "1",
            ]
        )
    finally:
        holder.kill()
        holder.wait()
    err = capfd.readouterr().err
    assert code == 1
    assert "waiting up to 1 s" in err and "another run is using" in err
    assert "Traceback" not in err and "IO Error" not in err and "Conflicting lock" not in err
    assert len(list((tmp_path / "inbox").rglob("*.*"))) == len(EXPECTED)  # nothing was claimed


def test_no_prefect_api_is_one_line_and_nothing_is_claimed(tmp_path, monkeypatch, capfd):
    from prefect.server.api import server
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from entries.cli import main

    def cannot_start(self, timeout=None):
        raise RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server. stderr: ...")

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(server.SubprocessASGIServer, "start", cannot_start)
    inbox = make_inbox(tmp_path)
    # No API configured, even when a test harness of this session configured one.
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        code = main(["--db", str(tmp_path / "db" / "e.duckdb"), "nightly", str(inbox), "--settle-seconds", "0"])
    lines = capfd.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert "Prefect API did not start" in lines[0] and "--in-process" in lines[0] and "PREFECT_API_URL" in lines[0]
    assert len(list(inbox.rglob("*.*"))) == len(EXPECTED) and not (tmp_path / "processing").exists()


def test_a_file_dated_in_the_future_is_imported_with_a_warning(tmp_path):
    import os
    import time

    inbox = tmp_path / "inbox" / "12345"
    inbox.mkdir(parents=True)
    upload = inbox / "from_a_fast_clock.csv"
    shutil.copy(FIXTURES / "commit" / "full_award_certificate.csv", upload)
    ahead = time.time() + 86_400  # the sender's clock is a day fast
    os.utime(upload, (ahead, ahead))
    result = run_nightly(tmp_path / "inbox", tmp_path / "db" / "e.duckdb", tmp_path / "out", settle_seconds=5)
    (found,) = result.files
    assert found["status"] == "Processing complete" and found["issues"][0]["code"] == "RUN_02"
    assert result.left == [] and (tmp_path / "processed" / "12345" / "from_a_fast_clock.csv").is_file()


def test_half_written_reports_of_a_killed_run_are_swept(tmp_path):
    out = tmp_path / "out" / "12345"
    out.mkdir(parents=True)
    leftover = out / ".2027-01-15_entries_0123abcd.confirmation.xlsx.4242.0123456789abcdef0123456789abcdef.tmp"
    leftover.write_bytes(b"half a workbook with a name in it")
    theirs = out / "notes.tmp"  # not a name our writers make: left alone
    theirs.write_text("an operator's own file", encoding="utf-8")
    run_nightly(
        make_inbox(tmp_path), tmp_path / "db" / "e.duckdb", tmp_path / "out", received_on=RECEIVED, settle_seconds=0
    )
    assert not leftover.exists() and theirs.exists()


def start_night(root: Path, db: Path, api_url: str | None = None):
    """A nightly import of `root/inbox` into `db`, in a child process, once it holds the store
    (it has stored its first file); the caller waits for it. With `api_url`, the night is the
    Prefect flow against that API, else `--in-process`."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import PROJECT

    if api_url is None:
        night = "from entries.pipeline.nightly import run_nightly as night\n"
    else:
        night = (
            "from flows.nightly import nightly_flow\n"
            "def night(inbox, db, out, received_on, settle_seconds):\n"
            "    nightly_flow(str(inbox), str(db), str(out), received_on.isoformat(), settle_seconds)\n"
        )
    child_code = (
        f"import datetime as dt, sys\nfrom pathlib import Path\n{night}"
        "r, db = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "night(r / 'inbox', db, r / 'out', received_on=dt.date(2027, 1, 15), settle_seconds=0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    if api_url is not None:
        env.update(PREFECT_API_URL=api_url, PREFECT_LOGGING_LEVEL="WARNING")
    child = subprocess.Popen(
        [sys.executable, "-c", child_code, str(root), str(db)],
        cwd=PROJECT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any((root / "processed").rglob("*.*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    return child


WAITER = """
import sys, time
from pathlib import Path
from entries.store import database
con = database.connect(Path(sys.argv[1]), wait_seconds=60)
Path(sys.argv[2]).touch()  # it is in
time.sleep(0.5)
con.close()
"""


def test_a_pause_lets_a_waiting_command_in_before_the_night_takes_the_store_back(tmp_path):
    """The night closes the store for a waiter and reopens it at once: the waiter must get in first
    (it retries every 0.1 s, so without `let_waiters_in` the night's reopen would nearly always win)."""
    import subprocess
    import sys
    import time

    from entries.store import database
    from tests.conftest import PROJECT

    db, got_in = tmp_path / "e.duckdb", tmp_path / "waiter_in"
    night = database.connect(db)
    waiter = subprocess.Popen([sys.executable, "-c", WAITER, str(db), str(got_in)], cwd=PROJECT)
    try:
        deadline = time.monotonic() + 60
        while not database.someone_waits(db) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert database.someone_waits(db), "the waiter never marked that it waits"
        night.close()
        database.let_waiters_in(db)
        night = database.connect(db, wait_seconds=60)
        # Had the night taken the store back first, the waiter could not have opened it yet.
        assert got_in.is_file(), "the night took the store back before the waiter got in"
    finally:
        night.close()
        assert waiter.wait(timeout=60) == 0
    assert not database.someone_waits(db)


def test_a_killed_waiters_mark_never_holds_a_night_up(tmp_path):
    import subprocess
    import sys

    from entries.store import database

    db = tmp_path / "e.duckdb"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    mark = database.waiting_mark(db, int(gone.stdout))
    mark.parent.mkdir()
    mark.touch()  # what a waiter killed mid-wait leaves
    assert not database.someone_waits(db) and not mark.exists()  # so a pause never waits on it


READS_DURING_NIGHT = [
    ["list", "--json"],
    ["history", "--json"],
    ["review", "list", "--json"],
    ["invoice", "--centre", "12345", "--json"],
]


def _reads_answer_during_a_night(tmp_path: Path, capfd, api_url: str | None = None) -> None:
    import json

    from entries.cli import main

    inbox = make_inbox(tmp_path)
    for n in range(10):  # a longer night: more files, so the reads land while it runs
        shutil.copy(FIXTURES / "commit" / "unit_entries_two_candidates.csv", inbox / "23456" / f"more_{n}.csv")
    db = tmp_path / "db" / "e.duckdb"
    child = start_night(tmp_path, db, api_url)
    try:
        assert child.poll() is None, "the night ended before the reads could start"
        capfd.readouterr()
        answered, waited = [], []
        for command in READS_DURING_NIGHT:
            code = main(["--db", str(db), "--out", str(tmp_path / "out"), *command])
            said = capfd.readouterr()
            assert code == 0, (command, said.err)
            json.loads(said.out)  # a whole answer, not an error
            assert "Traceback" not in said.err and "Conflicting lock" not in said.err
            # Answered while the night still had files to store (not once it had stored them all).
            answered.append(any(p.is_file() for p in (tmp_path / "processing").rglob("*")))
            waited.append("in use by another process; waiting" in said.err)
        assert answered[0], "the first read was answered only after the night had stored every file"
        assert waited[0], "the first read did not meet the night holding the store"
    finally:
        assert child.wait(timeout=300) == 0  # the night was not harmed by the reads
    assert not list(inbox.rglob("*.*"))


def test_operators_read_commands_answer_while_a_nightly_runs(tmp_path, capfd):
    """list, history, review list and invoice, run while a nightly holds the store: each waits for
    the night's next pause between files (saying so) and answers; the night still finishes."""
    _reads_answer_during_a_night(tmp_path, capfd)


@pytest.mark.slow
def test_operators_read_commands_answer_while_a_nightly_runs_through_prefect(prefect_harness, tmp_path, capfd):
    """The same through the Prefect flow, whose deliver tasks share one connection to the store:
    it is let go between files when a command waits."""
    from prefect.settings import PREFECT_API_URL

    _reads_answer_during_a_night(tmp_path, capfd, PREFECT_API_URL.value())
