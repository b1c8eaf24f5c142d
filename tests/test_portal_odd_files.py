"""Odd CSV files, at the intake and through the portal (issue 22 item 5): a cell longer than the csv
module's field limit (131,072 characters) is `Upload failed` with FILE_29 naming its row and column,
recorded like any upload, never a 500; a first line of many long cells, none over the limit, is read.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from starlette.testclient import TestClient

from entries.core import clock
from entries.intake.csvfile import read_csv_text
from entries.intake.reader import read_upload
from entries.intake.sniff import Refused
from entries.store import database
from tests import test_portal
from tests.conftest import FIXTURES
from tests.test_portal import status_of, upload

portal = test_portal.portal  # the portal's fixture: a store with two centres' users and an operator

TODAY = dt.date(2027, 1, 20)
HEADER = (
    "Centre Number,Candidate Number,UCI,ULN,Surname,Forenames,Sex,Date of Birth,Entry Code,"
    "Unit 1,Unit 2,Unit 3,Unit 4,Unit 5,Unit 6,Candidate Group"
)  # 16 columns, A to P
ROW = "12345,0042,123450260042C,1000000043,Smith,Amy,F,2009-05-14,05838,,,,,,,13A"
LONG = "x" * 140_000


def _long_first_line(tmp_path, name: str = "long_first_line.csv"):
    """The template's header with a 17th heading (column Q) of 140,000 characters, then one row."""
    path = tmp_path / name
    path.write_bytes(f"{HEADER},{LONG}\r\n{ROW}\r\n".encode())
    return path


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        (f"{HEADER},{LONG}\n{ROW}\n", 1, "Q"),  # the first line, read when the delimiter is sniffed
        (f'{HEADER},"{LONG}"\n{ROW}\n', 1, "Q"),  # in quotes
        (f'{HEADER},"a""b,{LONG}"\n{ROW}\n', 1, "Q"),  # in quotes holding a doubled quote and a comma
        (f"{HEADER};{LONG}\n{ROW}\n".replace(",", ";"), 1, "Q"),  # semicolons: the column as they split it
        (f'{HEADER}\n{ROW}\n{ROW[:20]},"an unclosed quote\n' + f"{ROW}\n" * 3000, 3, "D"),  # runs to the end
        (f'{HEADER}\n"two\nlines",{LONG}\n', 2, "B"),  # after a record of two lines
        (f"\n\n{HEADER}\n{ROW},{LONG}\n", 4, "Q"),  # blank lines first: rows as the spreadsheet numbers them
        (LONG, 1, "A"),  # one line, one cell
    ],
    ids=[
        "first-line",
        "quoted",
        "doubled-quote",
        "semicolon",
        "unclosed-quote",
        "multi-line-record",
        "blank-lines",
        "one-cell",
    ],
)
def test_a_cell_over_the_csv_field_limit_is_refused_naming_its_row_and_column(text, row, column):
    with pytest.raises(Refused) as refused:
        read_csv_text(text.encode())
    assert refused.value.code == "FILE_29"
    assert (refused.value.params["row"], refused.value.params["column"], refused.value.params["record"]) == (
        row,
        column,
        row,
    )


def test_the_fixture_over_the_csv_field_limit_names_row_3_column_e():
    with pytest.raises(Refused) as refused:
        read_upload(FIXTURES / "intake" / "cell_over_csv_field_limit.csv")
    assert (refused.value.code, refused.value.params["row"], refused.value.params["column"]) == ("FILE_29", 3, "E")


def test_a_first_line_of_many_long_cells_none_over_the_limit_is_read():
    # 70 cells of 2,000 characters: 140,000 on the line, though no cell is near the limit. Split on
    # a delimiter the file does not use, the line is one cell over it: that must not refuse the file.
    text = ",".join(["z" * 2000] * 70) + "\n" + ROW + "\n"
    read = read_csv_text(text.encode())
    assert read.delimiter == "," and read.cells.shape == (2, 70)


def test_a_csv_whose_first_line_has_a_140000_character_cell_is_recorded_upload_failed_through_the_portal(
    portal, monkeypatch
):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    client, db, tmp = portal
    c, token = client("northfield")
    c = TestClient(c.app, raise_server_exceptions=False, cookies=c.cookies)  # a 500 is an answer here, not a raise
    r = upload(c, token, _long_first_line(tmp))
    assert r.status_code == 200
    assert status_of(r.text) == "Upload failed"
    assert re.search(r'<tr class="error"><td>1</td><td>Q</td><td>FILE_29</td>', r.text)
    con = database.connect(db)
    try:
        recorded = con.execute(
            "SELECT s.status, s.reason_code, i.row_number, i.column_name FROM submissions s "
            "JOIN submission_issues i USING (submission_id) WHERE i.code = 'FILE_29'"
        ).fetchall()
    finally:
        con.close()
    assert recorded == [("Upload failed", "FILE_29", 1, "Q")]
