"""True verdicts (issue 24): what real workbooks were wrongly told, and no message quoting the file.

Fixtures are made by tests/fixtures/intake/make_fixtures.py (`make_true_verdicts`): a headerless
sheet of numbers, a whole-row dimension, a sheet with state="show", a first row of data (an e-mail
address and sentences), and a styles part that makes openpyxl print on loading.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from entries.checks.validate import Context
from entries.cli import main
from entries.core import clock
from entries.core.limits import ReadLimits
from entries.core.rules import catalogue
from entries.core.status import Status
from entries.intake import xlsx
from entries.intake.headers import TEMPLATE_COLUMNS, aliases, header_key
from entries.pipeline.hall import prepare
from entries.reports.annotate_sheets import ERRORS_COLUMNS
from entries.store import refdata
from tests.conftest import FIXTURES

INTAKE = FIXTURES / "intake"
RECEIVED = dt.date(2026, 11, 28)
CONTEXT = Context(centre="12345", series="2027-06", received_on=RECEIVED)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from entries.store import database

    con = database.connect(tmp_path_factory.mktemp("ref") / "ref.duckdb")
    return refdata.snapshot(con)


def _codes(prepared) -> set[str]:
    return {i.code for i in prepared.issues}


def test_a_headerless_sheet_of_numbers_is_told_it_has_no_header_row_never_empty(reference):
    prepared = prepare(INTAKE / "headerless_numbers.xlsx", CONTEXT, reference)
    assert "HDR_04" in _codes(prepared)
    assert not _codes(prepared) & {"FILE_19", "FILE_20"} and prepared.refusal is None
    assert prepared.has_errors


def test_a_whole_row_dimension_is_read_not_damaged(reference):
    prepared = prepare(INTAKE / "dimension_whole_rows.xlsx", CONTEXT, reference)
    assert "FILE_02" not in _codes(prepared)
    assert prepared.rows is not None and prepared.rows["Candidate Number"].tolist() == ["0042", "0043", "0107"]


def test_a_sheet_calamine_refuses_as_it_is_is_read_once_more_from_a_copy(monkeypatch, tmp_path):
    # Taken for a plain package, the whole-row dimension goes to calamine as it is (which refuses
    # it); the second try, through a one-sheet copy without the dimension, reads every row.
    monkeypatch.setattr(xlsx, "_plain", lambda *args: True)
    table, _scan, _offset = xlsx.read_xlsx(str(INTAKE / "dimension_whole_rows.xlsx"), ReadLimits(), str(tmp_path))
    assert table.num_rows == 4


def test_a_sheet_with_state_show_is_visible(reference):
    prepared = prepare(INTAKE / "sheet_state_show.xlsx", CONTEXT, reference)
    assert "FILE_18" not in _codes(prepared)
    assert prepared.rows is not None and len(prepared.rows) == 3


def test_a_first_row_of_data_is_never_quoted_cells_named_by_letter(reference):
    prepared = prepare(INTAKE / "header_row_of_data.xlsx", CONTEXT, reference)
    assert {"HDR_01", "HDR_02", "CELL_01", "CELL_03"} <= _codes(prepared)
    first_row = ["Amy Smith", "amy.smith@example.org", "Needs a reader in the exam hall", "Tutor group Year 13"]
    for found in prepared.issues:
        for text in first_row:
            assert text not in f"{found.message} {found.fix} {found.column}", found.code
    columns = {(i.code, i.row): i.column for i in prepared.issues if i.code.startswith("CELL_")}
    assert columns[("CELL_01", 2)] == "B"
    assert sorted(i.column for i in prepared.issues if i.code == "HDR_02") == ["A", "B", "C", "D"]


# ----------------------------------------------------------------------------- the corpus


SPREADSHEETS = (".xlsx", ".xlsm", ".csv", ".xls", ".ods")


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix.lower() in SPREADSHEETS)


def _cell_texts(path: Path, file_format: str | None) -> set[str]:
    """Every cell's text, read with openpyxl (xlsx) or csv, not with the code under test."""
    texts: set[str] = set()
    if file_format == "csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "utf-16", "cp1252"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        sample = text[:4096]
        delimiter = max(",;\t|", key=sample.count)
        # csv's field limit is process-wide and the reader under test relies on its default: raised
        # for this read only, then put back.
        before = csv.field_size_limit(1 << 24)
        try:
            for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                texts.update(cell.strip() for cell in record)
        finally:
            csv.field_size_limit(before)
        return texts
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a workbook openpyxl cannot open: its cells are read by the reader alone
        return texts
    try:
        for ws in wb.worksheets:
            for values in ws.iter_rows(values_only=True):
                texts.update(str(v).strip() for v in values if v is not None)
    finally:
        wb.close()
    return texts


def _catalogue_words() -> str:
    """The catalogue's own wording and the template's column names and spellings: a cell may hold
    one of these without a message quoting it."""
    rules = catalogue().values()
    return " ".join([*(r.message + " " + r.fix for r in rules), *TEMPLATE_COLUMNS, *aliases()]).casefold()


def _quotable(text: str, own_words: str, codes: set[str]) -> bool:
    """Texts a message must never hold: 4 characters or more, not a number or a code, not the
    template's or the catalogue's own words."""
    if len(text) < 4 or re.fullmatch(r"[\d.,:/\- ]+|#[A-Z/0!?]+", text) or text in codes:
        return False
    return text.casefold() not in own_words and header_key(text) not in aliases()


@pytest.mark.slow
def test_no_message_fix_or_column_quotes_a_cell_of_any_fixture(reference):
    own_words = _catalogue_words()
    codes = {str(c) for frame in reference.tables.values() for c in frame.get("entry_code", [])}
    checked = 0
    for path in _fixture_files():
        if path.name in ("zip_bomb.xlsx", "xml_entity_bomb.xlsx", "far_cell_xfd1048576.xlsx", "lying_zip_header.xlsx"):
            continue  # refused before any cell is read (test_intake); openpyxl must not open them here
        prepared = prepare(path, CONTEXT, reference)
        if prepared.refusal is not None:
            continue  # refused unread: nothing of its cells was read to be quoted
        texts = [t for t in _cell_texts(path, prepared.file_format) if _quotable(t, own_words, codes)]
        said = [(i.code, f"{i.message}\n{i.fix}\n{i.column or ''}") for i in prepared.issues]
        quoted = sorted({(code, t) for code, words in said for t in texts if t in words})
        assert not quoted, f"{path.relative_to(FIXTURES)} quotes its cells: {quoted[:5]}"
        checked += 1
    assert checked >= 60


# ----------------------------------------------------------------------------- the command line


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 1, 20))


def _ingest(db_path: Path, out: Path, path: Path, capsys, *extra: str) -> tuple[int, dict, str]:
    code = main(
        ["ingest", str(path), "--centre", "12345", "--db", str(db_path), "--out", str(out), "--json"]
        + ["--series", "2027-06", "--received-on", RECEIVED.isoformat(), *extra]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err  # the whole stdout is one JSON document


def test_a_library_print_never_reaches_the_json(con, db_path, tmp_path, capsys, pinned):
    # openpyxl prints "0 is out of range" when it loads this workbook for the annotated copy.
    code, document, err = _ingest(db_path, tmp_path / "out", INTAKE / "named_style_without_format.xlsx", capsys)
    assert code == 1 and document["status"] == str(Status.READ_AND_REJECTED)
    assert "out of range" in err  # the library did print: on stderr


def _errors_csv(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == ERRORS_COLUMNS
        return list(reader)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("truncated.xlsx", Status.UPLOAD_FAILED),
        ("zero_bytes.xlsx", Status.EMPTY_FILE),
        ("header_only.xlsx", Status.EMPTY_FILE),
    ],
)
def test_a_refusal_carries_its_fix_in_the_json_and_an_errors_csv(con, db_path, tmp_path, capsys, pinned, name, status):
    code, document, _ = _ingest(db_path, tmp_path / "out", INTAKE / name, capsys)
    assert code == 1 and document["status"] == str(status)
    assert document["issues"] and all(i["fix"] == catalogue()[i["code"]].fix for i in document["issues"])
    written = _errors_csv(document["reports"]["errors"])
    assert Path(document["reports"]["errors"]).parent == tmp_path / "out" / "12345"
    assert [(r["Code"], r["Fix"]) for r in written] == [(i["code"], i["fix"]) for i in document["issues"]]


def test_a_duplicate_gets_its_own_errors_csv_and_the_originals_reports_stay(con, db_path, tmp_path, capsys, pinned):
    out = tmp_path / "out"
    first_code, first, _ = _ingest(db_path, out, INTAKE / "base.xlsx", capsys)
    assert first_code == 0
    before = {p.name: p.read_bytes() for p in (out / "12345").iterdir()}
    code, document, _ = _ingest(db_path, out, INTAKE / "base.xlsx", capsys)
    assert code == 1 and document["status"] == str(Status.DUPLICATE_FILE)
    assert all(i["fix"] for i in document["issues"])
    errors = Path(document["reports"]["errors"])
    assert errors.name.endswith(".duplicate.errors.csv") and errors.name not in before
    assert "FILE_22" in {r["Code"] for r in _errors_csv(str(errors))}
    assert {n: (out / "12345" / n).read_bytes() for n in before} == before


def test_every_issue_of_a_rejected_file_has_its_fix_and_its_errors_csv(con, db_path, tmp_path, capsys, pinned):
    code, document, _ = _ingest(db_path, tmp_path / "out", INTAKE / "header_row_of_data.xlsx", capsys)
    assert code == 1 and document["reports"]["annotated"]
    assert all(isinstance(i["fix"], str) and i["fix"] for i in document["issues"])
    assert {r["Code"] for r in _errors_csv(document["reports"]["errors"])} == {i["code"] for i in document["issues"]}


def test_fixtures_are_what_make_fixtures_says():
    with zipfile.ZipFile(INTAKE / "dimension_whole_rows.xlsx") as z:
        assert '<dimension ref="1:4"/>' in z.read("xl/worksheets/sheet1.xml").decode()
    with zipfile.ZipFile(INTAKE / "sheet_state_show.xlsx") as z:
        assert 'state="show"' in z.read("xl/workbook.xml").decode()
    with zipfile.ZipFile(INTAKE / "named_style_without_format.xlsx") as z:
        assert '<cellStyleXfs count="0"/>' in z.read("xl/styles.xml").decode()


def test_the_nightly_door_writes_a_refusals_errors_csv_too(con, db_path, tmp_path, capsys, pinned):
    """The errors CSV is the hall's: a night's refused file gets one as an ingest's does."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    (inbox / "12345").mkdir(parents=True)
    (inbox / "12345" / "zero_bytes.xlsx").write_bytes((INTAKE / "zero_bytes.xlsx").read_bytes())
    night = ["--db", str(db_path), "--out", str(out), "nightly", str(inbox), "--in-process"]
    main([*night, "--received-on", RECEIVED.isoformat(), "--settle-seconds", "0"])
    capsys.readouterr()
    written = list((out / "12345").glob("*.errors.csv"))
    assert len(written) == 1 and {r["Code"] for r in _errors_csv(str(written[0]))} == {"FILE_01"}
