"""Old Excel (.xls: BIFF8 and BIFF5), binary (.xlsb) and OpenDocument (.ods) workbooks are read like
an .xlsx (issue 24): the same rows, the same normalisation, the same verdicts, in the same
sandboxed child; an OLE2 file's structure is only looked at in that child.

Fixtures: tests/fixtures/intake/make_old_formats.py (and its README). No tool here writes an
.xlsb, so the .xlsb path is tested with a mocked child result and its date flag on record bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from entries.checks.validate import Context
from entries.core import clock
from entries.core.limits import ReadLimits
from entries.core.status import Status
from entries.intake import compound, reader
from entries.intake.calamine import xlsb_date1904
from entries.intake.sniff import Refused, sniff
from entries.pipeline.hall import prepare as prepare_with
from entries.pipeline.hall import write_reports
from entries.store import refdata
from entries.store.commit import commit
from tests.conftest import FIXTURES
from tests.test_intake import BASE

INTAKE = FIXTURES / "intake"
CONTEXT = Context(centre="12345", series="2027-06", received_on=dt.date(2026, 11, 28))
XLSB_TYPE = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from entries.store import database

    con = database.connect(tmp_path_factory.mktemp("ref") / "ref.duckdb")
    return refdata.snapshot(con)


def _values(prepared) -> list[dict]:
    return prepared.rows[list(BASE[0])].to_dict("records")


def _nfc(rows: list[dict]) -> list[dict]:
    return [{k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]


@pytest.mark.parametrize(
    ("name", "file_format"),
    [
        ("entries_template.xls", "xls"),
        ("xls_renamed.xlsx", "xls"),
        ("entries_template_biff5.xls", "xls"),
        ("entries_template.ods", "ods"),
        ("ods_named.ods", "ods"),
        ("ods_renamed.xlsx", "ods"),
    ],
)
def test_old_and_opendocument_workbooks_read_to_the_base_rows(reference, name, file_format):
    prepared = prepare_with(INTAKE / name, CONTEXT, reference)
    assert (prepared.refusal, prepared.file_format, prepared.sheet) == (None, file_format, "Entries")
    values = _values(prepared)
    if name == "entries_template_biff5.xls":
        # Excel 95 stores text in the code page (1258): ễ is ê and a combining tilde, the same letter.
        assert values != BASE and _nfc(values) == BASE
        # Combining accents are letters of a name (NAM_03 accepts them; NAM_04 says they are accents).
        assert not [i for i in prepared.issues if i.severity == "error"]
    else:
        assert values == BASE
        assert not [i for i in prepared.issues if i.severity == "error"]


def test_numeric_codes_in_an_xls_get_their_zeros_back_as_in_an_xlsx(reference):
    # LibreOffice's CSV import made 0042 the number 42 and 05838 the number 5838; the .xls keeps
    # them as numbers, and the date of birth as a date cell.
    prepared = prepare_with(INTAKE / "numbers_lost_zeros.xls", CONTEXT, reference)
    assert _values(prepared) == BASE
    from_xlsx = prepare_with(INTAKE / "libreoffice_from_csv.xlsx", CONTEXT, reference)
    restored = sorted((i.row, i.column, i.message) for i in prepared.issues if i.code == "CELL_04")
    assert restored == sorted((i.row, i.column, i.message) for i in from_xlsx.issues if i.code == "CELL_04")
    assert (2, "Candidate Number") in {(r, c) for r, c, _ in restored}


@pytest.mark.parametrize("name", ["date1904.xls", "date1904.ods"])
def test_1904_dates_and_serials_use_the_files_own_date_system(reference, name):
    prepared = prepare_with(INTAKE / name, CONTEXT, reference)
    assert _values(prepared)[:3] == BASE  # date cells
    assert prepared.rows.loc[3, "Date of Birth"] == "2012-03-02"  # the bare number 39508, 1904 system
    assert [(i.code, i.row) for i in prepared.issues if i.code.startswith(("CELL_", "FILE_"))] == [("CELL_05", 5)]


def test_an_1900_xls_reads_a_bare_serial_in_the_1900_system(reference, tmp_path):
    # The same file with its DATEMODE record set to 0: 39508 is then 2008-03-01, not 2012-03-02.
    raw = (INTAKE / "date1904.xls").read_bytes()
    assert raw.count(b"\x22\x00\x02\x00\x01\x00") == 1
    path = tmp_path / "date1900.xls"
    path.write_bytes(raw.replace(b"\x22\x00\x02\x00\x01\x00", b"\x22\x00\x02\x00\x00\x00"))
    prepared = prepare_with(path, CONTEXT, reference)
    assert prepared.rows.loc[3, "Date of Birth"] == "2008-03-01"


# ----------------------------------------------------------------------------- refusals


def _refusal(path: Path) -> tuple[str | None, str]:
    prepared = prepare_with(path, CONTEXT, None)
    return prepared.refusal, prepared.issues[0].message if prepared.issues else ""


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("password_old.xls", "FILE_24"),
        ("encrypted.xlsx", "FILE_05"),
        ("ole2_difat_loop.xls", "FILE_02"),
        ("excel4_worksheet.xls", "FILE_03"),
    ],
)
def test_what_cannot_be_read_keeps_its_precise_refusal(name, code):
    assert _refusal(INTAKE / name)[0] == code


def test_a_password_protected_xls_named_as_xlsx_says_both(tmp_path):
    path = tmp_path / "entries.xlsx"
    path.write_bytes((INTAKE / "password_old.xls").read_bytes())
    assert _refusal(path) == (
        "FILE_24",
        "This is an old Excel 97-2003 workbook (.xls) named as .xlsx, and it is password protected.",
    )


def _fixture_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("intake_fixtures", INTAKE / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("stream", "detail"),
    [("WordDocument", "a Word document (.doc)"), ("PowerPoint Document", "a PowerPoint presentation (.ppt)")],
)
def test_other_office_compound_files_are_named(tmp_path, stream, detail):
    path = tmp_path / "entries.xls"
    path.write_bytes(_fixture_module().ole2_file(stream, bytes(4096)))
    assert _refusal(path) == ("FILE_08", f"The file is not a spreadsheet this service reads ({detail}).")


def test_a_workbook_stream_without_a_bof_is_damaged(tmp_path):
    path = tmp_path / "entries.xls"
    path.write_bytes(_fixture_module().ole2_file("Workbook", bytes(4096)))
    assert _refusal(path)[0] == "FILE_02"


def _encrypted_ods(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/>'
            "</manifest:file-entry></manifest:manifest>",
        )
        zf.writestr("content.xml", bytes(range(256)))
    return path


def test_a_password_protected_ods_is_named_and_misnaming_said_only_when_misnamed(tmp_path):
    assert _refusal(_encrypted_ods(tmp_path / "a.ods")) == (
        "FILE_04",
        "This is an OpenDocument spreadsheet (.ods), and it is password protected.",
    )
    assert _refusal(_encrypted_ods(tmp_path / "a.xlsx"))[1] == (
        "This is an OpenDocument spreadsheet (.ods) named as .xlsx, and it is password protected."
    )


def test_an_ods_declaring_entities_is_refused_before_calamine(tmp_path):
    path = tmp_path / "bomb.ods"
    with zipfile.ZipFile(INTAKE / "entries_template.ods") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "content.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            dst.writestr(info, data)
    assert _refusal(path)[0] == "FILE_11"


def test_an_xls_over_the_row_limit_is_refused(reference):
    prepared = prepare_with(INTAKE / "entries_template.xls", CONTEXT, reference, ReadLimits(max_rows=2))
    assert prepared.refusal == "FILE_12"


# ----------------------------------------------------------------------------- OLE2 only in the child


def test_the_main_process_never_parses_an_ole2_file(reference, monkeypatch):
    # Every compound-file step raises in this process: the reads and refusals still come back right,
    # because they are made in the reader's child.
    def never(*_args, **_kwargs):
        raise AssertionError("an OLE2 file was parsed in the main process")

    for name in ("open_compound", "old_workbook", "workbook_flags", "biff_password"):
        monkeypatch.setattr(compound, name, never)
    assert _values(prepare_with(INTAKE / "entries_template.xls", CONTEXT, reference)) == BASE
    assert prepare_with(INTAKE / "password_old.xls", CONTEXT, reference).refusal == "FILE_24"
    assert prepare_with(INTAKE / "encrypted.xlsx", CONTEXT, reference).refusal == "FILE_05"


def test_sniff_reads_an_ole2_files_magic_only(tmp_path):
    # Magic then garbage: sniff says "ole2" without looking further (the child finds it damaged).
    path = tmp_path / "entries.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\xff" * 10_000)
    sniffed = sniff(path, ReadLimits())
    assert (sniffed.kind, sniffed.misnamed) == ("ole2", True)
    assert _refusal(path)[0] == "FILE_02"


# ----------------------------------------------------------------------------- content types by part


def _base_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(INTAKE / "base.xlsx") as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_an_xlsx_mapping_bin_to_the_xlsb_type_by_default_is_an_xlsx(reference, tmp_path):
    # As SheetJS's wtf_path.xlsx: a Default entry gives `.bin` the binary workbook's content type,
    # and a .bin part is in the package, but the workbook part is XML with its own Override.
    parts = _base_parts()
    types = parts["[Content_Types].xml"].decode()
    assert f'PartName="/xl/workbook.xml" ContentType="{XLSX_TYPE}"' in types
    types = types.replace("<Default ", f'<Default Extension="bin" ContentType="{XLSB_TYPE}"/><Default ', 1)
    parts["[Content_Types].xml"] = types.encode()
    parts["xl/printerSettings/printerSettings1.bin"] = b"\x00" * 64
    path = _write(tmp_path / "wtf_path.xlsx", parts)
    assert sniff(path, ReadLimits()).kind == "xlsx"
    prepared = prepare_with(path, CONTEXT, reference)
    assert (prepared.refusal, prepared.file_format) == (None, "xlsx") and _values(prepared) == BASE


def test_the_workbook_parts_own_content_type_decides(tmp_path):
    # The root relationship names xl/workbook.bin; no Override for it: the Default for .bin decides.
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.bin"/></Relationships>'
    )
    xlsb = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="bin" ContentType="{XLSB_TYPE}"/>'
            f'<Override PartName="/xl/other.xml" ContentType="{XLSX_TYPE}"/></Types>'
        ).encode(),
        "_rels/.rels": rels.encode(),
        "xl/workbook.bin": b"\x83\x01\x00",
    }
    assert sniff(_write(tmp_path / "book.xlsx", xlsb), ReadLimits()).kind == "xlsb"
    # The same package whose Override types the workbook part as SpreadsheetML XML: an xlsx.
    xlsb["[Content_Types].xml"] = xlsb["[Content_Types].xml"].replace(b"/xl/other.xml", b"/xl/workbook.bin")
    assert sniff(_write(tmp_path / "book2.xlsx", xlsb), ReadLimits()).kind == "xlsx"


# ----------------------------------------------------------------------------- .xlsb


def _brt(kind: int, payload: bytes) -> bytes:
    def varint(value: int) -> bytes:
        out = b""
        while True:
            byte, value = value & 0x7F, value >> 7
            out += bytes([byte | (0x80 if value else 0)])
            if not value:
                return out

    return varint(kind) + varint(len(payload)) + payload


def test_xlsb_date_system_comes_from_its_workbook_properties():
    begin_book, file_version = _brt(0x0083, b""), _brt(0x0080, b"\x00" * 12)
    props = _brt(0x0099, (1).to_bytes(4, "little") + b"\x00" * 8)
    assert xlsb_date1904(begin_book + file_version + props) is True
    assert xlsb_date1904(begin_book + file_version + _brt(0x0099, b"\x00" * 12)) is False
    assert xlsb_date1904(b"\x83\x01\x00") is False


def test_an_xlsb_is_read_in_the_child_as_its_own_format(reference, tmp_path, monkeypatch):
    # No tool here writes an .xlsb: the child's answer is given, and what the parent asked for checked.
    path = _write(
        tmp_path / "entries.xlsb",
        {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                f'<Override PartName="/xl/workbook.bin" ContentType="{XLSB_TYPE}"/></Types>'
            ).encode(),
            "_rels/.rels": (
                b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>'
            ),
            "xl/workbook.bin": b"\x83\x01\x00",
        },
    )
    asked: list[tuple[str, str]] = []

    def child(_path, out, _limits, kind="xlsx", suffix=""):
        asked.append((kind, suffix))
        wb = openpyxl.load_workbook(INTAKE / "base.xlsx")
        rows = [[c if c is not None else None for c in r] for r in wb.active.iter_rows(values_only=True)]
        table = pa.table({f"c{i}": [r[i] for r in rows] for i in range(len(rows[0]))})
        with pa.OSFile(str(Path(out) / "cells.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write(table)
        meta = {"file_format": "xlsb", "sheet": "Entries", "date1904": False, "offset": 0, "flags": [], "warnings": []}
        (Path(out) / "meta.json").write_text(json.dumps(meta))
        return 0

    monkeypatch.setattr(reader, "_run_child", child)
    prepared = prepare_with(path, CONTEXT, reference)
    assert asked == [("xlsb", ".xlsb")]
    assert (prepared.refusal, prepared.file_format) == (None, "xlsb")
    assert _values(prepared) == BASE


# ----------------------------------------------------------------------------- through `entries ingest`


def _confirmation_rows(path: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return [tuple(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]


def _ingest(cli, path: Path) -> dict:
    code, out, _err = cli("ingest", str(path), "--centre", "12345", "--received-on", "2027-01-15", "--json")
    assert code == 0
    return json.loads(out)


def _stored(db: Path) -> list[tuple]:
    from entries.store import database

    con = database.connect(db)
    try:
        return con.execute(
            "SELECT e.entry_code, e.candidate_number, e.kind, e.fee_pence, e.late, e.candidate_group, c.surname, c.forenames,"
            " c.date_of_birth FROM entries e JOIN candidates c USING (candidate_id) ORDER BY 2, 1"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("name", ["entries_template.xls", "entries_template.ods"])
def test_an_xls_or_ods_template_is_ingested_exactly_like_the_xlsx(tmp_path, loaded_store, monkeypatch, name):
    import contextlib
    import shutil

    from entries.cli import main

    monkeypatch.setattr(clock, "today", lambda: dt.date(2027, 1, 20))
    results = {}
    for source in ("base.xlsx", name):
        folder = tmp_path / source.replace(".", "_")
        folder.mkdir()
        db = folder / "e.duckdb"
        shutil.copyfile(loaded_store, db)
        upload = folder / f"entries{Path(source).suffix}"
        shutil.copyfile(INTAKE / source, upload)

        def cli(*args: str, db: Path = db, folder: Path = folder) -> tuple[int, str, str]:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["--db", str(db), "--out", str(folder / "out"), *args])
            return code, out.getvalue(), err.getvalue()

        result = _ingest(cli, upload)
        results[source] = (result, _stored(db))
    (xlsx, xlsx_stored), (other, other_stored) = results["base.xlsx"], results[name]
    assert other["status"] == xlsx["status"] == "Processing complete"
    assert (other["rows"], other["entries"]) == (xlsx["rows"], xlsx["entries"])
    assert other_stored == xlsx_stored and len(other_stored) == 3
    confirmation = [k for k in xlsx["reports"] if "confirmation" in k and str(xlsx["reports"][k]).endswith(".xlsx")]
    assert confirmation
    for key in confirmation:
        mine = _confirmation_rows(other["reports"][key])
        theirs = _confirmation_rows(xlsx["reports"][key])
        claim_x, claim_o = xlsx["claim_number"], other["claim_number"]
        assert [tuple(str(c).replace(claim_o, "CLAIM") for c in r) for r in mine] == [
            tuple(str(c).replace(claim_x, "CLAIM") for c in r) for r in theirs
        ]


def test_an_xls_with_findings_gets_a_rebuilt_annotated_copy_without_rpt_01(reference, tmp_path, loaded_store):
    import shutil

    from entries.store import database

    db = tmp_path / "e.duckdb"
    shutil.copyfile(loaded_store, db)
    con = database.connect(db)
    try:
        prepared = prepare_with(INTAKE / "date1904.xls", CONTEXT, reference)
        outcome = commit(con, prepared, reference, order_ref="PO-1")
    finally:
        con.close()
    assert outcome.status == Status.PROCESSING_COMPLETE and outcome.issues  # CELL_05, a warning
    reports = write_reports(prepared, outcome, tmp_path / "out")
    assert reports["annotated"] is not None
    assert "RPT_01" not in {i.code for i in outcome.issues}
    wb = openpyxl.load_workbook(reports["annotated"])
    values = {c for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c}
    assert {"Patel", "2012-03-02", "0108"} <= values
    assert not any("could not be marked up" in str(v) for v in values)


def test_refused_old_formats_are_never_a_crash(reference):
    for name in ("password_old.xls", "ole2_difat_loop.xls"):
        with pytest.raises(Refused):
            reader.read_upload(INTAKE / name)
