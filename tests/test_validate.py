"""Row validation: one table of rows per rule code, valid and invalid, plus file-level rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import string

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entries.checks.validate import Context, validate
from entries.core.rules import catalogue
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.store import database, refdata

CTX = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 11, 28))
VALID = {
    "Centre Number": "12345",
    "Candidate Number": "0042",
    "UCI": "123450260042C",
    "ULN": "1000000043",
    "Surname": "Smith",
    "Forenames": "Amy",
    "Sex": "F",
    "Date of Birth": "2009-05-14",
    "Entry Code": "05838",
    "Unit 1": "",
    "Unit 2": "",
    "Unit 3": "",
    "Unit 4": "",
    "Unit 5": "",
    "Unit 6": "",
    "Candidate Group": "13A",
    "Series": "",
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return refdata.snapshot(database.connect(tmp_path_factory.mktemp("ref") / "ref.duckdb"))


def frame(*rows: dict) -> pd.DataFrame:
    records = [{"row": 2 + i, **VALID, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(records, columns=["row", *TEMPLATE_COLUMNS]).astype({c: "str" for c in TEMPLATE_COLUMNS})


def codes_at(result, row: int = 2) -> set[tuple[str, str | None]]:
    return {(i.code, i.column) for i in result.issues if i.row == row}


# (code, column the issue is on, cells that break the rule, cells that keep to it)
RULES = [
    ("CEN_01", "Centre Number", [{"Centre Number": "1234x"}, {"Centre Number": "123456"}], [{}]),
    ("CEN_02", "Centre Number", [{"Centre Number": "23456"}], [{"Centre Number": "12345"}]),
    (
        "CAN_01",
        "Candidate Number",
        [{"Candidate Number": "42"}, {"Candidate Number": "0000"}, {"Candidate Number": "abcd"}],
        [{"Candidate Number": "0001"}, {"Candidate Number": "9999"}],
    ),
    ("UCI_01", "UCI", [{"UCI": ""}], [{}]),
    ("UCI_02", "UCI", [{"UCI": "12345026004"}, {"UCI": "123450260042CC"}], [{"UCI": ""}, {"UCI": "123450260042C"}]),
    ("UCI_03", "UCI", [{"UCI": "1234A0260042C"}, {"UCI": "12345026004AC"}], [{"UCI": "12345A260042K"}]),
    (
        "UCI_04",
        "UCI",
        [{"UCI": "123450260042D"}, {"UCI": "999990140001X"}, {"UCI": "681990012058H"}],
        [{"UCI": "681990012058G"}, {"UCI": "689990980001D"}, {"UCI": "999990140001B"}, {"UCI": "123450260042c"}],
    ),
    ("UCI_05", "UCI", [{"UCI": "123450260042"}], [{"UCI": "123450260042C"}]),
    ("UCI_06", "UCI", [{"UCI": "681990012058G"}], [{"UCI": "123450260042C"}]),
    ("ULN_01", "ULN", [{"ULN": "12345"}, {"ULN": "12345678901"}], [{"ULN": ""}, {"ULN": "1234567899"}]),
    ("ULN_02", "ULN", [{"ULN": "9999999999"}, {"ULN": "TBC"}, {"ULN": "0000000000"}], [{"ULN": "1000000051"}]),
    (
        "ULN_03",
        "ULN",
        [{"ULN": "1000000063"}, {"ULN": "1000000042"}],
        [{"ULN": "1000000043"}, {"ULN": "1234567899"}, {"ULN": "1000000051"}],
    ),
    ("NAM_01", "Surname", [{"Surname": ""}, {"Surname": "   "}], [{"Surname": "Li"}]),
    ("NAM_02", "Forenames", [{"Forenames": ""}], [{"Forenames": "Amy"}]),
    (
        "NAM_03",
        "Surname",
        [{"Surname": "Sm1th"}, {"Surname": "Smith!"}, {"Surname": "=HYPERLINK(1)"}],
        [
            {"Surname": "O'Brien"},
            {"Surname": "Smith-Jones"},
            {"Surname": "St. John"},
            {"Surname": "Nguyễn"},
            {"Surname": "Nguye\u0302\u0303n"},  # the same letter spelt with combining accents (Excel 95)
            {"Surname": "O\u2019Neill"},
            {"Surname": "O\u2018Neill"},
            {"Surname": "Smith\u2010Jones"},
            {"Surname": "Smith\u2011Jones"},
        ],
    ),
    (
        "NAM_04",
        "Forenames",
        [{"Forenames": "Zoë"}, {"Forenames": "Siân"}, {"Forenames": "Renée\u2011Claire"}],
        [{"Forenames": "Zoe"}, {"Forenames": "O\u2019Neill"}, {"Forenames": "Anne\u2011Marie"}],
    ),
    # Typographic apostrophes and hyphens are name punctuation, not accents: a warning of their own.
    (
        "NAM_08",
        "Surname",
        [{"Surname": "O\u2019Neill"}, {"Surname": "O\u02bcNeill"}, {"Surname": "Smith\u2010Jones"}],
        [{"Surname": "O'Neill"}, {"Surname": "Smith-Jones"}, {"Surname": "Zoë"}],
    ),
    ("NAM_05", "Surname", [{"Surname": "Sm\x00ith"}, {"Surname": "Sm\x0bith"}], [{"Surname": "Smith"}]),
    (
        "NAM_06",
        "Surname",
        [{"Surname": " Smith"}, {"Surname": "Smith\u00a0"}, {"Surname": "Smi\u200bth"}, {"Surname": "Le  Roux"}],
        [{"Surname": "Le Roux"}],
    ),
    (
        "NAM_07",
        "Surname",
        [{"Surname": "Featherstonehaugh-Wolfeschlegel", "Forenames": "Amelia Jane"}],
        [{"Surname": "Featherstonehaugh", "Forenames": "Amelia Jane"}],
    ),
    ("CELL_06", "Surname", [{"Surname": "a" * 32_768}], [{"Surname": "a" * 100}]),
    ("SEX_01", "Sex", [{"Sex": "X"}, {"Sex": ""}, {"Sex": "Man"}], [{"Sex": "M"}, {"Sex": "F"}]),
    ("SEX_02", "Sex", [{"Sex": "Male"}, {"Sex": "female"}, {"Sex": "m"}], [{"Sex": "M"}]),
    (
        "DOB_01",
        "Date of Birth",
        [{"Date of Birth": "31/02/2009"}, {"Date of Birth": "not a date"}, {"Date of Birth": ""}],
        [{"Date of Birth": "2009-05-14"}],
    ),
    (
        "DOB_05",
        "Date of Birth",
        [{"Date of Birth": "14/05/09"}, {"Date of Birth": "1/5/09"}, {"Date of Birth": "14.05.09"}],
        [{"Date of Birth": "14/05/2009"}, {"Date of Birth": "2009-05-14"}],
    ),
    (
        "SER_01",
        "Series",
        [{"Series": "next summer"}, {"Series": "Jun 27"}, {"Series": "2027-13"}, {"Series": "06/2027"}],
        [{"Series": "June 2027"}, {"Series": "2027-06"}, {"Series": "jun 2027"}, {"Series": ""}],
    ),
    ("SER_02", "Series", [{"Series": "2031-06"}, {"Series": "May 2027"}], [{"Series": "2027-06"}]),
    ("DOB_02", "Date of Birth", [{"Date of Birth": "2026-12-01"}], [{"Date of Birth": "2010-01-01"}]),
    (
        "DOB_03",
        "Date of Birth",
        [{"Date of Birth": "2014-06-02"}, {"Date of Birth": "2016-01-01"}],
        [{"Date of Birth": "2014-06-01"}],
    ),
    (
        "DOB_04",
        "Date of Birth",
        [{"Date of Birth": "1927-06-01"}, {"Date of Birth": "1900-01-01"}],
        [{"Date of Birth": "1927-06-02"}],
    ),
    ("ENT_01", "Entry Code", [{"Entry Code": ""}], [{"Entry Code": "05838"}]),
    ("ENT_02", "Entry Code", [{"Entry Code": "05899"}, {"Entry Code": "05838T9"}], [{"Entry Code": "05839T1"}]),
    ("ENT_03", "Entry Code", [{"Entry Code": "05860"}, {"Entry Code": "05871T1"}], [{"Entry Code": "05850"}]),
    ("UNI_01", "Unit 1", [{"Unit 1": "x"}, {"Unit 1": "1.5"}], [{"Unit 1": "1"}]),
    ("UNI_02", "Unit 1", [{"Unit 1": "3"}], [{"Unit 1": "1"}, {"Entry Code": "05839", "Unit 1": "3"}]),
    ("UNI_03", "Unit 1", [{"Entry Code": "05839", "Unit 1": "4"}], [{"Entry Code": "05839", "Unit 1": "6"}]),
    ("UNI_04", "Unit 2", [{"Unit 1": "1", "Unit 2": "1"}], [{"Unit 1": "1", "Unit 2": "2"}]),
    (
        "UNI_05",
        "Unit 1",
        [{"Entry Code": "05839T1", "Unit 1": "1"}, {"Entry Code": "05838M2", "Unit 1": "1"}],
        [{"Entry Code": "05839T1"}],
    ),
]


@pytest.mark.parametrize(("code", "column", "bad", "good"), RULES, ids=[r[0] for r in RULES])
def test_rule(reference, code, column, bad, good):
    rule = catalogue()[code]
    assert bad, f"{code} has no cells that break it"
    for cells in bad:
        result = validate(frame(cells), CTX, reference)
        assert (code, column) in codes_at(result), (cells, codes_at(result))
        assert {i.severity for i in result.issues if i.code == code} == {rule.severity}, cells
        # An error rule rejects the row; a warning rule never does on its own (these cells break nothing else).
        assert result.has_errors == (rule.severity == "error"), (cells, [(i.code, i.severity) for i in result.issues])
    for cells in good:
        result = validate(frame(cells), CTX, reference)
        assert code not in {c for c, _ in codes_at(result)}, (cells, codes_at(result))


def test_the_valid_row_has_no_issues(reference):
    assert validate(frame({}), CTX, reference).issues == []


def _without_fee(reference):
    fees = reference.tables["fees"]
    trimmed = fees[~((fees.series == "2027-06") & (fees.entry_code == "05838"))]
    return dataclasses.replace(reference, tables={**reference.tables, "fees": trimmed})


# Rules that need another context, other reference data or more than one row:
# (code, rows, Context changes, reference change, every (row, column) the code must be on)
WHOLE_FILE_RULES = [
    ("CEN_03", [{"Centre Number": "99999"}], {"centre": "99999"}, None, {(None, "Centre Number")}),
    ("ENT_04", [{}], {}, _without_fee, {(2, "Entry Code")}),
    ("ENT_05", [{}, {}], {"received_on": dt.date(2027, 2, 22)}, None, {(None, "Series")}),
    ("ENT_06", [{}], {"received_on": dt.date(2027, 4, 22)}, None, {(2, "Series")}),
    # A row naming a closed series is refused on that row; the next row, for June, is not.
    (
        "ENT_06",
        [{"Series": "2027-01"}, {"Candidate Number": "0043", "UCI": ""}],
        {"received_on": dt.date(2026, 12, 2)},
        None,
        {(2, "Series")},
    ),
    ("ROW_01", [{}, {}], {}, None, {(3, None)}),
    (
        "ROW_02",
        [{"UCI": ""}, {"UCI": "", "Forenames": "Ben"}],
        {},
        None,
        {(2, "Candidate Number"), (3, "Candidate Number")},
    ),
    ("ROW_03", [{}, {"Candidate Number": "0043"}], {}, None, {(2, "UCI"), (3, "UCI")}),
]


@pytest.mark.parametrize(
    ("code", "rows", "context", "change", "places"), WHOLE_FILE_RULES, ids=[r[0] for r in WHOLE_FILE_RULES]
)
def test_whole_file_rule(reference, code, rows, context, change, places):
    result = validate(frame(*rows), dataclasses.replace(CTX, **context), change(reference) if change else reference)
    assert {(i.row, i.column) for i in result.issues if i.code == code} == places
    assert {i.severity for i in result.issues if i.code == code} == {catalogue()[code].severity}


ROW_CATEGORIES = {"centre", "candidate", "uci", "uln", "name", "sex", "dob", "entry", "unit", "row"}


def test_every_row_rule_in_the_catalogue_is_produced_here():
    # Only the two tables count: each of their rows is a test that fails unless validate() raises the code.
    # (tests/test_rule_coverage.py does the same for every code of the catalogue.)
    row_rules = {c for c, rule in catalogue().items() if rule.category in ROW_CATEGORIES}
    cases = [r[0] for r in RULES if r[2]] + [r[0] for r in WHOLE_FILE_RULES if r[4]]
    assert row_rules - set(cases) == set()
    assert set(cases) - set(catalogue()) == set()


def test_message_placeholders_never_shadow_issue_fields():
    # `file` and `column` are filled from the issue's own place; these would clash with issue()'s arguments.
    reserved = {"code", "row", "severity"}
    for rule in catalogue().values():
        names = {f for _, f, _, _ in string.Formatter().parse(rule.message + rule.fix) if f}
        assert not names & reserved, rule.code


def test_normalised_row_is_typed_and_completed(reference):
    result = validate(
        frame({"UCI": "123450260042", "Sex": "female", "Surname": " Smith\u00a0", "Unit 1": "1"}), CTX, reference
    )
    row = result.rows.iloc[0]
    assert (row["uci"], row["sex"], row["surname"], row["unit_1"]) == ("123450260042C", "F", "Smith", 1)
    assert row["date_of_birth"] == pd.Timestamp("2009-05-14")
    from schemas.upload import NORMALISED_ROW

    NORMALISED_ROW.validate(result.rows)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (dt.date(2027, 2, 21), set()),
        (dt.date(2027, 2, 22), {"ENT_05"}),
        (dt.date(2027, 4, 21), {"ENT_05"}),
        (dt.date(2027, 4, 22), {"ENT_06"}),
    ],
)
def test_series_deadlines(reference, received, expected):
    result = validate(frame({}), dataclasses.replace(CTX, received_on=received), reference)
    assert {i.code for i in result.issues if i.code.startswith("ENT_0")} == expected


def test_a_two_digit_year_is_told_as_such_not_as_an_unreal_date(reference):
    result = validate(frame({"Date of Birth": "14/05/09"}), CTX, reference)
    assert {i.code for i in result.issues} == {"DOB_05"}


@pytest.mark.parametrize(
    ("cell", "series"),
    [
        ("", "2027-06"),
        ("2027-01", "2027-01"),
        ("June 2027", "2027-06"),
        ("jan 2028", "2028-01"),
        ("JUNE-2028", "2028-06"),
    ],
)
def test_each_row_is_for_its_own_series_or_the_uploads(reference, cell, series):
    result = validate(frame({"Series": cell}), CTX, reference)
    assert result.rows["series"].tolist() == [series]


def test_late_warning_lists_the_rows_of_each_stated_late_series(reference):
    # Received 28 November 2026: January 2027 is past its standard deadline, June is not.
    rows = [
        {"Series": "2027-01"},
        {"Candidate Number": "0043", "UCI": ""},
        {"Candidate Number": "0044", "UCI": "", "Series": "Jan 2027"},
    ]
    result = validate(frame(*rows), CTX, reference)
    late = [i for i in result.issues if i.code == "ENT_05"]
    assert [(i.params["series"], i.params["rows"]) for i in late] == [("2027-01", "2, 4")]
    assert not result.has_errors


def test_unit_not_in_the_qualification_lists_the_units_that_may_be_entered(reference):
    result = validate(frame({"Unit 1": "3"}), CTX, reference)
    (found,) = [i for i in result.issues if i.code == "UNI_02"]
    assert found.params["allowed"] == "1, 2"
    assert "1, 2" in found.fix


def test_repeated_row_kept_once_with_a_warning(reference):
    result = validate(frame({}, {}, {"Candidate Number": "0043", "UCI": "", "Forenames": "Ben"}), CTX, reference)
    assert [(i.code, i.row, i.params["first"]) for i in result.issues if i.code == "ROW_01"] == [("ROW_01", 3, 2)]
    assert len(result.rows) == 2 and not result.has_errors


def test_candidate_number_on_two_people_is_an_error_on_each_row(reference):
    result = validate(frame({"UCI": ""}, {"UCI": "", "Forenames": "Ben"}), CTX, reference)
    assert {(i.code, i.row) for i in result.issues if i.code == "ROW_02"} == {("ROW_02", 2), ("ROW_02", 3)}


def test_one_uci_on_two_candidate_numbers_is_an_error_on_each_row(reference):
    result = validate(frame({}, {"Candidate Number": "0043"}), CTX, reference)
    assert {(i.code, i.row) for i in result.issues if i.code == "ROW_03"} == {("ROW_03", 2), ("ROW_03", 3)}


def test_same_candidate_two_entries_is_fine(reference):
    result = validate(frame({}, {"Entry Code": "05850"}), CTX, reference)
    assert not result.has_errors


_cells = st.fixed_dictionaries(
    {
        "Candidate Number": st.sampled_from(["0001", "0002", "0003"]),
        "Entry Code": st.sampled_from(["05838", "05850"]),
        "Candidate Group": st.sampled_from(["13A", "13B"]),
    }
)


@pytest.mark.slow
@settings(max_examples=40)
@given(st.lists(_cells, min_size=1, max_size=12))
def test_dedupe_property(reference, rows):
    # Give each candidate number one person so only exact repeats are in play.
    people = {"0001": "Amy", "0002": "Ben", "0003": "Cal"}
    cells = [{**r, "Forenames": people[r["Candidate Number"]], "UCI": ""} for r in rows]
    result = validate(frame(*cells), CTX, reference)
    distinct = {tuple(sorted(c.items())) for c in cells}
    assert len(result.rows) == len(distinct)
    assert sum(i.code == "ROW_01" for i in result.issues) == len(cells) - len(distinct)
    assert not result.has_errors


def test_annotated_workbook_marks_exactly_the_error_cells(con, tmp_path):
    """End to end on the sample centre's mistakes: red on error cells, amber on warnings, no formula."""
    import zipfile

    import openpyxl

    from entries.core.status import Status
    from entries.intake.headers import TEMPLATE_COLUMNS as COLUMNS
    from entries.pipeline import hall
    from entries.reports.annotate_styles import ERROR_FILL, WARNING_FILL
    from tests.conftest import PROJECT

    source = PROJECT / "data" / "samples" / "inbox" / "34567" / "entries_with_mistakes.xlsx"
    ctx = Context(centre="34567", series="2027-06", received_on=dt.date(2027, 1, 15))
    outcome = hall.submit(con, source, context=ctx, reference=refdata.snapshot(con), order_ref=None, out_dir=tmp_path)
    assert outcome.status == Status.READ_AND_REJECTED
    errors = {(i.row, i.column) for i in outcome.issues if i.severity == "error" and i.row and i.column in COLUMNS}
    warnings = {
        (i.row, i.column) for i in outcome.issues if i.severity == "warning" and i.row and i.column in COLUMNS
    } - errors
    assert len(errors) >= 10

    path = outcome.reports["annotated"]
    sheet = openpyxl.load_workbook(path)["Entries"]
    red, amber = set(), set()
    # The sample has the template's columns up to Candidate Group (no Series); the status column follows.
    for row in sheet.iter_rows(min_row=2, max_col=COLUMNS.index("Series")):
        for cell in row:
            colour = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
            place = (cell.row, COLUMNS[cell.column - 1])
            if colour and colour.endswith(ERROR_FILL.fgColor.rgb[-6:]):
                red.add(place)
                assert cell.comment is not None and any(
                    i.code in cell.comment.text for i in outcome.issues if (i.row, i.column) == place
                )
            elif colour and colour.endswith(WARNING_FILL.fgColor.rgb[-6:]):
                amber.add(place)
    assert red == errors
    assert amber == warnings
    with zipfile.ZipFile(path) as zf:
        assert not any(
            b"<f>" in zf.read(n) or b"<f " in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")
        )
