"""No process-wide state at run time (issue 19): a night, a read or a crash changes neither
`os.environ` nor `tempfile.tempdir`; readers' temporary files are made only in the folder they are
given (the store's private spool), never in the system's temporary folder; crash entries go to the
folder configured for the process that crashed.

Where a file is made is watched from inside every Python process of a command: a `sitecustomize`
put first on the command's PYTHONPATH adds an audit hook (PEP 578) that notes each `open` and
`os.mkdir` under the watched folders, in the command, its fork server, its worker processes and its
reader children alike. The command's TMPDIR is an empty folder of the test's own.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandera.pandas  # noqa: F401 - see below
import pytest

from entries.cli import main
from entries.core import crash
from entries.intake import reader
from tests.conftest import FIXTURES

INTAKE = FIXTURES / "intake"
PROJECT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT / "data" / "samples" / "inbox"
# pandera sets two environment variables for pyspark when it is first imported (once per process,
# at import, before any thread): imported above, so the night's commands import nothing that does.

_WATCHER = """
import os, sys

_log = os.environ.get("WATCH_LOG")
_folders = tuple(os.path.realpath(f) + os.sep for f in os.environ.get("WATCH_FOLDERS", "").split(os.pathsep) if f)


def _note(event, args):
    if event not in ("open", "os.mkdir") or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    try:
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(_folders):
            with open(_log, "a", encoding="utf-8") as fh:  # the log is outside the watched folders
                fh.write(f"{event} {path}\\n")
    except Exception:
        pass


if _log and _folders:
    sys.addaudithook(_note)
"""


def _watched_command(
    tmp_path: Path, argv: list[str], watch: list[Path]
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `python argv...` with TMPDIR an empty folder (`tmp_path/system-tmp`, watched too) and
    every file made under `watch` or TMPDIR noted; returns the run and the noted paths."""
    hook = tmp_path / "watcher"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_WATCHER, encoding="utf-8")
    # A short path: the fork server's socket lives in TMPDIR, and a socket path is at most 107
    # bytes (pytest-xdist's tmp_path is longer).
    system_tmp = _SYSTEM_TMP[tmp_path] = Path(tempfile.mkdtemp(prefix="st-", dir="/tmp"))
    log = tmp_path / "watched.log"
    env = {
        **os.environ,
        "TMPDIR": str(system_tmp),
        "PYTHONPATH": os.pathsep.join([str(hook), str(PROJECT), os.environ.get("PYTHONPATH", "")]),
        "WATCH_LOG": str(log),
        "WATCH_FOLDERS": os.pathsep.join(str(p) for p in [system_tmp, *watch]),
    }
    done = subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True, timeout=600)
    noted = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done, noted


# What Python itself makes in the system's temporary folder, holding no data: multiprocessing's
# folder for its fork server's socket, and the empty file `tempfile.gettempdir` writes (and removes)
# to see that a folder is writable.
_PYTHONS_OWN = re.compile(r"pymp-[a-z0-9_]+(/.*)?|[a-z0-9_]{8}")


_SYSTEM_TMP: dict[Path, Path] = {}


def _in_system_tmp(noted: list[str], tmp_path: Path) -> list[str]:
    """The noted paths in the command's system temporary folder, but Python's own (`_PYTHONS_OWN`)."""
    system_tmp = str(_SYSTEM_TMP[tmp_path]) + os.sep
    paths = [line.split(" ", 1)[1] for line in noted]
    return [p for p in paths if p.startswith(system_tmp) and not _PYTHONS_OWN.fullmatch(p[len(system_tmp) :])]


_READ = """
import sys
from pathlib import Path
from entries.intake.reader import read_upload
for name in sys.argv[2:]:
    sheet = read_upload(Path(name), work_dir=Path(sys.argv[1]))
    assert len(sheet.cells) >= 3, name
"""


def test_reader_temporary_files_are_made_in_the_given_folder_never_the_systems(tmp_path):
    work = tmp_path / "spool" / "tmp"
    # base.xlsx is read as it is; strict_open_xml.xlsx from a one-sheet copy the child writes.
    files = [str(INTAKE / "base.xlsx"), str(INTAKE / "strict_open_xml.xlsx")]
    done, noted = _watched_command(tmp_path, ["-c", _READ, str(work), *files], [work])
    assert done.returncode == 0, done.stderr
    assert _in_system_tmp(noted, tmp_path) == []
    made = [line.split(" ", 1)[1] for line in noted if line.startswith("os.mkdir ")]
    assert sum(Path(p).parent == work and Path(p).name.startswith("entries-read-") for p in made) == 2
    assert any(Path(p).name.startswith("entries-sheet-") for p in made)  # the child's copy, in there too
    assert not list(work.iterdir())  # each read's folder is gone when it returns


def test_a_night_changes_neither_the_environment_nor_tempfile_and_reads_under_its_spool(tmp_path, monkeypatch):
    # Three files: checked on this process's threads, where a change of os.environ or
    # tempfile.tempdir would be seen by every other thread (the portal's, in its process).
    inbox = tmp_path / "inbox"
    for centre in ("12345", "56789", "34567"):
        (inbox / centre).mkdir(parents=True)
    shutil.copy(SAMPLES / "12345" / "entries_june_2027.xlsx", inbox / "12345")
    shutil.copy(SAMPLES / "56789" / "entries.xlsx", inbox / "56789")
    shutil.copy(SAMPLES / "34567" / "entries_with_mistakes.xlsx", inbox / "34567")
    db = tmp_path / "db" / "entries.duckdb"
    read_child = reader._read_xlsx_in_child
    seen: list[tuple[dict[str, str], str | None, tuple]] = []

    def watched(*args):
        seen.append((dict(os.environ), tempfile.tempdir, args))
        return read_child(*args)

    monkeypatch.setattr(reader, "_read_xlsx_in_child", watched)
    environment, temp_folder = dict(os.environ), tempfile.tempdir
    code = main(
        ["--db", str(db), "--out", str(tmp_path / "out"), "nightly", str(inbox), "--in-process"]
        + ["--settle-seconds", "0", "--received-on", "2027-01-15", "--json"]
    )
    assert code == 0
    assert len(seen) == 3
    for inside, temp_inside, args in seen:
        assert inside == environment
        assert temp_inside == temp_folder
        assert Path(args[2]) == db.parent / "spool" / "tmp"  # the reader's work_dir: the store's spool
    assert (dict(os.environ), tempfile.tempdir) == (environment, temp_folder)


@pytest.fixture(scope="module")
def many_files_night(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """A night of five files, watched: (its folder, its store, what it made where watched). Four
    files or more are checked in worker processes, which inherit nothing of this process's
    settings: the folder must reach their readers explicitly."""
    root = tmp_path_factory.mktemp("night")
    inbox = root / "inbox"
    (inbox / "12345").mkdir(parents=True)
    for n in range(5):
        shutil.copy(SAMPLES / "34567" / "entries_with_mistakes.xlsx", inbox / "12345" / f"entries_{n}.xlsx")
    db = root / "db" / "entries.duckdb"
    argv = ["-m", "entries.cli", "--db", str(db), "--out", str(root / "out"), "nightly", str(inbox)]
    argv += ["--in-process", "--settle-seconds", "0", "--received-on", "2027-01-15"]
    done, noted = _watched_command(root, argv, [db.parent / "spool"])
    assert done.returncode == 0, done.stderr
    return root, db, noted


@pytest.mark.slow
def test_a_night_of_many_files_reads_only_under_its_spool(many_files_night):
    root, db, noted = many_files_night
    assert [p for p in _in_system_tmp(noted, root) if Path(p).name.startswith("entries-")] == []
    made = [Path(line.split(" ", 1)[1]) for line in noted if line.startswith("os.mkdir ")]
    reads = [p for p in made if p.name.startswith("entries-read-")]
    assert len(reads) == 5 and all(p.parent == db.parent / "spool" / "tmp" for p in reads)


@pytest.mark.slow
def test_a_night_makes_nothing_in_the_system_temporary_folder(many_files_night):
    # Annotated reports included: openpyxl's worksheet files are made beside the report
    # (entries.reports.workbook_save), not in the system's temporary folder.
    root, _db, noted = many_files_night
    assert _in_system_tmp(noted, root) == []


def test_crash_log_folder_for_a_run_is_set_without_touching_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTRIES_LOG_DIR", str(tmp_path / "operator-logs"))
    environment = dict(os.environ)
    try:
        raise ValueError("a cell's text, never logged")
    except ValueError as exc:
        with crash.logging_to(tmp_path / "db" / "logs"):
            assert dict(os.environ) == environment
            inside = crash.record(exc, "nightly checking")
        after = crash.record(exc, "entries ingest")
    assert dict(os.environ) == environment
    assert inside == tmp_path / "db" / "logs" / crash.LOG_NAME
    assert after == tmp_path / "operator-logs" / crash.LOG_NAME  # the operator's setting, read only
    assert "a cell's text" not in inside.read_text(encoding="utf-8")


def _crash_here(doing: str) -> str:
    """Run in a worker process: record a crash where that process was configured to."""
    try:
        raise RuntimeError("unexpected")
    except RuntimeError as exc:
        return str(crash.record(exc, doing))


def test_a_worker_process_logs_crashes_in_the_folder_it_was_given(tmp_path, monkeypatch):
    # A worker started from the fork server (as the nightly's checking workers are) inherits none
    # of its parent's settings: the folder travels with it, to its initializer.
    monkeypatch.delenv("ENTRIES_LOG_DIR", raising=False)
    folder = tmp_path / "db" / "logs"
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=crash.configure,
        initargs=(folder,),
    ) as pool:
        logged = Path(pool.submit(_crash_here, "nightly checking").result())
    assert logged == folder / crash.LOG_NAME
    assert "nightly checking: RuntimeError" in logged.read_text(encoding="utf-8")
    assert crash.configured() is None  # this process was not changed by its worker's setting
