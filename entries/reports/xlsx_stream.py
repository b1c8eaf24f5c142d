"""New workbooks written as SpreadsheetML directly, row by row: the reports built from the store.

The confirmation (written for every stored file, on the night's one writer), invoices, the history
and finance summary, and the onboarding report. Why not a library: xlsxwriter spent about 70 ms
of the writer's 260 ms a 1,000-row file building a Python object per cell, openpyxl more
(`benchmarks/xlsx_writers.py` measures xlsxwriter against this on the same rows). This writes the
parts xlsxwriter writes in constant-memory mode (inline strings, six cell styles, column widths, a
frozen header row, fixed document times) with one string per row, in a few lines a reader can
check against ECMA-376. Workbooks a centre sent are still edited with openpyxl
(entries.reports.annotate), and the template is made with it (data validation lists).

Every text cell is an inline string: never a formula, however it starts. Text is made to read back
unchanged: characters XML 1.0 cannot hold become U+FFFD, and a literal `_xHHHH_` has its underscore
escaped as `_x005F_` (Excel and calamine decode such sequences on reading).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, SupportsFloat, cast
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from entries.intake.column_letters import column_letters

# Every workbook's created and modified time (and every part's time in the zip): the same input
# gives the same bytes of data. openpyxl's workbooks get it too (entries.reports.files).
FIXED_TIME = dt.datetime(2000, 1, 1)
ZIP_TIME = FIXED_TIME.timetuple()[:6]
DOCUMENT_TIME = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
EXCEL_MAX_TEXT = 32_767  # characters Excel holds in a cell; longer text is cut there (as xlsxwriter does)
MONEY_FORMAT = '"£"#,##0.00'  # Excel's currency format for pounds: a number cell centres can add up

# Cell styles (indexes into cellXfs below).
PLAIN, TITLE, BOLD, MONEY, BOLD_MONEY, HEADING = range(6)

# Characters XML 1.0 cannot hold (control characters but tab, LF and CR; lone surrogates; U+FFFE/F).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel stores some characters as _xHHHH_ in the XML and decodes any such sequence on reading, so
# a literal one must be written with its underscore escaped as _x005F_ to read back unchanged.
# Every such underscore is escaped (a lookahead, so overlapping ones like `_x005F_x0041_` are too).
_EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# One search decides whether a text needs any of the work below (most cells need none).
_NEEDS_WORK = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\\s|\\s$")


@dataclass(frozen=True)
class Pence:
    """An amount in integer pence: a pounds number cell (`£` format) in xlsx, pence in CSV."""

    pence: int


def pounds(pence: int) -> float:
    """Integer pence as pounds for a number cell (exactly the nearest float to pence / 100)."""
    return int(pence) / 100


def legal_text(text: str) -> str:
    """`text` with each character XML 1.0 cannot hold (openpyxl refuses them) replaced by U+FFFD."""
    return XML_ILLEGAL.sub("\ufffd", text)


def excel_text(text: str) -> str:
    """Text a workbook can hold and Excel reads back as the same text.

    Characters XML cannot hold become U+FFFD (rather than a writer refusing the cell), and a
    literal `_xHHHH_` gets its underscore escaped so Excel and calamine do not decode it. Applied
    once, as the cell is written (or as an openpyxl workbook is made safe), never twice.
    """
    return _EXCEL_ESCAPE.sub("_x005F_", legal_text(text))


def _text_cell(ref: str, style: int, text: str) -> str:
    if len(text) > EXCEL_MAX_TEXT:
        text = text[:EXCEL_MAX_TEXT]
    space = ""
    if _NEEDS_WORK.search(text):
        if text[:1].isspace() or text[-1:].isspace():
            space = ' xml:space="preserve"'
        text = excel_text(text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # A parser turns a bare CR into LF (XML's line-end handling); a character reference stays CR.
        text = text.replace("\r", "&#13;")
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number_cell(ref: str, style: int, value: SupportsFloat) -> str:
    # int() and float() first: NumPy's numbers (from a frame) have their own repr.
    if isinstance(value, numbers.Integral):
        text = str(int(cast(int, value)))
    else:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"cell {ref}: {value} is not a number a workbook can hold")
        text = repr(number)
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}><v>{text}</v></c>'


# Per look: the style of a text or number cell, and of a money cell.
_STYLES = {
    "plain": (PLAIN, MONEY),
    "bold": (BOLD, BOLD_MONEY),
    "title": (TITLE, BOLD_MONEY),
    "heading": (HEADING, BOLD_MONEY),
}


def row_xml(number: int, cells: Sequence[object], looks: Sequence[str], letters: Sequence[str]) -> str:
    """One `<row>` of the sheet: `number` counts from 1; `looks[c]` is cell c's look ("plain",
    "bold", "heading" or "title"); None leaves a cell empty; `Pence` is money, bool a boolean,
    ints and floats (NumPy's too) numbers, anything else text."""
    parts = [f'<row r="{number}">']
    for c, value in enumerate(cells):
        if value is None:
            continue
        ref = f"{letters[c]}{number}"
        style, money = _STYLES[looks[c]]
        if isinstance(value, str):
            parts.append(_text_cell(ref, style, value))
        elif isinstance(value, Pence):
            parts.append(_number_cell(ref, money, pounds(value.pence)))
        elif isinstance(value, bool):
            s = f' s="{style}"' if style else ""
            parts.append(f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, SupportsFloat):  # Python's and NumPy's ints and floats
            parts.append(_number_cell(ref, style, value))
        else:
            parts.append(_text_cell(ref, style, str(value)))
    parts.append("</row>")
    return "".join(parts)


def _escape_attribute(text: str) -> str:
    text = legal_text(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# A styled row: its cells and its look ("plain", "bold", "heading" (bold 12 pt), "title" (bold
# 14 pt), or "label": the first cell bold, the rest plain).
StyledRow = tuple[Sequence[object], str]


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name (31 characters at most, as Excel allows), its rows, the
    widths of its first columns in characters, and whether its first row stays in view."""

    name: str
    rows: Iterable[StyledRow]
    widths: Sequence[float] = ()
    freeze_header: bool = False


def write_sheet(target: Path, sheet: str, rows: Iterable[StyledRow], widths: Sequence[float] = ()) -> None:
    """Write `rows` as the one sheet `sheet` of a new workbook at `target` (see `write_workbook`)."""
    write_workbook(target, [Sheet(sheet, rows, widths)])


def write_workbook(target: Path, sheets: Sequence[Sheet]) -> None:
    """Write `sheets` as a new workbook at `target`, the first one selected (the caller makes the
    write atomic). The same sheets always give the same bytes (fixed times, parts in a fixed order)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    with ZipFile(target, "w", ZIP_DEFLATED) as archive:
        for name, text in _fixed_parts([sheet.name for sheet in sheets]):
            _add(archive, name, text)
        for n, sheet in enumerate(sheets, start=1):
            with archive.open(_info(f"xl/worksheets/sheet{n}.xml"), "w") as part:
                _write_rows(part, sheet, selected=n == 1)


def _write_rows(part: IO[bytes], sheet: Sheet, selected: bool) -> None:
    part.write(_sheet_head(sheet, selected).encode("utf-8"))
    letters: list[str] = []
    chunk: list[str] = []
    for r, (cells, look) in enumerate(sheet.rows, start=1):
        while len(letters) < len(cells):
            letters.append(column_letters(len(letters)))
        if look == "label":  # the first cell bold, the rest plain
            looks = ["bold", *["plain"] * (len(cells) - 1)]
        else:
            looks = [look] * len(cells)
        chunk.append(row_xml(r, cells, looks, letters))
        if len(chunk) >= 512:
            part.write("".join(chunk).encode("utf-8"))
            chunk.clear()
    chunk.append(
        "</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )
    part.write("".join(chunk).encode("utf-8"))


def _info(name: str) -> ZipInfo:
    info = ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _add(archive: ZipFile, name: str, text: str) -> None:
    archive.writestr(_info(name), text.encode("utf-8"))


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument"


def _sheet_head(sheet: Sheet, selected: bool) -> str:
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{_excel_width(w)!r}" customWidth="1"/>'
        for n, w in enumerate(sheet.widths, start=1)
    )
    chosen = ' tabSelected="1"' if selected else ""
    if sheet.freeze_header:
        view = (
            f'<sheetView{chosen} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>'
        )
    else:
        view = f'<sheetView{chosen} workbookViewId="0"/>'
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f"<sheetViews>{view}</sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def _excel_width(width: float) -> float:
    # Excel stores a width in characters with the cell's padding: a digit is 7 pixels and the
    # padding 5 in Calibri 11 (xlsxwriter's arithmetic, so the columns look as they did).
    if width <= 0:
        return 0.0
    if width < 1:
        return int(int(width * 12 + 0.5) / 7 * 256) / 256
    return int((int(width * 7 + 0.5) + 5) / 7 * 256) / 256


def _fixed_parts(names: Sequence[str]) -> list[tuple[str, str]]:
    numbered = list(enumerate(names, start=1))
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPE}.spreadsheetml.worksheet+xml"/>'
        for n, _ in numbered
    )
    sheet_list = "".join(
        f'<sheet name="{_escape_attribute(name[:31])}" sheetId="{n}" r:id="rId{n}"/>' for n, name in numbered
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>' for n, _ in numbered
    )
    styles_id = len(names) + 1
    font = '<sz val="{size}"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
    fonts = (
        f"<font>{font.format(size=11)}</font>"
        f"<font><b/>{font.format(size=14)}</font>"
        f"<font><b/>{font.format(size=11)}</font>"
        f"<font><b/>{font.format(size=12)}</font>"
    )
    money = _escape_attribute(MONEY_FORMAT)
    xfs = (
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="164" fontId="2" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
        '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    )
    return [
        (
            "[Content_Types].xml",
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{_TYPE}.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.spreadsheetml.sheet.main+xml"/>'
            f"{sheet_types}</Types>",
        ),
        (
            "_rels/.rels",
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        ),
        (
            "docProps/app.xml",
            f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>entries</Application></Properties>",
        ),
        (
            "docProps/core.xml",
            f"{_XML}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{DOCUMENT_TIME}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{DOCUMENT_TIME}</dcterms:modified>'
            "</cp:coreProperties>",
        ),
        (
            "xl/workbook.xml",
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{sheet_list}</sheets></workbook>",
        ),
        (
            "xl/_rels/workbook.xml.rels",
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            f'{sheet_rels}<Relationship Id="rId{styles_id}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        ),
        (
            "xl/styles.xml",
            f'{_XML}<styleSheet xmlns="{_MAIN}">'
            f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{money}"/></numFmts>'
            f'<fonts count="4">{fonts}</fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="6">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>",
        ),
    ]
