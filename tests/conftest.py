"""Test settings: Prefect runs quiet, with no analytics, in a temporary home of its own."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# No timing in tests: speed is measured by benchmarks/, never asserted (hypothesis' deadline is a timer).
settings.register_profile("entries", deadline=None, print_blob=True)
settings.load_profile("entries")

# Set before anything imports prefect: its settings are read at import time.
_PREFECT_HOME = tempfile.mkdtemp(prefix="entries-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.pop("ENTRIES_DB", None)
os.environ.pop("ENTRIES_OUT", None)

PROJECT = Path(__file__).resolve().parent.parent
REFERENCE = PROJECT / "reference_data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 - pytest hook signature
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


# Every test on the session's Prefect API is in this xdist group: one worker starts the API once.
PREFECT_GROUP = "prefect"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups (`--dist loadgroup`)
def pytest_collection_modifyitems(config, items):  # noqa: ARG001 - pytest hook signature
    """Slow tests first, and the tests using `prefect_harness` in one xdist group.

    Under `-n 2` each worker takes the next test (or whole group) when it is free, so the long ones
    are started first, not left for the end where one worker would run them while the other idles.
    The order is otherwise kept (a stable sort), the same in every worker, as xdist requires."""
    for item in items:
        if "prefect_harness" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(PREFECT_GROUP))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh store path per test."""
    return tmp_path / "entries.duckdb"


@pytest.fixture(scope="session")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the project's reference data loaded, built once per test process."""
    from entries.store import database, refdata

    path = tmp_path_factory.mktemp("loaded") / "loaded.duckdb"
    connection = database.connect(path)
    refdata.load_reference(connection, REFERENCE)
    connection.execute("CHECKPOINT")
    connection.close()
    return path


@pytest.fixture
def con(db_path: Path, loaded_store: Path):
    """A fresh store with the project's reference data loaded (a copy of the one built once)."""
    from entries.store import database

    shutil.copyfile(loaded_store, db_path)
    connection = database.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's reference data, to break one thing in."""
    target = tmp_path / "reference"
    shutil.copytree(REFERENCE, target)
    return target


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (starting it costs 10-25 s), its database in a
    temporary folder of its own; its URL is `PREFECT_API_URL.value()`, for child processes to use.
    Under xdist one per worker, and the tests using it are in one group (see above): started once."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def stored(db: Path, sql: str) -> list[tuple]:
    """The rows `sql` finds in the store at `db` (opened for this query only)."""
    from entries.store import database

    con = database.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def libreoffice() -> str:
    """LibreOffice, for the print tests (tests/printing.py); they skip, saying why, where it is not installed."""
    from tests.printing import soffice

    found = soffice()
    if found is None or shutil.which("pdfinfo") is None:
        pytest.skip(
            "no LibreOffice: Debian's libreoffice-calc and poppler-utils are not installed (.ci/run installs them)"
        )
    return found


@pytest.fixture
def chromium() -> str:
    """Debian's chromium, for the browser tests; they skip, saying why, where it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no browser: Debian's chromium package is not installed (.ci/run installs it)")
    return found


ENTRIES_HEADER = (
    "Centre Number,Candidate Number,UCI,ULN,Surname,Forenames,Sex,Date of Birth,Entry Code,"
    "Unit 1,Unit 2,Unit 3,Unit 4,Unit 5,Unit 6,Candidate Group"
)

# Surname and forenames of each candidate number the tests enter (each born on another day too, so
# no two look like one person entered twice).
ENTRY_PEOPLE = {"0042": "Smith,Amy", "0043": "Okafor,Bilal", "0044": "Novak,Chloe"}


# The command line on a fresh store, and centre 12345's entries made through it (withdrawals,
# credit notes and the money property use them).
@pytest.fixture
def cli(tmp_path, loaded_store):
    """Run `entries` on a fresh store with the reference data: (exit code, stdout, stderr)."""
    from entries.cli import main  # not at import: the Prefect settings above come first

    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    base = ["--db", str(db), "--out", str(tmp_path / "out")]

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*base, *args])
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture
def ingest(cli, tmp_path):
    """Ingest rows (candidate number, entry code[, group]) for centre 12345 as one new file; returns
    the ingest JSON. The group makes each file's bytes differ when the same entry comes again."""
    from entries.intake.uci import complete

    made = iter(range(1, 1000))

    def _ingest(rows: list[tuple[str, ...]], series: str = "2027-06", received: str = "2027-01-15") -> dict:
        path = tmp_path / f"entries_{next(made)}.csv"
        lines = [ENTRIES_HEADER]
        for number, code, *group in rows:
            uci = complete(f"12345026{number}")
            lines.append(
                f"12345,{number},{uci},,{ENTRY_PEOPLE[number]},F,{int(number) % 28 + 1:02d}/05/2009,{code},,,,,,,"
                f"{group[0] if group else '13A'}"
            )
        path.write_text("\n".join(lines) + "\n")
        code, out, err = cli(
            "ingest", str(path), "--centre", "12345", "--series", series, "--received-on", received, "--json"
        )
        return json.loads(out) | {"exit": code, "stderr": err}

    return _ingest


def uci_of(number: str) -> str:
    """Centre 12345's UCI for candidate number `number` (2026 intake)."""
    from entries.intake.uci import complete

    return complete(f"12345026{number}")


def withdraw(cli, *args: str) -> tuple[int, dict | None, str]:
    """`entries withdraw --centre 12345 ARGS --json`: (exit code, its JSON when 0, stderr)."""
    code, out, err = cli("withdraw", "--centre", "12345", *args, "--json")
    return code, (json.loads(out) if code == 0 else None), err
