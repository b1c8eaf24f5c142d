"""The streaming xlsx writer: any text reads back as written, numbers, money and dates stay typed,
the same rows give the same bytes, the workbook opens in openpyxl and calamine (fastexcel), sheet
names are ones Excel accepts, empty cells are left out, the used range is declared and every sheet
prints on A4 one page wide."""

from __future__ import annotations

import math
import re
import zipfile

import fastexcel
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from entries.intake.column_letters import column_letters
from entries.reports.xlsx_stream import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    EXCEL_MAX_TEXT,
    MAX_WIDTH,
    Pence,
    Sheet,
    excel_cut,
    write_sheet,
    write_workbook,
)

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def read_back(path) -> list[list[object]]:
    """The sheet as calamine decodes it (as Excel does: `_xHHHH_` sequences decoded)."""
    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
    return sheet.to_pandas().fillna("").values.tolist()


@given(st.integers(min_value=0, max_value=16_383))
def test_column_letters_are_excels(index):
    assert column_letters(index) == get_column_letter(index + 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40).filter(lambda t: t.strip() != ""))
def test_any_text_reads_back_as_written(tmp_path, text):
    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [((text, "after"), "plain")])
    expected = XML_ILLEGAL.sub("\ufffd", text)
    assert read_back(path)[0] == [expected, "after"]


@pytest.mark.parametrize(
    "text",
    ["=1+2", '=HYPERLINK("http://x","y")', "+Ann", "-5", "@home", "_x0041_Lee", "a & b <c>", "  padded  "],
)
def test_text_that_looks_like_something_else_stays_text(tmp_path, text):
    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [((text,), "plain")])
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws.cell(1, 1).data_type == "s"
    assert read_back(path)[0] == [text]


def test_numbers_money_and_booleans_are_typed_cells(tmp_path):
    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [(("n", 3, 2.5, Pence(123456), True, None, "end"), "bold")])
    ws = openpyxl.load_workbook(path).worksheets[0]
    values = [ws.cell(1, c).value for c in range(1, 8)]
    assert values == ["n", 3, 2.5, 1234.56, True, None, "end"]
    assert ws.cell(1, 4).number_format == '"£"#,##0.00' and ws.cell(1, 4).font.b
    assert ws.cell(1, 1).font.b


def test_numpy_numbers_are_number_cells(tmp_path):
    import numpy as np

    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [((np.int64(7), np.float64(2.5)), "plain")])
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [ws.cell(1, c).value for c in (1, 2)] == [7, 2.5]
    assert ws.cell(1, 1).data_type == "n" and ws.cell(1, 2).data_type == "n"


def test_looks_title_label_and_widths(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [(("Title",), "title"), (("Label", "value"), "label"), ((), "plain"), (("a", Pence(5)), "plain")]
    write_sheet(path, "Confirmation", rows, widths=(18, 0.5))
    ws = openpyxl.load_workbook(path)["Confirmation"]
    assert ws.cell(1, 1).font.b and ws.cell(1, 1).font.sz == 14
    assert ws.cell(2, 1).font.b and not ws.cell(2, 2).font.b
    assert ws.cell(4, 2).number_format == '"£"#,##0.00' and not ws.cell(4, 2).font.b
    assert ws.column_dimensions["A"].width == pytest.approx(18.71, abs=0.01)
    assert ws.max_row == 4


def test_the_same_rows_give_the_same_bytes(tmp_path):
    rows = [((f"{n:04d}", f"Name {n}", Pence(n)), "plain") for n in range(2_000)]
    write_sheet(tmp_path / "a.xlsx", "Sheet", rows)
    write_sheet(tmp_path / "b.xlsx", "Sheet", rows)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert len(read_back(tmp_path / "a.xlsx")) == 2_000


def test_text_longer_than_a_cell_holds_is_cut_where_excel_cuts_it(tmp_path):
    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [(("x" * (EXCEL_MAX_TEXT + 10),), "plain")])
    assert len(read_back(path)[0][0]) == EXCEL_MAX_TEXT


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_number_no_workbook_holds_is_refused(tmp_path, value):
    with pytest.raises(ValueError, match="B1"):
        write_sheet(tmp_path / "t.xlsx", "Sheet", [(("x", value), "plain")])


# --- types, names, empty cells, the used range (issue 23) --------------------------------------


def test_dates_and_datetimes_are_date_cells(tmp_path):
    import datetime as dt

    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [((dt.date(2027, 1, 15), dt.datetime(2027, 1, 15, 9, 30)), "plain")])
    ws = openpyxl.load_workbook(path).worksheets[0]
    day, moment = ws.cell(1, 1), ws.cell(1, 2)
    assert day.is_date and day.number_format == DATE_FORMAT and day.value == dt.datetime(2027, 1, 15)
    assert (
        moment.is_date and moment.number_format == DATETIME_FORMAT and moment.value == dt.datetime(2027, 1, 15, 9, 30)
    )


def test_a_datetime_with_a_time_zone_is_refused(tmp_path):
    import datetime as dt

    with pytest.raises(ValueError, match="time zone"):
        write_sheet(tmp_path / "t.xlsx", "Sheet", [((dt.datetime(2027, 1, 15, tzinfo=dt.UTC),), "plain")])


@pytest.mark.parametrize(
    "names",
    [
        [""],
        ["x" * 32],
        ["History"],
        ["history"],
        ["a:b"],
        ["a/b"],
        ["a\\b"],
        ["a?"],
        ["a*"],
        ["[a"],
        ["a]"],
        ["'a"],
        ["a'"],
        ["Data", "data"],
    ],
)
def test_sheet_names_excel_refuses_are_refused(tmp_path, names):
    with pytest.raises(ValueError, match="sheet name"):
        write_workbook(tmp_path / "t.xlsx", [Sheet(name, [(("x",), "plain")]) for name in names])
    assert not (tmp_path / "t.xlsx").exists()


@pytest.mark.parametrize("name", ["Sheet", "Credit notes", "O'Brien's", "x" * 31])
def test_sheet_names_excel_accepts_are_written_as_given(tmp_path, name):
    write_workbook(tmp_path / "t.xlsx", [Sheet(name, [(("x",), "plain")]), Sheet("Other", [])])
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames == [name, "Other"]


def test_the_cell_limit_counts_utf16_units_an_emoji_two(tmp_path):
    path = tmp_path / "t.xlsx"
    emoji = "\U0001f600"  # two UTF-16 code units
    write_sheet(path, "Sheet", [((emoji * EXCEL_MAX_TEXT,), "plain"), (("a" + emoji * 20_000,), "plain")])
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws.cell(1, 1).value == emoji * (EXCEL_MAX_TEXT // 2)  # 16,383 emoji: 32,766 units
    assert ws.cell(2, 1).value == "a" + emoji * 16_383  # 32,767 units exactly
    assert excel_cut("x" * EXCEL_MAX_TEXT) == "x" * EXCEL_MAX_TEXT


def test_none_and_empty_text_leave_the_cell_out(tmp_path):
    path = tmp_path / "t.xlsx"
    write_sheet(path, "Sheet", [(("a", "", None, "d", ""), "plain"), (("", None), "plain"), (("z",), "plain")])
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert re.findall(r'<c r="([A-Z]+[0-9]+)"', xml) == ["A1", "D1", "A3"]
    assert "<t></t>" not in xml and '<row r="2"' not in xml


def test_the_dimension_names_the_used_range(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [(("a", "b"), "plain"), (("c", None, None, 4, None), "plain"), ((), "plain"), ((None, ""), "plain")]
    write_sheet(path, "Sheet", rows)
    quick = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    assert quick.calculate_dimension() == "A1:D2" and quick.max_row == 2 and quick.max_column == 4
    write_sheet(path, "Sheet", [])
    assert openpyxl.load_workbook(path, read_only=True).worksheets[0].calculate_dimension() == "A1:A1"


def test_columns_are_as_wide_as_their_widest_cell_up_to_the_cap(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [(("Code", "Title", "Fee"), "header"), (("05838", "t" * 30, Pence(1234567)), "plain")]
    rows.append((("0042", "x" * 200, Pence(1)), "plain"))
    rows.append((("A note that runs on over the empty cells beside it, however long it is",), "plain"))
    write_sheet(path, "Sheet", rows)
    ws = openpyxl.load_workbook(path).worksheets[0]
    widths = [ws.column_dimensions[letter].width for letter in "ABC"]
    assert 5 <= widths[0] < 10  # the longest code, not the note below it
    assert widths[1] == pytest.approx(_width(MAX_WIDTH))  # capped: the 200 characters wrap
    assert ws.cell(3, 2).alignment.wrap_text and ws.row_dimensions[3].height > 15
    assert widths[2] >= len("£12,345.67")


def test_every_sheet_prints_on_a4_one_page_wide_with_its_header_row_repeated(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [(("Report",), "title"), (("Code", "Name"), "header"), *[((f"{n:04d}", "x"), "plain") for n in range(99)]]
    write_workbook(path, [Sheet("Sheet", rows, reference="OCR-2027-000001 & more")])
    ws = openpyxl.load_workbook(path).worksheets[0]
    setup = ws.page_setup
    assert (setup.paperSize, setup.orientation, setup.fitToWidth, setup.fitToHeight) == (9, "portrait", 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$2:$2"
    assert ws.oddFooter.left.text == "OCR-2027-000001 && more" and "&P" in ws.oddFooter.right.text


def _width(characters: float) -> float:
    # Excel's stored width for a column of `characters` (padding added, as the writer stores it).
    return int((int(characters * 7 + 0.5) + 5) / 7 * 256) / 256
