"""The confirmation's own xlsx writer: any text reads back as written, numbers stay numbers, the
same rows give the same bytes, and the workbook opens in openpyxl and calamine (fastexcel)."""

from __future__ import annotations

import math
import re

import fastexcel
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from entries.intake.column_letters import column_letters
from entries.reports.xlsx_stream import EXCEL_MAX_TEXT, Pence, write_sheet

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
