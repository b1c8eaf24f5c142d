"""Intake: every fixture, made the way it happens in life, ends in the right status with the right values.

Fixtures are in tests/fixtures/intake (made by make_fixtures.py there; its README says how each was made).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest

from entries.store import refdata
from entries.cli import main
from entries.store.commit import commit
from entries.pipeline.ingest import prepare as prepare_with
from entries.core.limits import ReadLimits
from entries.core.status import Status
from entries.store.submissions import status_history
from entries.checks.validate import Context
from tests.conftest import FIXTURES

INTAKE = FIXTURES / "intake"
RECEIVED = dt.date(2026, 11, 28)

# The base rows every friendly fixture carries (docs/architecture.md §4 columns, as the centre meant them).
BASE = [
    {"row": 2, "Centre Number": "12345", "Candidate Number": "0042", "UCI": "123450260042C", "ULN": "1000000043",
     "Surname": "Smith", "Forenames": "Amy", "Sex": "F", "Date of Birth": "2009-05-14", "Entry Code": "05838",
     "Candidate Group": "13A"},
    {"row": 3, "Centre Number": "12345", "Candidate Number": "0043", "UCI": "", "ULN": "",
     "Surname": "O'Brien", "Forenames": "Zoë", "Sex": "F", "Date of Birth": "2008-11-02", "Entry Code": "05838",
     "Candidate Group": "13A"},
    {"row": 4, "Centre Number": "12345", "Candidate Number": "0107", "UCI": "", "ULN": "1234567899",
     "Surname": "Nguyễn", "Forenames": "Văn An", "Sex": "M", "Date of Birth": "2009-01-30", "Entry Code": "05839",
     "Candidate Group": "13B"},
]


CONTEXT = Context(centre="12345", series="2027-06", received_on=RECEIVED)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from entries.store import database

    con = database.connect(tmp_path_factory.mktemp("ref") / "ref.duckdb")
    return refdata.snapshot(con)


def prepare(path: Path, limits: ReadLimits | None = None):
    """Intake and validation of one file for the test centre (reference loaded once per module)."""
    return prepare_with(path, CONTEXT, _REFERENCE[0], limits)


_REFERENCE: list = []


@pytest.fixture(autouse=True)
def _reference_for_prepare(reference):
    _REFERENCE[:] = [reference]


def _ingest(con, name: str, **kwargs):
    prepared = prepare(INTAKE / name, kwargs.pop("limits", None))
    return prepared, commit(con, prepared, _REFERENCE[0], order_ref="PO-1")


INTAKE_PREFIXES = ("CELL_", "FILE_", "HDR_", "SHEET_", "HELP_")


def _intake_issues(prepared):
    """The issues intake itself raised (validation's row rules are tested in test_validate.py)."""
    return [i for i in prepared.issues if i.code.startswith(INTAKE_PREFIXES)]


def _values(prepared) -> list[dict]:
    keep = list(BASE[0])
    return prepared.rows[keep].to_dict("records")


# fixture -> (status, reason code or None, rows read, codes that must be among the issues)
CASES = {
    "base.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "base.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "utf8_bom.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "semicolon.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "tab.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "mis_headers.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "quoted_newline.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "cp1252_accents.csv": (Status.PROCESSING_COMPLETE, None, 3, {"FILE_21"}),
    "csv_named.xlsx": (Status.PROCESSING_COMPLETE, None, 3, {"FILE_07"}),
    "libreoffice_from_csv.xlsx": (Status.PROCESSING_COMPLETE, None, 3, {"CELL_04"}),
    "date1904.xlsx": (Status.PROCESSING_COMPLETE, None, 4, {"CELL_05"}),
    "help_line_left_in.xlsx": (Status.PROCESSING_COMPLETE, None, 3, {"HELP_01"}),
    "hidden_sheet.xlsx": (Status.PROCESSING_COMPLETE, None, 3, {"SHEET_02"}),
    "hidden_first_sheet.xlsx": (Status.PROCESSING_COMPLETE, None, 3, {"SHEET_02"}),
    "styled_empty_rows.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "stale_dimension.xlsx": (Status.PROCESSING_COMPLETE, None, 500, set()),
    "error_cells.xlsx": (Status.READ_AND_REJECTED, "CELL_01", 3, {"CELL_01"}),
    "uncached_formula.xlsx": (Status.READ_AND_REJECTED, "CELL_02", 3, {"CELL_02"}),
    "merged_cells.xlsx": (Status.READ_AND_REJECTED, "CELL_03", 3, {"CELL_03"}),
    "ragged.csv": (Status.READ_AND_REJECTED, "FILE_17", 3, {"FILE_17"}),
    "missing_columns.csv": (Status.READ_AND_REJECTED, "HDR_01", 3, {"HDR_01"}),
    "header_only.xlsx": (Status.EMPTY_FILE, "FILE_19", 0, {"FILE_19"}),
    "header_only.csv": (Status.EMPTY_FILE, "FILE_19", 0, {"FILE_19"}),
    "zero_bytes.xlsx": (Status.EMPTY_FILE, "FILE_01", 0, {"FILE_01"}),
    "truncated.xlsx": (Status.UPLOAD_FAILED, "FILE_02", 0, {"FILE_02"}),
    "lying_zip_header.xlsx": (Status.UPLOAD_FAILED, "FILE_02", 0, {"FILE_02"}),
    "xls_renamed.xlsx": (Status.UPLOAD_FAILED, "FILE_03", 0, {"FILE_03"}),
    "ods_renamed.xlsx": (Status.UPLOAD_FAILED, "FILE_04", 0, {"FILE_04"}),
    "encrypted.xlsx": (Status.UPLOAD_FAILED, "FILE_05", 0, {"FILE_05"}),
    "zip_bomb.xlsx": (Status.UPLOAD_FAILED, "FILE_10", 0, {"FILE_10"}),
    "xml_entity_bomb.xlsx": (Status.UPLOAD_FAILED, "FILE_11", 0, {"FILE_11"}),
    "xxe.xlsx": (Status.UPLOAD_FAILED, "FILE_11", 0, {"FILE_11"}),
    "far_cell_xfd1048576.xlsx": (Status.UPLOAD_FAILED, "FILE_13", 0, {"FILE_13"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_ends_in_its_status(con, name):
    status, reason_code, rows, codes = CASES[name]
    prepared, outcome = _ingest(con, name)
    assert outcome.status == status
    assert outcome.rows == rows
    assert codes <= {i.code for i in outcome.issues}
    stored = con.execute("SELECT status, reason_code, rows FROM submissions WHERE submission_id = ?", [outcome.submission_id]).fetchall()
    assert stored == [(str(status), reason_code, rows)]
    if status == Status.PROCESSING_COMPLETE:
        steps = [(str(Status.READ_AND_RECOGNISED), None), (str(Status.PROCESSING_IN_PROGRESS), None), (str(status), None)]
        assert status_history(con, outcome.submission_id) == steps
    else:
        assert status_history(con, outcome.submission_id) == [(str(status), reason_code)]


@pytest.mark.parametrize(
    "name",
    ["base.xlsx", "base.csv", "utf8_bom.csv", "semicolon.csv", "tab.csv", "mis_headers.csv", "libreoffice_from_csv.xlsx",
     "help_line_left_in.xlsx", "hidden_sheet.xlsx", "hidden_first_sheet.xlsx", "styled_empty_rows.xlsx", "csv_named.xlsx"],
)
def test_text_values_are_what_the_centre_meant(name):
    shift = 1 if name == "help_line_left_in.xlsx" else 0  # its help line is row 2
    assert _values(prepare(INTAKE / name)) == [{**r, "row": r["row"] + shift} for r in BASE]


def test_libreoffice_lost_zeros_are_restored_with_warnings():
    prepared = prepare(INTAKE / "libreoffice_from_csv.xlsx")
    restored = {(i.row, i.column) for i in prepared.issues if i.code == "CELL_04"}
    assert {(2, "Candidate Number"), (3, "Candidate Number"), (4, "Candidate Number"), (2, "Entry Code")} <= restored
    assert all(i.severity == "warning" for i in _intake_issues(prepared))


def test_1904_workbook_dates_and_serials_use_its_own_epoch():
    prepared = prepare(INTAKE / "date1904.xlsx")
    assert _values(prepared)[:3] == BASE
    assert prepared.rows.loc[3, "Date of Birth"] == "2012-03-02"  # serial 39508 in the 1904 system
    assert [(i.code, i.row) for i in _intake_issues(prepared)] == [("CELL_05", 5)]


def test_windows_1252_accents_decoded():
    prepared = prepare(INTAKE / "cp1252_accents.csv")
    assert prepared.encoding == "cp1252"
    assert prepared.rows.loc[2, ["Surname", "Forenames"]].tolist() == ["Müller", "José"]
    assert prepared.rows.loc[1, "Forenames"] == "Zoë"


def test_quoted_newline_kept_inside_its_cell_and_rows_numbered_by_record():
    prepared = prepare(INTAKE / "quoted_newline.csv")
    assert prepared.rows["Forenames"].tolist() == ["Amy\nJane", "Zoë", "Văn An"]
    assert prepared.rows["row"].tolist() == [2, 3, 4]


def test_error_cells_are_flagged_never_blank():
    prepared = prepare(INTAKE / "error_cells.xlsx")
    flagged = {(i.row, i.column, i.code) for i in _intake_issues(prepared)}
    assert flagged == {(2, "UCI", "CELL_01"), (3, "Date of Birth", "CELL_01")}
    assert prepared.rows.loc[0, "UCI"] == "#REF!"
    assert prepared.rows.loc[1, "Date of Birth"] == "#N/A"


def test_uncached_formula_flagged_on_its_cell():
    prepared = prepare(INTAKE / "uncached_formula.xlsx")
    assert [(i.row, i.column, i.code) for i in _intake_issues(prepared)] == [(2, "Surname", "CELL_02")]


def test_merged_cells_flagged_on_every_covered_row():
    prepared = prepare(INTAKE / "merged_cells.xlsx")
    assert {(i.row, i.column) for i in prepared.issues if i.code == "CELL_03"} == {(2, "Candidate Group"), (3, "Candidate Group"), (4, "Candidate Group")}


def test_stale_dimension_reads_every_row():
    prepared = prepare(INTAKE / "stale_dimension.xlsx")
    assert len(prepared.rows) == 500
    assert prepared.rows["Candidate Number"].iloc[[0, -1]].tolist() == ["0001", "0500"]


def test_missing_columns_named_with_columns_found():
    prepared = prepare(INTAKE / "missing_columns.csv")
    hdr = next(i for i in prepared.issues if i.code == "HDR_01")
    assert "Surname" in hdr.message and "Date of Birth" in hdr.message
    assert "Columns found: Centre Number" in hdr.message


def test_hostile_files_fail_alone_and_the_next_file_is_still_read(con):
    outcomes = [_ingest(con, name)[1] for name in ("zip_bomb.xlsx", "far_cell_xfd1048576.xlsx", "xml_entity_bomb.xlsx", "base.xlsx")]
    assert [o.status for o in outcomes] == [Status.UPLOAD_FAILED] * 3 + [Status.PROCESSING_COMPLETE]


def test_parser_crash_in_child_fails_only_that_file(con):
    # Lift the pre-parse column check so the far cell reaches the parser, which cannot allocate it.
    limits = dataclasses.replace(ReadLimits(), max_columns=20_000, max_rows=2_000_000, child_memory_bytes=1 << 30)
    prepared, outcome = _ingest(con, "far_cell_xfd1048576.xlsx", limits=limits)
    assert outcome.status == Status.UPLOAD_FAILED
    assert prepared.refusal in {"FILE_14", "FILE_02"}
    assert _ingest(con, "base.xlsx")[1].status == Status.PROCESSING_COMPLETE


def test_parse_over_time_limit_is_killed(con):
    limits = dataclasses.replace(ReadLimits(), child_seconds=0.01)
    prepared, outcome = _ingest(con, "base.xlsx", limits=limits)
    assert (prepared.refusal, outcome.status) == ("FILE_15", Status.UPLOAD_FAILED)


def test_too_many_rows_refused_before_parsing(con):
    limits = dataclasses.replace(ReadLimits(), max_rows=100)
    prepared, outcome = _ingest(con, "stale_dimension.xlsx", limits=limits)
    assert (prepared.refusal, outcome.status) == ("FILE_12", Status.UPLOAD_FAILED)


def test_same_bytes_under_another_name_is_a_duplicate(con, tmp_path):
    first = _ingest(con, "base.xlsx")[1]
    copy = tmp_path / "renamed.xlsx"
    shutil.copy(INTAKE / "base.xlsx", copy)
    second = commit(con, prepare(copy), _REFERENCE[0], order_ref=None)
    assert second.status == Status.DUPLICATE_FILE
    assert con.execute("SELECT duplicate_of FROM submissions WHERE submission_id = ?", [second.submission_id]).fetchall() == [(first.submission_id,)]
    assert con.execute("SELECT count(*) FROM accepted_files").fetchall() == [(1,)]


def test_same_name_different_bytes_is_a_new_submission(con, tmp_path):
    target = tmp_path / "entries.csv"
    shutil.copy(INTAKE / "base.csv", target)
    first = commit(con, prepare(target), _REFERENCE[0], order_ref=None)
    shutil.copy(INTAKE / "utf8_bom.csv", target)
    second = commit(con, prepare(target), _REFERENCE[0], order_ref=None)
    # utf8_bom.csv carries the same entries: new bytes, but every entry already on record.
    assert (first.status, second.status) == (Status.PROCESSING_COMPLETE, Status.DUPLICATE_FILE)
    assert second.issues[0].code == "DUP_02"


def test_rejected_bytes_can_be_tried_again(con):
    first = _ingest(con, "missing_columns.csv")[1]
    second = _ingest(con, "missing_columns.csv")[1]
    assert first.status == second.status == Status.READ_AND_REJECTED


def test_cli_ingest_json_follows_the_contract(db_path, tmp_path, capsys):
    code = main(["--db", str(db_path), "--out", str(tmp_path / "out"), "ingest", str(INTAKE / "base.csv"),
                 "--centre", "12345", "--order-ref", "PO-77", "--received-on", "2026-11-28", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(result) == {"file", "sha256", "centre", "series", "order_ref", "status", "reason", "rows", "accepted",
                           "rejected", "held", "entries", "fees_pence", "issues", "reports"}
    assert (result["status"], result["series"], result["order_ref"], result["rows"]) == ("Processing complete", "2027-01", "PO-77", 3)
    assert set(result["entries"]) == {"full_award", "unit", "top_up", "move_down"}


def test_cli_refused_file_exits_1_and_names_the_fix(db_path, capsys):
    assert main(["--db", str(db_path), "ingest", str(INTAKE / "xls_renamed.xlsx"), "--centre", "12345", "--received-on", "2026-11-28"]) == 1
    out = capsys.readouterr().out
    assert "Upload failed" in out and "save it as an Excel Workbook (.xlsx)" in out


def test_cli_unknown_series_is_a_usage_error(db_path, capsys):
    assert main(["--db", str(db_path), "ingest", str(INTAKE / "base.csv"), "--centre", "12345", "--series", "1999-06"]) == 2


def test_no_personal_data_in_logs_or_messages(con, caplog):
    caplog.set_level(logging.DEBUG)
    texts = []
    for name in sorted(CASES):
        prepared, outcome = _ingest(con, name)
        texts += [json.dumps(outcome.as_json(), ensure_ascii=False)]
    texts.append(caplog.text)
    blob = "\n".join(texts)
    for personal in ("Smith", "O'Brien", "Zoë", "Nguyễn", "Müller", "2009-05-14", "123450260042C", "1000000043"):
        assert personal not in blob
