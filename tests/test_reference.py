"""Reference data: each broken table is named precisely and the tables loaded before survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entries.cli import main
from entries.core.errors import ReferenceDataError
from entries.store import database, refdata
from tests.conftest import REFERENCE


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _delete_line(path: Path, line: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.remove(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# (id, file, how to break it, expected code, expected row, expected column)
DEFECTS = [
    (
        "suites_bad_attempts",
        "suites.csv",
        lambda p: _rewrite(p, "2016,3\nL3-BUS", "2016,three\nL3-BUS"),
        "REF_03",
        2,
        "max_exam_attempts",
    ),
    ("suites_duplicate_key", "suites.csv", lambda p: _append(p, "L3-IT,Copy,3,IT,2016,3"), "REF_04", 6, "suite_id"),
    (
        "qualifications_lost_leading_zero",
        "qualifications.csv",
        lambda p: _rewrite(p, "05838,L3-IT", "5838,L3-IT"),
        "REF_03",
        2,
        "qualification_code",
    ),
    (
        "qualifications_unknown_suite",
        "qualifications.csv",
        lambda p: _rewrite(p, "05838,L3-IT", "05838,L3-XX"),
        "REF_05",
        2,
        "suite_id",
    ),
    (
        "qualifications_mandatory_over_glh",
        "qualifications.csv",
        lambda p: _rewrite(p, "Certificate in IT,180", "Certificate in IT,120"),
        "REF_09",
        2,
        "glh",
    ),
    (
        "qualifications_glh_unreachable",
        "qualifications.csv",
        lambda p: _rewrite(p, "Certificate in IT,180", "Certificate in IT,240"),
        "REF_10",
        2,
        "glh",
    ),
    (
        "units_bad_assessment",
        "units.csv",
        lambda p: _rewrite(p, "Fundamentals of IT,90,exam", "Fundamentals of IT,90,written"),
        "REF_03",
        2,
        "assessment",
    ),
    (
        "rules_unknown_unit",
        "rules_of_combination.csv",
        lambda p: _append(p, "05838,99,optional"),
        "REF_05",
        362,
        "unit_number",
    ),
    (
        "rules_unknown_qualification",
        "rules_of_combination.csv",
        lambda p: _append(p, "09999,1,optional"),
        "REF_05",
        362,
        "qualification_code",
    ),
    (
        "entry_codes_unknown_qualification",
        "entry_codes.csv",
        lambda p: _append(p, "09999,full_award,09999,,Ghost"),
        "REF_05",
        54,
        "qualification_code",
    ),
    (
        "entry_codes_topup_goes_down",
        "entry_codes.csv",
        lambda p: _rewrite(p, "05839T1,top_up,05839,05838", "05839T1,top_up,05838,05839"),
        "REF_14",
        7,
        "entry_code",
    ),
    (
        "entry_codes_movedown_goes_up",
        "entry_codes.csv",
        lambda p: _rewrite(p, "05838M2,move_down,05838,05839", "05839M1,move_down,05839,05838"),
        "REF_08",
        9,
        "qualification_code",
    ),
    (
        "fees_not_whole_pence",
        "fees.csv",
        lambda p: _rewrite(p, "2027-01,05838,9840,", "2027-01,05838,98.40,"),
        "REF_03",
        2,
        "fee_pence",
    ),
    (
        "fees_negative",
        "fees.csv",
        lambda p: _rewrite(p, "2027-01,05838,9840,", "2027-01,05838,-9840,"),
        "REF_03",
        2,
        "fee_pence",
    ),
    (
        "fees_late_below_standard",
        "fees.csv",
        lambda p: _rewrite(p, "2027-01,05838,9840,14760", "2027-01,05838,9840,9000"),
        "REF_06",
        2,
        "late_fee_pence",
    ),
    (
        "fees_code_missing_in_series",
        "fees.csv",
        lambda p: _delete_line(p, "2027-01,05838,9840,14760"),
        "REF_11",
        None,
        "fee_pence",
    ),
    ("fees_unknown_series", "fees.csv", lambda p: _append(p, "2031-06,05838,9840,14760"), "REF_05", 210, "series"),
    (
        "unit_fees_missing_suite",
        "unit_fees.csv",
        lambda p: _delete_line(p, "2027-01,L3-IT,3450,5175"),
        "REF_12",
        None,
        "fee_pence",
    ),
    (
        "series_deadlines_out_of_order",
        "series.csv",
        lambda p: _rewrite(p, "2026-10-21,2026-12-01", "2026-12-21,2026-12-01"),
        "REF_07",
        2,
        "late_entry_deadline",
    ),
    (
        "series_not_a_date",
        "series.csv",
        lambda p: _rewrite(p, "2026-10-21", "2026-02-30"),
        "REF_03",
        2,
        "entry_deadline",
    ),
    (
        "centres_lost_leading_zero",
        "centres.csv",
        lambda p: _rewrite(p, "01234,Ashby", "1234,Ashby"),
        "REF_03",
        6,
        "centre_number",
    ),
    (
        "centre_approvals_unknown_centre",
        "centre_approvals.csv",
        lambda p: _append(p, "99999,L3-IT,2016-09-01"),
        "REF_05",
        17,
        "centre_number",
    ),
    (
        "centre_approvals_unknown_suite",
        "centre_approvals.csv",
        lambda p: _append(p, "12345,L3-XX,2016-09-01"),
        "REF_05",
        17,
        "suite_id",
    ),
    (
        "series_missing_column",
        "series.csv",
        lambda p: _rewrite(p, "late_entry_deadline", "late_deadline"),
        "REF_02",
        1,
        None,
    ),
    ("centres_missing_file", "centres.csv", lambda p: p.unlink(), "REF_01", None, None),
    (
        "units_not_utf8",
        "units.csv",
        lambda p: p.write_bytes(p.read_bytes().replace(b"Fundamentals", b"Fundam\xe9ntals")),
        "REF_13",
        None,
        None,
    ),
]


def test_sample_reference_data_is_valid():
    ref = refdata.read_reference(REFERENCE)
    assert set(ref.tables) == set(database.REFERENCE_TABLES)
    assert ref.tables["qualifications"]["qualification_code"].str.match(r"^\d{5}$").all()
    assert ref.tables["fees"]["fee_pence"].dtype.kind == "i"


@pytest.mark.parametrize(
    ("file", "breaker", "code", "row", "column"), [d[1:] for d in DEFECTS], ids=[d[0] for d in DEFECTS]
)
def test_broken_table_is_named_and_old_tables_kept(con, reference_copy, file, breaker, code, row, column):
    before = con.execute("SELECT count(*), sum(fee_pence) FROM ref_fees").fetchall()
    versions = con.execute("SELECT count(*) FROM reference_versions").fetchall()
    breaker(reference_copy / file)

    with pytest.raises(ReferenceDataError) as caught:
        refdata.load_reference(con, reference_copy)

    problems = caught.value.problems
    matching = [p for p in problems if p.code == code and p.file == file]
    assert matching, [p.as_line() for p in problems]
    assert any(p.row == row and p.column == column for p in matching), [p.as_line() for p in matching]
    assert con.execute("SELECT count(*), sum(fee_pence) FROM ref_fees").fetchall() == before
    assert con.execute("SELECT count(*) FROM reference_versions").fetchall() == versions


def test_loading_same_data_twice_changes_nothing(con):
    first = con.execute("SELECT * FROM reference_versions").fetchall()
    again = refdata.load_reference(con, REFERENCE)
    assert not again.changed
    assert con.execute("SELECT * FROM reference_versions").fetchall() == first


def test_changed_data_is_a_new_version_replacing_the_tables(con, reference_copy):
    _rewrite(reference_copy / "centres.csv", "Northfield Academy", "Northfield Academy Trust")
    result = refdata.load_reference(con, reference_copy)
    assert result.changed and result.version_id == 2
    assert con.execute("SELECT name FROM ref_centres WHERE centre_number = '12345'").fetchall() == [
        ("Northfield Academy Trust",)
    ]
    assert con.execute("SELECT count(*) FROM ref_fees").fetchall() == [(208,)]


def test_codes_keep_leading_zeros_in_the_store(con):
    assert con.execute("SELECT centre_number FROM ref_centres WHERE name LIKE 'Ashby%'").fetchall() == [("01234",)]


def test_cli_reports_every_problem_and_exits_1(db_path, reference_copy, capsys):
    _rewrite(reference_copy / "fees.csv", "2027-01,05838,9840,14760", "2027-01,05838,9840,9000")
    _append(reference_copy / "centre_approvals.csv", "99999,L3-IT,2016-09-01")
    assert main(["--db", str(db_path), "reference", "load", "--dir", str(reference_copy)]) == 1
    err = capsys.readouterr().err
    assert "fees.csv, row 2, column late_fee_pence: REF_06" in err
    assert "centre_approvals.csv, row 17, column centre_number: REF_05" in err


def test_cli_search_extended_cert_for_centre(db_path, capsys):
    assert main(["--db", str(db_path), "qualifications", "search", "extended cert", "--centre", "12345", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    codes = {q["qualification_code"] for q in found}
    assert codes == {"05839", "05851"}
    assert all("Health" not in q["title"] for q in found)


@pytest.mark.parametrize(
    ("text", "centre", "expected"),
    [
        ("05838", None, {"05838"}),
        ("", "34567", {"05860", "05861", "05862", "05863", "05864"}),
        ("DIPLOMA business", "12345", {"05852", "05853", "05854"}),
        ("nothing like this", None, set()),
    ],
)
def test_search_by_code_title_or_part(con, text, centre, expected):
    from entries.store.qualifications import search

    assert {q["qualification_code"] for q in search(con, text, centre)} == expected


def test_blank_search_lists_everything(con):
    from entries.store.qualifications import search

    assert len(search(con)) == 20


@pytest.mark.parametrize(
    "argv",
    [["bogus"], ["qualifications", "search", "--centre", "1234"], ["reference"], ["reference", "load", "--nope"]],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("entries: error:") and err.count("\n") == 1


def test_a_cell_that_does_not_convert_is_reported_once(con, reference_copy):
    _rewrite(reference_copy / "fees.csv", "2027-01,05838,9840,", "2027-01,05838,abc,")
    with pytest.raises(ReferenceDataError) as caught:
        refdata.load_reference(con, reference_copy)
    assert [(p.code, p.row, p.column) for p in caught.value.problems] == [("REF_03", 2, "fee_pence")]
