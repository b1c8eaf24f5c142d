"""Nothing unsafe handed back (issue 22 item 5): the annotated copy of a centre's workbook keeps its
values and marks, never its hyperlinks, external links, data connections or macros.

The hostile workbooks are made here from two real ones: `base.xlsx` (openpyxl loads it: the copy is
the centre's own workbook marked up) and `mac_empty_style.xlsx` (openpyxl cannot load it: the copy
is the rows rebuilt in a new workbook). Into each go a `javascript:` and a `file://` cell hyperlink,
a web address, a jump within the workbook, a `HYPERLINK` formula with its saved value, an external
workbook link with its `file:` path and defined names into it, a web query connection with a query
table filling a table over the entries, custom document properties, a VBA project and the macro-enabled content type, and one real error (Sex `Q`
on row 3) to be shown in red.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from entries.checks.validate import Context
from entries.core import clock
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.pipeline import hall
from entries.reports import annotate_safety, annotate_sources
from entries.store import refdata
from tests import test_portal
from tests.conftest import FIXTURES
from tests.test_portal import status_of, upload

portal = test_portal.portal  # the portal's fixture: a store with two centres' users and an operator

INTAKE = FIXTURES / "intake"
MAC_EMPTY_STYLE = FIXTURES / "operations" / "mac_empty_style.xlsx"  # openpyxl cannot load it
TODAY = dt.date(2027, 1, 20)
RED = "FFC7CE"

PLAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_ENABLED = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MACRO_TEMPLATE = "application/vnd.ms-excel.template.macroEnabled.main+xml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
UNSAFE_STRINGS = (b"javascript:", b"file:")
# Relationship types and parts that must not be in the copy.
UNSAFE_RELATIONSHIPS = (
    "hyperlink",
    "externalLink",
    "externalLinkPath",
    "vbaProject",
    "connections",
    "queryTable",
    "custom-properties",
)
UNSAFE_PARTS = re.compile(r"externalLink|vbaProject|connections\.xml|custom\.xml|queryTable", re.IGNORECASE)

_SHEET_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rIdJs" Type="{REL}/hyperlink" Target="javascript:alert(document.cookie)" TargetMode="External"/>'
    f'<Relationship Id="rIdFile" Type="{REL}/hyperlink" Target="file:///C:/Windows/System32/calc.exe" TargetMode="External"/>'
    f'<Relationship Id="rIdWeb" Type="{REL}/hyperlink" Target="http://example.invalid/login" TargetMode="External"/>'
    f'<Relationship Id="rIdRange" Type="{REL}/hyperlink" Target="JavaScript:void(0)" TargetMode="External"/>'
    f'<Relationship Id="rIdTable" Type="{REL}/table" Target="../tables/table1.xml"/>'
    "</Relationships>"
)
_HYPERLINKS = (
    f'<hyperlinks xmlns:r="{REL}">'
    '<hyperlink ref="B2" r:id="rIdJs"/>'
    '<hyperlink ref="E3" r:id="rIdFile" tooltip="file:///C:/Windows/System32/calc.exe"/>'
    '<hyperlink ref="F4" r:id="rIdWeb"/>'
    '<hyperlink ref="F2" location="Entries!A1" display="Entries"/>'
    '<hyperlink ref="H2:H3" r:id="rIdRange"/>'
    "</hyperlinks>"
)
_EXTERNAL_LINK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{REL}">'
    '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
)
_EXTERNAL_LINK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/externalLinkPath" Target="file:///C:/secret/book.xlsx" TargetMode="External"/>'
    "</Relationships>"
)
_CONNECTIONS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<connection id="1" name="Query" type="4" refreshOnLoad="1"><webPr url="file:///C:/secret/query.iqy"/></connection>'
    "</connections>"
)
_COLUMNS = TEMPLATE_COLUMNS[: TEMPLATE_COLUMNS.index("Series")]  # base.xlsx's 16, A to P
_QUERY_TABLE_TABLE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" name="Query" '
    'displayName="Query" ref="A1:P4" tableType="queryTable" connectionId="1">'
    f'<tableColumns count="{len(_COLUMNS)}">'
    + "".join(f'<tableColumn id="{n}" name="{name}" queryTableFieldId="{n}"/>' for n, name in enumerate(_COLUMNS, 1))
    + "</tableColumns></table>"
)
_QUERY_TABLE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/queryTable" Target="../queryTables/queryTable1.xml"/>'
    "</Relationships>"
)
_QUERY_TABLE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<queryTable xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" name="Query" connectionId="1" '
    'autoFormatId="16" applyNumberFormats="0" applyBorderFormats="0" applyFontFormats="0" applyPatternFormats="0" '
    'applyAlignmentFormats="0" applyWidthHeightFormats="0"/>'
)
_CUSTOM_PROPERTIES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Source">'
    "<vt:lpwstr>file:///C:/secret/source.xlsx</vt:lpwstr></property></Properties>"
)
_DEFINED_NAMES = (
    "<definedNames>"
    '<definedName name="Elsewhere">[1]Sheet1!$A$1</definedName>'
    "<definedName name=\"OnAShare\">'file:///C:/secret/[book.xlsx]Sheet1'!$A$1</definedName>"
    '<definedName name="Kept">Entries!$A$1:$P$4</definedName>'
    "</definedNames>"
)
_CONTENT_TYPES = (
    '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    '<Override PartName="/xl/externalLinks/externalLink1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
    '<Override PartName="/xl/connections.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml"/>'
    '<Override PartName="/xl/tables/table1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>'
    '<Override PartName="/xl/queryTables/queryTable1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.queryTable+xml"/>'
    '<Override PartName="/docProps/custom.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>'
)
_WORKBOOK_RELS = (
    f'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
    f'<Relationship Id="rIdExt" Type="{REL}/externalLink" Target="externalLinks/externalLink1.xml"/>'
    f'<Relationship Id="rIdConn" Type="{REL}/connections" Target="connections.xml"/>'
)
# An OLE2 header and a VBA attribute line: enough to be a vbaProject.bin to a package reader.
_VBA_PROJECT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Attribute VB_Name = "ThisWorkbook"' + b"\x00" * 64


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, f"{old!r} is not in the part"
    return data.replace(old, new, 1)


def hostile_workbook(source: Path, target: Path, main_type: str = MACRO_ENABLED, sex: str = "Q") -> Path:
    """`source` (an openpyxl-written entries workbook) with every active part of the module
    docstring added and its row 3 Sex made `sex` (`Q`: an error), saved at `target`."""
    with zipfile.ZipFile(source) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts["[Content_Types].xml"] = _replace(
        _replace(parts["[Content_Types].xml"], PLAIN.encode(), main_type.encode()),
        b"</Types>",
        _CONTENT_TYPES.encode() + b"</Types>",
    )
    parts["_rels/.rels"] = _replace(
        parts["_rels/.rels"],
        b"</Relationships>",
        f'<Relationship Id="rIdCustom" Type="{REL}/custom-properties" Target="docProps/custom.xml"/>'.encode()
        + b"</Relationships>",
    )
    parts["xl/_rels/workbook.xml.rels"] = _replace(
        parts["xl/_rels/workbook.xml.rels"], b"</Relationships>", _WORKBOOK_RELS.encode() + b"</Relationships>"
    )
    workbook = _replace(
        parts["xl/workbook.xml"],
        b"</sheets>",
        b'</sheets><externalReferences><externalReference r:id="rIdExt"/></externalReferences>',
    )
    parts["xl/workbook.xml"] = _replace(workbook, b"<definedNames />", _DEFINED_NAMES.encode())
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet = _replace(
        sheet,
        b'<c r="G3" t="inlineStr"><is><t>F</t></is></c>',
        f'<c r="G3" t="inlineStr"><is><t>{sex}</t></is></c>'.encode(),
    )
    sheet = re.sub(
        rb'<c r="P3"[^>]*>.*?</c>',
        b'<c r="P3" t="str"><f>HYPERLINK("javascript:alert(1)","13A")</f><v>13A</v></c>',
        sheet,
        count=1,
    )
    sheet = _replace(sheet, b"<pageMargins", _HYPERLINKS.encode() + b"<pageMargins")
    parts["xl/worksheets/sheet1.xml"] = _replace(
        sheet,
        b"</worksheet>",
        f'<tableParts count="1"><tablePart xmlns:r="{REL}" r:id="rIdTable"/></tableParts></worksheet>'.encode(),
    )
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = _SHEET_RELS.encode()
    parts["xl/vbaProject.bin"] = _VBA_PROJECT
    parts["xl/externalLinks/externalLink1.xml"] = _EXTERNAL_LINK.encode()
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = _EXTERNAL_LINK_RELS.encode()
    parts["xl/connections.xml"] = _CONNECTIONS.encode()
    parts["xl/tables/table1.xml"] = _QUERY_TABLE_TABLE.encode()
    parts["xl/tables/_rels/table1.xml.rels"] = _QUERY_TABLE_RELS.encode()
    parts["xl/queryTables/queryTable1.xml"] = _QUERY_TABLE.encode()
    parts["docProps/custom.xml"] = _CUSTOM_PROPERTIES.encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return target


def expected_values() -> dict[str, object]:
    """The entries sheet's values as the centre sees them: base.xlsx with row 3's Sex `Q`."""
    ws = openpyxl.load_workbook(INTAKE / "base.xlsx")["Entries"]
    values = {cell.coordinate: cell.value for row in ws.iter_rows() for cell in row if cell.value is not None}
    values["G3"] = "Q"
    return values


def assert_nothing_active(package: bytes) -> None:
    """The copy's zip: no hyperlink, external link, connection, custom property or macro part or
    relationship, no `javascript:` or `file:` anywhere, and the plain workbook content type."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        names = zf.namelist()
        assert not [n for n in names if UNSAFE_PARTS.search(n)]
        for name in names:
            data = zf.read(name)
            found = [s for s in (*UNSAFE_STRINGS, b"connectionid", b"querytable") if s in data.lower()]
            assert not found, f"{found} in {name}"
            if name.endswith(".rels"):
                kinds = re.findall(rb'Type="[^"]*/([^"/]+)"', data)
                assert not {k.decode() for k in kinds} & set(UNSAFE_RELATIONSHIPS), f"{kinds} in {name}"
                assert b'TargetMode="External"' not in data, name
            if name.startswith("xl/worksheets/"):
                assert b"<hyperlink" not in data and b"<f>" not in data, name
        content_types = zf.read("[Content_Types].xml")
        assert b"macroEnabled" not in content_types and b"vbaProject" not in content_types
        assert b"template" not in content_types
        assert re.search(
            rb'PartName="/xl/workbook.xml" ContentType="' + re.escape(PLAIN.encode()) + b'"', content_types
        )


def assert_marked_with_values_kept(path: Path) -> None:
    """The error is red on its cell, and every value of the centre's sheet is there unchanged."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Entries"]
    assert str(ws["G3"].fill.fgColor.rgb)[-6:].upper() == RED
    values = {c: ws[c].value for c in expected_values()}
    assert values == expected_values()  # B2 keeps 0042, E3 O'Brien, P3 13A: the link's text, not its target
    assert all(cell.hyperlink is None for sheet in wb.worksheets for row in sheet.iter_rows() for cell in row)


def _submit(con, path: Path, out_dir: Path):
    ctx = Context(centre="12345", series="2027-06", received_on=TODAY)
    outcome = hall.submit(con, path, context=ctx, reference=refdata.snapshot(con), order_ref=None, out_dir=out_dir)
    assert any(i.row == 3 and i.column == "Sex" and i.severity == "error" for i in outcome.issues)
    return outcome


@pytest.mark.parametrize(
    ("source", "main_type", "made_as"),
    [
        (INTAKE / "base.xlsx", MACRO_ENABLED, "own"),
        (INTAKE / "base.xlsx", MACRO_TEMPLATE, "own"),
        (MAC_EMPTY_STYLE, MACRO_ENABLED, "rebuilt"),
    ],
    ids=["xlsm-own", "xltm-own", "xlsm-rebuilt"],
)
def test_hyperlinks_external_links_and_macros_never_reach_the_annotated_copy(con, tmp_path, source, main_type, made_as):
    hostile = hostile_workbook(source, tmp_path / "hyperlink_javascript.xlsm", main_type)
    outcome = _submit(con, hostile, tmp_path / "out")
    assert outcome.reports.get("annotated_as", "own") == made_as  # with_reports names only a rebuilt copy
    copy = Path(outcome.reports["annotated"])
    assert copy.suffix == ".xlsx"
    assert_nothing_active(copy.read_bytes())
    assert_marked_with_values_kept(copy)


def test_the_centres_own_names_into_its_own_sheets_are_kept(con, tmp_path):
    outcome = _submit(con, hostile_workbook(INTAKE / "base.xlsx", tmp_path / "external_link.xlsm"), tmp_path / "out")
    wb = openpyxl.load_workbook(outcome.reports["annotated"])
    assert dict(wb.defined_names.items()).keys() == {"Kept"}  # the two into another workbook are gone
    assert wb.defined_names["Kept"].value == "Entries!$A$1:$P$4"


def test_a_copy_still_holding_a_link_is_never_handed_back_its_rows_are_rebuilt(con, tmp_path, monkeypatch):
    # Should the links ever survive the load (a part nobody thought of), the saved package's check
    # refuses the copy and the centre gets its rows in a new workbook instead.
    monkeypatch.setattr(annotate_sources, "drop_active_parts", lambda wb: None)
    outcome = _submit(con, hostile_workbook(INTAKE / "base.xlsx", tmp_path / "hyperlink_file.xlsm"), tmp_path / "out")
    assert outcome.reports["annotated_as"] == "rebuilt"
    assert "RPT_01" in {i.code for i in outcome.issues}
    assert_nothing_active(Path(outcome.reports["annotated"]).read_bytes())
    assert not list((tmp_path / "out").rglob("*.tmp"))  # the refused copy is not left behind


def test_the_package_check_refuses_a_hyperlink_relationship(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Smith"
    wb.active["A1"].hyperlink = "javascript:alert(1)"
    wb.save(tmp_path / "linked.xlsx")
    with pytest.raises(ValueError):
        annotate_safety.check_package(tmp_path / "linked.xlsx")
    annotate_safety.drop_active_parts(wb)
    wb.save(tmp_path / "plain.xlsx")
    annotate_safety.check_package(tmp_path / "plain.xlsx")


def test_the_annotated_copy_downloaded_from_the_portal_holds_no_link_or_macro(portal, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    client, _, tmp = portal
    c, token = client("northfield")
    # Sex `Female` is read as F with a warning (SEX_02): the file is stored, and its copy shows the warning.
    hostile = hostile_workbook(INTAKE / "base.xlsx", tmp / "hyperlink_javascript.xlsm", sex="Female")
    r = upload(c, token, hostile)
    assert r.status_code == 200 and status_of(r.text) == "Processing complete"
    link = re.search(r'href="(/submissions/\d+/reports/annotated)"', r.text).group(1)
    ops, _ = client("ops")
    for downloader in (c, ops):  # the centre and the operator download the same copy
        got = downloader.get(link)
        assert got.status_code == 200
        assert_nothing_active(got.content)
