"""Intake: every fixture, made the way it happens in life, ends in the right status with the right values.

Fixtures are in tests/fixtures/intake (made by make_fixtures.py there; its README says how each was made).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import logging
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from entries.checks.validate import Context
from entries.cli import main
from entries.core.limits import ReadLimits
from entries.core.status import Status
from entries.pipeline.hall import prepare as prepare_with
from entries.store import refdata
from entries.store.commit import commit
from entries.store.submissions import status_history
from tests.conftest import FIXTURES

INTAKE = FIXTURES / "intake"
RECEIVED = dt.date(2026, 11, 28)

# The base rows every friendly fixture carries (docs/architecture.md §4 columns, as the centre meant them).
BASE = [
    {
        "row": 2,
        "Centre Number": "12345",
        "Candidate Number": "0042",
        "UCI": "123450260042C",
        "ULN": "1000000043",
        "Surname": "Smith",
        "Forenames": "Amy",
        "Sex": "F",
        "Date of Birth": "2009-05-14",
        "Entry Code": "05838",
        "Candidate Group": "13A",
    },
    {
        "row": 3,
        "Centre Number": "12345",
        "Candidate Number": "0043",
        "UCI": "",
        "ULN": "",
        "Surname": "O'Brien",
        "Forenames": "Zoë",
        "Sex": "F",
        "Date of Birth": "2008-11-02",
        "Entry Code": "05838",
        "Candidate Group": "13A",
    },
    {
        "row": 4,
        "Centre Number": "12345",
        "Candidate Number": "0107",
        "UCI": "",
        "ULN": "1234567899",
        "Surname": "Nguyễn",
        "Forenames": "Văn An",
        "Sex": "M",
        "Date of Birth": "2009-01-30",
        "Entry Code": "05839",
        "Candidate Group": "13B",
    },
]


CONTEXT = Context(centre="12345", series="2027-06", received_on=RECEIVED)
BASE_HEADER = [
    "Centre Number",
    "Candidate Number",
    "UCI",
    "ULN",
    "Surname",
    "Forenames",
    "Sex",
    "Date of Birth",
    "Entry Code",
    "Unit 1",
    "Unit 2",
    "Unit 3",
    "Unit 4",
    "Unit 5",
    "Unit 6",
    "Candidate Group",
]


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
    # Old Excel and OpenDocument workbooks are read, whatever their name (issue 24).
    "xls_renamed.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "ods_renamed.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "encrypted.xlsx": (Status.UPLOAD_FAILED, "FILE_05", 0, {"FILE_05"}),
    "zip_bomb.xlsx": (Status.UPLOAD_FAILED, "FILE_10", 0, {"FILE_10"}),
    "xml_entity_bomb.xlsx": (Status.UPLOAD_FAILED, "FILE_11", 0, {"FILE_11"}),
    "xxe.xlsx": (Status.UPLOAD_FAILED, "FILE_11", 0, {"FILE_11"}),
    "far_cell_xfd1048576.xlsx": (Status.UPLOAD_FAILED, "FILE_13", 0, {"FILE_13"}),
    # The reader tells the truth: formats and packages real programs write.
    "strict_open_xml.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "workbook_at_root.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "backslash_part_names.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "dotdot_targets.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "excel4_macro_sheet.xlsm": (Status.PROCESSING_COMPLETE, None, 3, {"SHEET_03"}),
    "dimension_whole_column.xlsx": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "dimension_whole_sheet_empty.xlsx": (Status.EMPTY_FILE, "FILE_20", 0, {"FILE_20"}),
    "error_cells_only.xlsx": (Status.READ_AND_REJECTED, "CELL_01", 0, {"CELL_01"}),
    "utf16le_no_bom.csv": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "headerless.csv": (Status.READ_AND_REJECTED, "HDR_04", 2, {"HDR_04", "HDR_01"}),
    "long_candidate_group.csv": (Status.READ_AND_REJECTED, "CELL_06", 3, {"CELL_06"}),
    "excel2007_beta.xlsx": (Status.UPLOAD_FAILED, "FILE_23", 0, {"FILE_23"}),
    "excel4_worksheet.xls": (Status.UPLOAD_FAILED, "FILE_03", 0, {"FILE_03"}),
    "password_old.xls": (Status.UPLOAD_FAILED, "FILE_24", 0, {"FILE_24"}),
    "ods_named.ods": (Status.PROCESSING_COMPLETE, None, 3, set()),
    "nul_byte_early.csv": (Status.UPLOAD_FAILED, "FILE_25", 0, {"FILE_25"}),
    "nul_byte_late.csv": (Status.UPLOAD_FAILED, "FILE_25", 0, {"FILE_25"}),
    "column_65.csv": (Status.UPLOAD_FAILED, "FILE_13", 0, {"FILE_13"}),
    "cell_over_csv_field_limit.csv": (Status.UPLOAD_FAILED, "FILE_29", 0, {"FILE_29"}),
    "merged_other_sheet.xlsx": (Status.UPLOAD_FAILED, "FILE_26", 0, {"FILE_26"}),
    "many_cell_styles.xlsx": (Status.UPLOAD_FAILED, "FILE_27", 0, {"FILE_27"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_ends_in_its_status(con, name):
    status, reason_code, rows, codes = CASES[name]
    prepared, outcome = _ingest(con, name)
    assert outcome.status == status
    assert outcome.rows == rows
    assert codes <= {i.code for i in outcome.issues}
    stored = con.execute(
        "SELECT status, reason_code, rows FROM submissions WHERE submission_id = ?", [outcome.submission_id]
    ).fetchall()
    assert stored == [(str(status), reason_code, rows)]
    if status == Status.PROCESSING_COMPLETE:
        steps = [
            (str(Status.READ_AND_RECOGNISED), None),
            (str(Status.PROCESSING_IN_PROGRESS), None),
            (str(status), None),
        ]
        assert status_history(con, outcome.submission_id) == steps
    else:
        assert status_history(con, outcome.submission_id) == [(str(status), reason_code)]


@pytest.mark.parametrize(
    "name",
    [
        "base.xlsx",
        "base.csv",
        "utf8_bom.csv",
        "semicolon.csv",
        "tab.csv",
        "mis_headers.csv",
        "libreoffice_from_csv.xlsx",
        "help_line_left_in.xlsx",
        "hidden_sheet.xlsx",
        "hidden_first_sheet.xlsx",
        "styled_empty_rows.xlsx",
        "csv_named.xlsx",
        "strict_open_xml.xlsx",
        "workbook_at_root.xlsx",
        "backslash_part_names.xlsx",
        "dotdot_targets.xlsx",
        "excel4_macro_sheet.xlsm",
        "dimension_whole_column.xlsx",
        "utf16le_no_bom.csv",
    ],
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
    assert {(i.row, i.column) for i in prepared.issues if i.code == "CELL_03"} == {
        (2, "Candidate Group"),
        (3, "Candidate Group"),
        (4, "Candidate Group"),
    }


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
    outcomes = [
        _ingest(con, name)[1]
        for name in ("zip_bomb.xlsx", "far_cell_xfd1048576.xlsx", "xml_entity_bomb.xlsx", "base.xlsx")
    ]
    assert [o.status for o in outcomes] == [Status.UPLOAD_FAILED] * 3 + [Status.PROCESSING_COMPLETE]


def test_parser_crash_in_child_fails_only_that_file(con):
    # Lift the pre-parse column check so the far cell reaches the parser, which cannot allocate it.
    limits = dataclasses.replace(ReadLimits(), max_columns=20_000, max_rows=2_000_000, child_memory_bytes=1 << 30)
    prepared, outcome = _ingest(con, "far_cell_xfd1048576.xlsx", limits=limits)
    assert outcome.status == Status.UPLOAD_FAILED
    assert prepared.refusal in {"FILE_14", "FILE_02"}
    assert _ingest(con, "base.xlsx")[1].status == Status.PROCESSING_COMPLETE


def test_parse_over_time_limit_is_killed(con):
    # A limit no child can meet: forking one from the server alone takes longer than this.
    limits = dataclasses.replace(ReadLimits(), child_seconds=0.0001)
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
    assert con.execute(
        "SELECT duplicate_of FROM submissions WHERE submission_id = ?", [second.submission_id]
    ).fetchall() == [(first.submission_id,)]
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
    code = main(
        [
            "--db",
            str(db_path),
            "--out",
            str(tmp_path / "out"),
            "ingest",
            str(INTAKE / "base.csv"),
            "--centre",
            "12345",
            "--order-ref",
            "PO-77",
            "--received-on",
            # Outside any late window: a file naming no series takes the default (in one, SER_03).
            "2027-01-15",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(result) >= {
        "file",
        "sha256",
        "centre",
        "series",
        "order_ref",
        "status",
        "reason",
        "rows",
        "accepted",
        "rejected",
        "held",
        "entries",
        "fees_pence",
        "issues",
        "reports",
    }
    assert (result["status"], result["series"], result["order_ref"], result["rows"]) == (
        "Processing complete",
        "2027-06",  # received 15 January 2027: June, the first series still at the standard fee
        "PO-77",
        3,
    )
    assert set(result["entries"]) == {"full_award", "unit", "top_up", "move_down"}
    # What the series was, where it came from, and whether any entry is late (issue 13).
    assert result["series_source"] == "default" and result["late"] is False
    assert result["claim_number"].startswith("C")


def test_cli_refused_file_exits_1_and_names_the_fix(db_path, capsys):
    assert (
        main(
            [
                "--db",
                str(db_path),
                "ingest",
                str(INTAKE / "excel4_worksheet.xls"),
                "--centre",
                "12345",
                "--received-on",
                "2026-11-28",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "Upload failed" in out and "save it as an Excel Workbook (.xlsx)" in out


def test_cli_unknown_series_is_a_usage_error(db_path, capsys):
    assert (
        main(["--db", str(db_path), "ingest", str(INTAKE / "base.csv"), "--centre", "12345", "--series", "1999-06"])
        == 2
    )


@pytest.mark.slow
def test_no_personal_data_in_logs_or_messages(con, caplog):
    caplog.set_level(logging.DEBUG)
    texts = []
    for name in sorted(CASES):
        prepared, outcome = _ingest(con, name)
        texts += [json.dumps(outcome.as_json(), ensure_ascii=False)]
    texts.append(caplog.text)
    blob = "\n".join(texts)
    for personal in PERSONAL:
        assert personal not in blob


# --- The reader tells the truth ------------------------------------------------------------------
# Formats named for what they are, packages read as the standard allows, real cells counted, error
# cells reported, every text cell bounded, no message quoting a data cell, limits on every sheet.

PERSONAL = (
    "Smith",
    "O'Brien",
    "Zoë",
    "Nguyễn",
    "Văn An",
    "Müller",
    "2009-05-14",
    "123450260042C",
    "1000000043",
    "1234567899",
)


def _messages(prepared) -> str:
    return "\n".join(f"{i.column} {i.message} {i.fix}" for i in prepared.issues)


def _refusal(name: str, limits: ReadLimits | None = None):
    prepared = prepare(INTAKE / name, limits)
    (found,) = [i for i in prepared.issues if i.code == prepared.refusal]
    return prepared.refusal, found.message


def test_strict_open_xml_is_read_with_its_iso_date_cells():
    prepared = prepare(INTAKE / "strict_open_xml.xlsx")
    assert prepared.refusal is None and prepared.sheet == "Entries"
    assert _values(prepared) == BASE  # H2 is t="d" 2009-05-14T00:00:00 in the file
    assert _intake_issues(prepared) == []


def test_excel_2007_beta_is_named_not_told_no_visible_sheet():
    code, message = _refusal("excel2007_beta.xlsx")
    assert code == "FILE_23"
    assert "pre-release (beta) version of Excel 2007" in message and "Beta 2 Technical Refresh" in message


@pytest.mark.parametrize("name", ["workbook_at_root.xlsx", "backslash_part_names.xlsx", "dotdot_targets.xlsx"])
def test_unusual_but_valid_packages_are_read(name):
    prepared = prepare(INTAKE / name)
    assert (prepared.refusal, prepared.sheet, len(prepared.rows)) == (None, "Entries", 3)


def test_excel4_macro_sheet_is_skipped_with_a_warning_and_the_data_sheet_read():
    prepared = prepare(INTAKE / "excel4_macro_sheet.xlsm")
    assert (prepared.refusal, prepared.sheet) == (None, "Sheet1")
    (warning,) = [i for i in prepared.issues if i.code == "SHEET_03"]
    # Named by its place among the tabs, never by its tab name (a tab may be named for a person).
    assert warning.severity == "warning" and "Macro1" not in warning.message and "position 1" in warning.message


def test_declared_dimension_is_not_counted_as_rows():
    prepared = prepare(INTAKE / "dimension_whole_column.xlsx")  # 3 rows declared A1:A1048576
    assert (prepared.refusal, len(prepared.rows)) == (None, 3)
    assert not [i for i in prepared.issues if i.code in ("FILE_12", "FILE_13")]


def test_a_sheet_declared_whole_but_holding_no_value_is_empty_not_too_wide():
    prepared = prepare(INTAKE / "dimension_whole_sheet_empty.xlsx")  # A1:XFD1048576, styled cells only
    assert prepared.refusal == "FILE_20"


def test_a_real_value_at_xfd1048576_is_still_refused_before_the_parser(con):
    prepared, outcome = _ingest(con, "far_cell_xfd1048576.xlsx")
    assert (prepared.refusal, outcome.status) == ("FILE_13", Status.UPLOAD_FAILED)
    assert _ingest(con, "base.xlsx")[1].status == Status.PROCESSING_COMPLETE


def test_a_sheet_of_error_cells_reports_each_error_cell(con):
    prepared, outcome = _ingest(con, "error_cells_only.xlsx")
    assert outcome.status == Status.READ_AND_REJECTED and prepared.refusal is None
    flagged = {(i.row, i.column, i.message) for i in prepared.issues if i.code == "CELL_01"}
    assert flagged == {
        (1, "A", "The cell holds the Excel error #REF!."),
        (1, "B", "The cell holds the Excel error #DIV/0!."),
        (2, "A", "The cell holds the Excel error #REF!."),
        (2, "B", "The cell holds the Excel error #DIV/0!."),
    }
    assert not [i for i in prepared.issues if i.code in ("FILE_19", "FILE_20")]


def test_excel_2_to_4_workbooks_calamine_cannot_read_are_named_by_version():
    assert _refusal("excel4_worksheet.xls") == ("FILE_03", "This is an old Excel 4.0 workbook (.xls).")


@pytest.mark.parametrize(
    ("bof", "version"),
    [
        (b"\x09\x00\x04\x00\x02\x00\x10\x00", "Excel 2.x"),
        (b"\x09\x02\x06\x00\x00\x00\x10\x00\x00\x00", "Excel 3.0"),
        (b"\x09\x04\x06\x00\x00\x00\x00\x01\x00\x00", "Excel 4.0"),
    ],
)
def test_biff2_to_4_signatures_are_old_excel_not_unrecognised_binary(tmp_path, bof, version):
    path = tmp_path / "entries.xls"
    path.write_bytes(bof + b"\x0a\x00\x00\x00")
    prepared = prepare(path)
    assert prepared.refusal == "FILE_03" and prepared.issues[0].message == f"This is an old {version} workbook (.xls)."


def test_password_protected_old_xls_says_both():
    code, message = _refusal("password_old.xls")
    assert code == "FILE_24"
    assert message == "This is an old Excel 97-2003 workbook (.xls), and it is password protected."


# Run in a child python under a 300 MB address-space cap, so a compound-file walk that allocates
# without end raises MemoryError there (1.5 s) instead of taking this machine's memory: it prints
# what the reader child's OLE2 step (`old_workbook`, never run in the main process) did, how long it
# took, and how much its peak resident memory grew.
_SNIFF_UNDER_CAP = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (300 << 20, resource.getrlimit(resource.RLIMIT_AS)[1]))
from entries.intake.compound import old_workbook
from entries.intake.sniff import Refused
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    old_workbook(data, ".xls")
    got = "read"
except Refused as refused:
    got = refused.code
except MemoryError:
    got = "MemoryError"
seconds = time.perf_counter() - started
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps({"got": got, "seconds": seconds, "grew": grew}))
"""


def _fixture_module():
    spec = importlib.util.spec_from_file_location("intake_fixtures", INTAKE / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("sectors", [1, 40_000])
def test_self_referencing_ole2_is_refused_as_damaged_at_once_without_growing_memory(tmp_path, sectors):
    # 1 sector: the committed fixture (its FAT sends the directory back to itself). 40,000 sectors
    # (20 MB): big enough that its FAT needs the DIFAT chain, which loops back to its first sector.
    path = INTAKE / "ole2_difat_loop.xls"
    if sectors > 1:
        path = tmp_path / "big_loop.xls"
        path.write_bytes(_fixture_module().ole2_difat_loop(sectors))
    else:
        assert path.read_bytes() == _fixture_module().ole2_difat_loop(1)  # the generator made it
    done = subprocess.run(
        [sys.executable, "-c", _SNIFF_UNDER_CAP, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(done.stdout)
    assert result["got"] == "FILE_02"
    assert result["seconds"] < 1.0
    assert result["grew"] < path.stat().st_size + (16 << 20)


def test_self_referencing_ole2_upload_fails_through_entries_ingest(tmp_path):
    # The whole command in a child under a 6 GB address-space cap (it reserves about 2.6 GB and uses
    # about 200 MB): the compound file is walked in the reader's child (the command's own process
    # reads its magic only), so an unguarded walk ends that child, and at worst the command, never
    # this machine.
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "entries.cli",
            "--db",
            str(tmp_path / "db" / "entries.duckdb"),
            "--out",
            str(tmp_path / "out"),
            "ingest",
            str(INTAKE / "ole2_difat_loop.xls"),
            "--centre",
            "12345",
            "--received-on",
            "2026-11-28",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap,
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "Upload failed"
    assert [i["code"] for i in result["issues"]] == ["FILE_02"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_csv_without_bom_is_read(tmp_path, encoding):
    path = tmp_path / "entries.csv"
    path.write_bytes((INTAKE / "base.csv").read_bytes().decode("utf-8").encode(encoding))
    prepared = prepare(path)
    assert (prepared.refusal, prepared.encoding) == (None, encoding)
    assert _values(prepared) == BASE


def test_a_nul_byte_gets_one_message_wherever_it_is():
    early, late = _refusal("nul_byte_early.csv"), _refusal("nul_byte_late.csv")
    assert early == late and early[0] == "FILE_25"


def test_headerless_csv_says_so_without_quoting_the_row(con):
    prepared, outcome = _ingest(con, "headerless.csv")
    assert outcome.status == Status.READ_AND_REJECTED
    (hdr04,) = [i for i in prepared.issues if i.code == "HDR_04"]
    (hdr01,) = [i for i in prepared.issues if i.code == "HDR_01"]
    assert (hdr04.row, hdr04.column, hdr04.severity) == (None, None, "error")
    assert hdr04.message == "The first row looks like candidate data, not a header row."
    assert hdr01.message.startswith("Required columns missing: Centre Number, Candidate Number, Surname")
    assert "Columns found: none." in hdr01.message
    assert not [i for i in prepared.issues if i.code == "HDR_02"]  # no label per data cell
    assert outcome.reason.endswith(hdr04.message)  # the cause comes first
    blob = json.dumps(outcome.as_json(), ensure_ascii=False) + _messages(prepared)
    stored = con.execute("SELECT string_agg(message, ' ') FROM submission_issues").fetchall()[0][0]
    for personal in (*PERSONAL, "12345, 0042", "05838", "13A"):
        assert personal not in blob and personal not in stored


def test_unknown_header_labels_are_named_by_their_column_letter_never_quoted(tmp_path):
    header = ",".join([*BASE_HEADER, "Notes", "2009-05-14", "Hussain Priya " * 4])
    path = tmp_path / "extra.csv"
    path.write_text("\r\n".join([header, (INTAKE / "base.csv").read_text().splitlines()[1] + ",x,y,z"]) + "\r\n")
    labelled = {(i.column, i.params["letter"]) for i in prepare(path).issues if i.code == "HDR_02"}
    assert labelled == {("Q", "Q"), ("R", "R"), ("S", "S")}
    texts = " ".join(f"{i.column} {i.message} {i.fix}" for i in prepare(path).issues)
    assert "Notes" not in texts and "2009-05-14" not in texts and "Hussain" not in texts


def test_missing_columns_list_template_columns_found_never_other_cells(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Centre Number,Candidate Number,Hussain\r\n12345,0042,x\r\n")
    (hdr,) = [i for i in prepare(path).issues if i.code == "HDR_01"]
    assert "Columns found: Centre Number, Candidate Number." in hdr.message and "Hussain" not in hdr.message


def test_over_long_candidate_group_is_refused_naming_the_limit(con):
    prepared, outcome = _ingest(con, "long_candidate_group.csv")
    assert outcome.status == Status.READ_AND_REJECTED
    (long,) = [i for i in prepared.issues if i.code == "CELL_06"]
    assert (long.row, long.column, long.message) == (2, "Candidate Group", "The text is longer than 32767 characters.")
    assert con.execute("SELECT count(*) FROM entries").fetchall() == [(0,)]


def test_csv_has_the_column_and_row_limits_of_a_workbook():
    assert _refusal("column_65.csv") == ("FILE_13", "The sheet has data beyond column BL.")
    code, _ = _refusal("base.csv", dataclasses.replace(ReadLimits(), max_rows=2))
    assert code == "FILE_12"
    wide_but_blank = dataclasses.replace(ReadLimits(), max_columns=16)  # columns 17+ of the header are blank
    assert prepare(INTAKE / "base.csv", wide_but_blank).refusal is None


def test_merged_cells_on_another_sheet_count_against_the_workbook():
    code, message = _refusal("merged_other_sheet.xlsx")
    assert code == "FILE_26" and "200000" in message


def test_cell_formats_are_limited():
    code, message = _refusal("many_cell_styles.xlsx")
    assert code == "FILE_27" and "64002 cell formats; the limit is 64000" in message
    assert (
        prepare(INTAKE / "many_cell_styles.xlsx", dataclasses.replace(ReadLimits(), max_cell_styles=70_000)).refusal
        is None
    )


def test_rows_limit_applies_to_every_sheet_once():
    # hidden_sheet.xlsx: sheet Old (3 rows) before Entries (4 rows); a limit of 1 entry row.
    code, message = _refusal("hidden_sheet.xlsx", dataclasses.replace(ReadLimits(), max_rows=1))
    assert code == "FILE_28" and "Old" not in message and "position 1" in message


def test_new_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENTRIES_MAX_MERGED_CELLS", "10")
    monkeypatch.setenv("ENTRIES_MAX_CELL_STYLES", "20")
    monkeypatch.setenv("ENTRIES_MAX_STYLES_BYTES", "30")
    limits = ReadLimits.from_env()
    assert (limits.max_merged_cells, limits.max_cell_styles, limits.max_styles_bytes) == (10, 20, 30)


@pytest.mark.parametrize(
    ("name", "direct"),
    [
        ("base.xlsx", True),
        ("libreoffice_from_csv.xlsx", True),
        ("hidden_sheet.xlsx", True),
        ("strict_open_xml.xlsx", False),
        ("workbook_at_root.xlsx", False),
        ("backslash_part_names.xlsx", False),
        ("dotdot_targets.xlsx", False),
        ("excel4_macro_sheet.xlsm", False),
        ("dimension_whole_column.xlsx", False),
    ],
)
def test_plain_packages_are_read_as_they_are_and_others_from_a_one_sheet_copy(name, direct):
    from entries.intake.xlsx import _plan  # no parser runs here: only the package is resolved

    assert _plan(str(INTAKE / name), ReadLimits()).direct is direct
