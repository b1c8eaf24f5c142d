"""Bulk centre onboarding: one transaction, one defect per fixture, idempotent, then ingestible."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
from pathlib import Path

import openpyxl
import pytest

from entries.checks.validate import Context
from entries.core.status import Status
from entries.pipeline import hall
from entries.pipeline.onboard import onboard
from entries.store import onboarding as onboarding_store
from entries.store import refdata
from tests.conftest import FIXTURES

ONBOARD = FIXTURES / "onboard"
RECEIVED = dt.date(2026, 9, 15)
_spec = importlib.util.spec_from_file_location("onboard_fixtures", ONBOARD / "make_fixtures.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)


def counts(con) -> dict[str, int]:
    return {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("onboarded_centres", "onboarded_approvals", "candidates", "submissions")
    }


def codes(result) -> set[str]:
    return {i.issue.code for i in result.issues}


def run(con, tmp_path, name, received=RECEIVED):
    return onboard(
        con, ONBOARD / name if isinstance(name, str) else name, tmp_path / "out", received, work_dir=tmp_path
    )


def test_good_onboarding_loads_everything_in_one_go(con, tmp_path):
    result = run(con, tmp_path, "good_onboarding.xlsx")
    assert not result.has_errors and result.stored
    assert codes(result) == {"UCI_01"}  # 90002/0001 has no UCI: a warning, as in an upload
    assert (result.centres_added, result.approvals_added, result.candidates_added) == (2, 3, 4)
    assert result.groups == {"90001": [("12A", 2), ("12B", 1)]}
    assert counts(con) == {"onboarded_centres": 2, "onboarded_approvals": 3, "candidates": 4, "submissions": 0}

    reference = refdata.snapshot(con)
    centres = reference.tables["centres"].set_index("centre_number")
    assert (
        centres.loc["90001", "centre_type"] == "school" and centres.loc["90002", "centre_type"] == "training_provider"
    )
    approvals = {(c, s, str(d)[:10]) for c, s, d in reference.tables["centre_approvals"].itertuples(index=False)}
    assert {
        ("90001", "L3-IT", "2026-09-01"),
        ("90002", "L3-BUS", "2026-09-01"),
        ("12345", "L3-HSC", "2026-09-01"),
    } <= approvals

    stored = con.execute(
        "SELECT centre_number, candidate_number, uci IS NOT NULL, uln, candidate_group, submission_id "
        "FROM candidates ORDER BY 1, 2"
    ).fetchall()
    assert stored == [
        ("90001", "0001", True, "1000000043", "12A", 0),
        ("90001", "0002", True, None, "12A", 0),
        ("90001", "0003", False, "1234567899", "12B", 0),
        ("90002", "0001", True, None, "", 0),
    ]
    assert con.execute(
        "SELECT CAST(date_of_birth AS VARCHAR) FROM candidates WHERE candidate_number = '0002'"
    ).fetchall() == [("2009-11-02",)]


def test_report_lists_changes_and_carries_no_personal_data(con, tmp_path):
    result = run(con, tmp_path, "good_onboarding.xlsx")
    xlsx, csv_path = result.reports["xlsx"], result.reports["csv"]
    assert xlsx.endswith(f"onboarding/2026-09-15_good_onboarding_{result.sha256[:8]}.xlsx") and csv_path.endswith(
        ".csv"
    )
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    added = {
        (r["Sheet"], r["Centre Number"], r["Candidate Number"], r["Suite"]) for r in records if r["Action"] == "added"
    }
    assert ("Centres", "90001", "", "") in added and ("Approvals", "12345", "", "L3-HSC") in added
    assert ("Candidates", "90001", "0003", "") in added and len(added) == 9
    text = Path(csv_path).read_text(encoding="utf-8-sig")
    wb = openpyxl.load_workbook(xlsx)
    cells = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    for personal in ("Ashworth", "Lena", "2010", "14/05", make.uci("900010260001"), "1000000043"):
        assert personal not in text and not any(personal in c for c in cells)
    assert json.dumps(result.as_json())  # the flow's summary is plain JSON
    assert "Ashworth" not in json.dumps(result.as_json())


def test_loading_the_same_workbook_twice_changes_nothing_the_second_time(con, tmp_path):
    run(con, tmp_path, "good_onboarding.xlsx")
    before = (
        con.execute("SELECT * FROM onboarded_centres ORDER BY 1").fetchall(),
        con.execute("SELECT * FROM candidates ORDER BY 1").fetchall(),
    )
    again = run(con, tmp_path, "good_onboarding.xlsx")
    assert again.stored
    assert (
        again.centres_added,
        again.centres_updated,
        again.approvals_added,
        again.approvals_updated,
        again.candidates_added,
        again.candidates_updated,
    ) == (0, 0, 0, 0, 0, 0)
    assert (again.centres_unchanged, again.approvals_unchanged, again.candidates_unchanged) == (2, 3, 4)
    after = (
        con.execute("SELECT * FROM onboarded_centres ORDER BY 1").fetchall(),
        con.execute("SELECT * FROM candidates ORDER BY 1").fetchall(),
    )
    assert after == before  # not even onboarded_at moved


def test_folder_of_csv_files_onboards_like_the_workbook(con, tmp_path):
    result = run(con, tmp_path, "good_onboarding_folder")
    assert result.stored and (result.centres_added, result.approvals_added, result.candidates_added) == (2, 3, 4)
    assert run(con, tmp_path, "good_onboarding.xlsx").candidates_unchanged == 4


DEFECTS = [
    # fixture, code, sheet, row, column
    ("missing_sheet.xlsx", "ONB_01", "Approvals", None, None),
    ("bad_centre_number.xlsx", "CEN_01", "Centres", 4, "Centre Number"),
    ("bad_centre_type.xlsx", "ONB_04", "Centres", 3, "Type"),
    ("duplicate_centre.xlsx", "ONB_05", "Centres", 4, "Centre Number"),
    ("unknown_suite.xlsx", "ONB_07", "Approvals", 3, "Suite"),
    ("bad_approval_date.xlsx", "ONB_08", "Approvals", 2, "Approved From"),
    ("approval_unknown_centre.xlsx", "ONB_09", "Approvals", 5, "Centre Number"),
    ("candidate_bad_uci.xlsx", "UCI_04", "Candidates", 3, "UCI"),
    ("candidate_unknown_centre.xlsx", "ONB_09", "Candidates", 6, "Centre Number"),
    ("candidate_formula_cell.xlsx", "CELL_02", "Candidates", 4, "Candidate Group"),
]


@pytest.mark.parametrize(("name", "code", "sheet", "row", "column"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_is_reported_where_it_is_and_nothing_is_stored(con, tmp_path, name, code, sheet, row, column):
    before = counts(con)
    result = run(con, tmp_path, name)
    assert result.has_errors and not result.stored
    errors = [i for i in result.issues if i.issue.severity == "error"]
    assert {i.issue.code for i in errors} == {code}, [i.as_json() for i in errors]
    hit = next(i for i in errors if i.issue.row == row)
    assert (hit.sheet, hit.issue.column, hit.issue.file) == (sheet, column, name)
    assert counts(con) == before
    assert (result.centres_added, result.approvals_added, result.candidates_added) == (0, 0, 0)
    with open(result.reports["csv"], encoding="utf-8-sig", newline="") as fh:
        assert any(r["Code"] == code and r["Sheet"] == sheet for r in csv.DictReader(fh))


def test_candidate_number_on_record_for_another_person_stores_nothing(con, tmp_path):
    run(con, tmp_path, "good_onboarding.xlsx")
    before = con.execute("SELECT * FROM candidates ORDER BY 1").fetchall()
    result = run(con, tmp_path, "candidate_number_clash.xlsx")
    errors = [i for i in result.issues if i.issue.severity == "error"]
    assert [(i.sheet, i.issue.row, i.issue.column, i.issue.code) for i in errors] == [
        ("Candidates", 2, "Candidate Number", "ONB_10")
    ]
    assert "Fairweather" not in errors[0].issue.message
    assert con.execute("SELECT * FROM candidates ORDER BY 1").fetchall() == before


def test_a_matched_candidate_gets_its_new_group_and_missing_identifiers(con, tmp_path):
    run(con, tmp_path, "good_onboarding.xlsx")
    rows = make.with_row(make.with_row(make.sheets()["Candidates"], 2, 8, "13A"), 2, 3, "1234567899")
    variant = tmp_path / "regroup.xlsx"
    make.write_workbook(variant, make.sheets(Candidates=rows))
    result = run(con, tmp_path, variant)
    assert result.stored and (result.candidates_added, result.candidates_updated, result.candidates_unchanged) == (
        0,
        1,
        3,
    )
    assert result.groups["90001"] == [("12A", 1), ("12B", 1), ("13A", 1)]
    assert con.execute(
        "SELECT uln, candidate_group FROM candidates WHERE centre_number = '90001' AND candidate_number = '0002'"
    ).fetchall() == [("1234567899", "13A")]
    assert counts(con)["candidates"] == 4


def test_entry_codes_on_the_candidates_sheet_are_ignored_with_a_warning(con, tmp_path):
    result = run(con, tmp_path, "candidate_entry_codes.xlsx")
    assert result.stored and "ONB_11" in codes(result) and result.candidates_added == 4
    assert con.execute("SELECT count(*) FROM entries").fetchall() == [(0,)]


def test_a_failure_inside_the_transaction_leaves_nothing_behind(con, tmp_path, monkeypatch):
    def broken(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(onboarding_store, "_store_candidates", broken)
    with pytest.raises(RuntimeError):
        run(con, tmp_path, "good_onboarding.xlsx")
    assert counts(con) == {"onboarded_centres": 0, "onboarded_approvals": 0, "candidates": 0, "submissions": 0}


def test_an_onboarded_centre_ingests_entries_and_its_candidates_are_matched(con, tmp_path):
    run(con, tmp_path, "good_onboarding.xlsx")
    ids = dict(
        con.execute("SELECT candidate_number, candidate_id FROM candidates WHERE centre_number = '90001'").fetchall()
    )
    upload = tmp_path / "fenwick_entries.csv"
    upload.write_text(
        "Centre Number,Candidate Number,UCI,ULN,Surname,Forenames,Sex,Date of Birth,Entry Code,Unit 1,Unit 2,Unit 3,Unit 4,Unit 5,Unit 6,Candidate Group\r\n"
        f"90001,0001,{make.uci('900010260001')},1000000043,Ashworth,Lena,F,14/05/2010,05838,,,,,,,12A\r\n"
        "90001,0003,,1234567899,Castell,Maya,F,21/03/2010,05838,,,,,,,12B\r\n",
        encoding="utf-8",
    )
    ctx = Context(centre="90001", series="2027-06", received_on=dt.date(2027, 1, 15))
    outcome = hall.submit(
        con, upload, context=ctx, reference=refdata.snapshot(con), order_ref=None, out_dir=tmp_path / "out"
    )
    assert outcome.status == Status.PROCESSING_COMPLETE, [i.code for i in outcome.issues]
    assert outcome.entries["full_award"] == 2
    assert counts(con)["candidates"] == 4  # matched, not created again
    stored = dict(con.execute("SELECT candidate_number, candidate_id FROM entries").fetchall())
    assert stored == {"0001": ids["0001"], "0003": ids["0003"]}


def test_the_flow_module_imports():
    from flows.onboarding import onboard_task, onboarding_flow

    assert callable(onboarding_flow) and callable(onboard_task)


@pytest.mark.parametrize(("name", "kind"), [("entries_template.ods", "(.ods)"), ("entries_template.xls", "(.xls)")])
def test_an_onboarding_workbook_of_another_format_is_told_to_be_xlsx_not_called_csv(tmp_path, name, kind):
    from entries.core.limits import ReadLimits
    from entries.intake.sheets import read_workbook_sheets

    _, problems = read_workbook_sheets(FIXTURES / "intake" / name, ("Centres",), tmp_path, ReadLimits())
    [(_, found)] = problems
    assert found.code == "FILE_08" and f"{kind} workbook" in found.message and "CSV file" not in found.message
