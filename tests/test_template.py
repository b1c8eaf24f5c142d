"""The entries template workbook: layout, text formats, drop-downs, Help sheet, determinism."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from entries.core.errors import EntriesError, UsageError
from entries.intake.headers import REQUIRED_COLUMNS, TEMPLATE_COLUMNS, UNIT_COLUMNS
from entries.reports.template import FIRST_DATA_ROW, LAST_ROW, write_template


def _load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def _letter(column: str) -> str:
    return get_column_letter(TEMPLATE_COLUMNS.index(column) + 1)


def _validation(ws, column: str):
    """The data validation covering `column`'s first data row (exactly one expected)."""
    cell = f"{_letter(column)}{FIRST_DATA_ROW}"
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) == 1, f"{column}: {len(found)} validations"
    return found[0]


def _list_values(wb, dv) -> list[str]:
    """The values a list validation offers: inline `"a,b"` or a range on another sheet."""
    formula = dv.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, ref = formula.lstrip("=").split("!")
    ws = wb[sheet.strip("'")]
    values = []
    for row in ws[ref.replace("$", "")]:
        for cell in row:
            assert cell.data_type == "s", f"{cell.coordinate} not text"
            values.append(cell.value)
    return values


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Both templates (all codes; centre 34567), written once for the module: each costs ~2 s.

    Built from its own store loaded like conftest's `con`, since `con` is per test.
    """
    from entries.store import database, refdata
    from tests.conftest import REFERENCE

    folder = tmp_path_factory.mktemp("template")
    connection = database.connect(folder / "entries.duckdb")
    try:
        refdata.load_reference(connection, REFERENCE)
        return {
            None: _load(write_template(folder / "template.xlsx", connection)),
            "34567": _load(write_template(folder / "template-34567.xlsx", connection, centre="34567")),
        }
    finally:
        connection.close()


@pytest.fixture
def template(built):
    return built[None]


@pytest.fixture
def centre_template(built):
    return built["34567"]


def test_returns_path_and_leaves_no_temporary_files(con, tmp_path):
    out = tmp_path / "sub" / "t.xlsx"
    assert write_template(out, con) == out
    assert sorted(p.name for p in out.parent.iterdir()) == ["t.xlsx"]


def test_sheets_order_and_visibility(template):
    assert template.sheetnames[0] == "Entries"
    assert template.active.title == "Entries"
    assert "Help" in template.sheetnames
    assert template["Lists"].sheet_state == "hidden"


def test_header_row_exact_bold_and_frozen(template):
    ws = template["Entries"]
    header = [c.value for c in ws[1]]
    assert tuple(header) == TEMPLATE_COLUMNS
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"


def test_row_two_is_the_help_line(template):
    ws = template["Entries"]
    cells = [ws.cell(row=2, column=i + 1).value for i in range(len(TEMPLATE_COLUMNS))]
    assert cells[0].startswith("Help: delete this line before you submit.")
    assert all(isinstance(v, str) and v.strip() for v in cells[1:])
    assert cells[TEMPLATE_COLUMNS.index("Candidate Number")] == "4 digits, e.g. 0042"
    assert cells[TEMPLATE_COLUMNS.index("Date of Birth")] == "DD/MM/YYYY or YYYY-MM-DD"
    assert cells[TEMPLATE_COLUMNS.index("Entry Code")] == "e.g. 05838"


def test_centre_named_in_help_line_and_data_rows_empty(centre_template):
    ws = centre_template["Entries"]
    assert "34567" in ws["A2"].value
    assert ws["A2"].value.startswith("Help: delete this line")
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=LAST_ROW, values_only=True):
        assert all(v is None for v in row)


def test_every_column_formatted_as_text(template):
    ws = template["Entries"]
    for i, column in enumerate(TEMPLATE_COLUMNS, start=1):
        for row in (2, FIRST_DATA_ROW, 100, LAST_ROW):
            assert ws.cell(row=row, column=i).number_format == "@", f"{column} row {row}"
        for (cell,) in ws.iter_rows(min_row=2, max_row=LAST_ROW, min_col=i, max_col=i):
            assert cell.number_format == "@", cell.coordinate


def test_entry_code_dropdown_for_centre_only_its_suites(con, centre_template):
    dv = _validation(centre_template["Entries"], "Entry Code")
    assert dv.type == "list" and dv.allow_blank
    assert not dv.formula1.startswith('"'), "long lists go through the Lists sheet"
    offered = _list_values(centre_template, dv)

    def codes_of(suite: str) -> set[str]:
        return {
            code
            for (code,) in con.execute(
                "SELECT entry_code FROM ref_entry_codes JOIN ref_qualifications USING (qualification_code) "
                "WHERE suite_id = ?",
                [suite],
            ).fetchall()
        }

    assert len(offered) == len(set(offered))
    assert set(offered) == codes_of("L3-HSC")
    assert {"05860", "05861T1", "05860M2", "05864T4", "05863M5"} <= set(offered)
    assert not set(offered) & codes_of("L3-IT")
    assert not any(code.startswith("0583") or code.startswith("0584") for code in offered)


def test_entry_code_dropdown_without_centre_offers_all(con, template):
    offered = _list_values(template, _validation(template["Entries"], "Entry Code"))
    assert len(offered) == len(set(offered)) == 52
    all_codes = {c for (c,) in con.execute("SELECT entry_code FROM ref_entry_codes").fetchall()}
    assert set(offered) == all_codes


def test_unit_dropdown_offers_only_examined_units(con, template, centre_template):
    exam = {str(u) for (u,) in con.execute("SELECT unit_number FROM ref_units WHERE assessment = 'exam'").fetchall()}
    moderated_only = {
        str(u)
        for (u,) in con.execute(
            "SELECT unit_number FROM ref_units GROUP BY unit_number HAVING bool_and(assessment <> 'exam')"
        ).fetchall()
    }
    for wb in (template, centre_template):
        ws = wb["Entries"]
        dvs = {id(_validation(ws, column)) for column in UNIT_COLUMNS}
        assert len(dvs) == 1  # one validation covers all six unit columns
        offered = _list_values(wb, _validation(ws, UNIT_COLUMNS[0]))
        assert set(offered) == exam
        assert not set(offered) & moderated_only
        assert _validation(ws, UNIT_COLUMNS[0]).allow_blank


def test_sex_dropdown_is_m_f(template):
    dv = _validation(template["Entries"], "Sex")
    assert dv.type == "list"
    assert dv.formula1 == '"M,F"'
    assert dv.allow_blank


def test_dropdowns_start_below_the_help_line(template):
    for dv in template["Entries"].data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            assert rng.min_row == FIRST_DATA_ROW and rng.max_row == LAST_ROW


def test_help_sheet_has_a_row_per_column(template):
    rows = list(template["Help"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Column", "Required", "What to enter", "Example", "Rules")
    names = [r[0] for r in rows if r[0] in TEMPLATE_COLUMNS]
    assert names == list(TEMPLATE_COLUMNS)
    for r in rows[1 : len(TEMPLATE_COLUMNS) + 1]:
        assert r[1] == ("Required" if r[0] in REQUIRED_COLUMNS else "Optional")
        assert all(isinstance(v, str) and v for v in r[2:5])


def test_help_sheet_lists_centre_codes(centre_template):
    rows = list(centre_template["Help"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[:3] == ("Entry code", "Kind", "Title"))
    table = [r[:3] for r in rows[start + 1 :] if r[0]]
    assert len(table) == 13
    assert {r[0][:4] for r in table} == {"0586"}
    assert {r[1] for r in table} == {"Full award", "Top-up", "Moving down"}


@pytest.mark.slow
def test_writing_twice_gives_identical_values(built, con, tmp_path):
    for centre in (None, "34567"):
        first = built[centre]  # the module's, written from another store loaded the same way
        second = _load(write_template(tmp_path / "b.xlsx", con, centre))
        assert first.sheetnames == second.sheetnames
        for name in first.sheetnames:
            assert list(first[name].values) == list(second[name].values), name
        assert first.properties.created == second.properties.created
        assert first.properties.modified == second.properties.modified


def test_no_formulas_anywhere(template, centre_template):
    for wb in (template, centre_template):
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}"
                    assert not (isinstance(cell.value, str) and cell.value.startswith("="))


def test_overwrites_existing_file(con, tmp_path):
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"old")
    write_template(out, con)
    assert _load(out)["Entries"]["A1"].value == "Centre Number"


def test_bad_or_unapproved_centre(con, tmp_path):
    with pytest.raises(UsageError):
        write_template(tmp_path / "t.xlsx", con, centre="1234")
    with pytest.raises(EntriesError):
        write_template(tmp_path / "t.xlsx", con, centre="99999")
    assert not list(tmp_path.glob("*.tmp"))
    assert not (tmp_path / "t.xlsx").exists()
