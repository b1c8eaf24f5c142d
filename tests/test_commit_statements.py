"""The commit is set-based: the statements it sends do not grow with the file's size.

Counted through a wrapper around the connection (never timed): a 500-row file must take no more
statements than a 50-row one, for new candidates, for candidates already on record, and for a file
whose entries replace earlier ones.
"""

from __future__ import annotations

import datetime as dt
import shutil
import string
from pathlib import Path

import pytest

from entries.checks.validate import Context
from entries.core.status import Status
from entries.pipeline.hall import prepare
from entries.store import database, refdata
from entries.store.commit import commit

HEADER = (
    "Centre Number,Candidate Number,UCI,ULN,Surname,Forenames,Sex,Date of Birth,Entry Code,"
    "Unit 1,Unit 2,Unit 3,Unit 4,Unit 5,Unit 6,Candidate Group"
)
CTX = Context(centre="12345", series="2027-06", received_on=dt.date(2027, 1, 15))


class Counting:
    """A DuckDB connection that counts the statements sent through it."""

    def __init__(self, con) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, sql: str, *args, **kwargs):
        self.statements.append(" ".join(sql.split())[:60])
        return self._con.execute(sql, *args, **kwargs)

    def executemany(self, sql: str, *args, **kwargs):
        self.statements.append("many: " + " ".join(sql.split())[:54])
        return self._con.executemany(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def _name(n: int) -> str:
    """A distinct name of letters for candidate `n` (names may not hold digits)."""
    letters = string.ascii_lowercase
    out = ""
    for _ in range(4):
        n, r = divmod(n, 26)
        out += letters[r]
    return out.capitalize()


def _upload(folder: Path, rows: int, entry_code: str = "05838", units: str = ",,,,,") -> Path:
    path = folder / f"{rows}_{entry_code}_{units.count(',')}.csv"
    lines = [HEADER]
    for n in range(1, rows + 1):
        born = dt.date(2008, 9, 1) + dt.timedelta(days=n % 360)
        lines.append(
            f"12345,{n:04d},,,{_name(n)},{_name(n * 7 + 3)},{'FM'[n % 2]},{born:%d/%m/%Y},{entry_code},{units},13A"
        )
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _statements(con, path: Path) -> tuple[int, Status]:
    reference = refdata.snapshot(con)
    prepared = prepare(path, CTX, reference)
    counting = Counting(con)
    outcome = commit(counting, prepared, reference, order_ref="PO-1")
    return len(counting.statements), outcome.status


@pytest.mark.parametrize(
    ("first", "then", "active"),
    [
        (None, ("05838", ",,,,,"), 1),  # every candidate new
        (("05838", "1,,,,,"), ("05838", "2,,,,,"), 2),  # every candidate on record (unit entries, then more)
        (("05838", ",,,,,"), ("05839T1", ",,,,,"), 1),  # a top-up replaces each full award
    ],
)
def test_statements_do_not_grow_with_the_file(loaded_store, tmp_path, first, then, active):
    counts = {}
    for rows in (50, 500):
        folder = tmp_path / str(rows)
        folder.mkdir()
        store = folder / "e.duckdb"
        shutil.copyfile(loaded_store, store)
        each = database.connect(store)
        try:
            if first is not None:
                assert _statements(each, _upload(folder, rows, *first))[1] == Status.PROCESSING_COMPLETE
            counts[rows], status = _statements(each, _upload(folder, rows, *then))
            assert status == Status.PROCESSING_COMPLETE
            stored = each.execute("SELECT count(*) FROM entries WHERE replaced_by IS NULL").fetchall()[0][0]
            assert stored == rows * active
        finally:
            each.close()
    print(f"statements per commit: {counts}")
    assert counts[500] == counts[50], counts
    assert counts[500] <= 40, counts
