"""New workbooks written as SpreadsheetML directly, row by row: the reports built from the store.

In: sheets (`Sheet`: a name, rows of cells with a look, optional widths, a footer reference); out:
an xlsx file. The confirmation (written for every stored file, on the night's one writer),
invoices and credit notes, the history and finance summary, and the onboarding report. Why not a
library: xlsxwriter spent about 70 ms of the writer's 260 ms a 1,000-row file building a Python
object per cell, openpyxl more (`benchmarks/xlsx_writers.py` measures xlsxwriter against this on
the same rows). This writes the parts xlsxwriter writes in constant-memory mode (inline strings, a
few cell styles, column widths, a frozen header row, fixed document times) with one string per
row, in a few lines a reader can check against ECMA-376. Workbooks a centre sent are still edited
with openpyxl (entries.reports.annotate), and the template is made with it (data validation lists).

Cells are typed: text is an inline string (never a formula, however it starts, so codes keep
their leading zeros), `Pence` a pounds number in a `£` format, a date or datetime a serial number
in a day-month-year format, bool a boolean, ints and floats numbers; None and "" are left out.
Text is made to read back unchanged: characters XML 1.0 cannot hold become U+FFFD, and a literal
`_xHHHH_` has its underscore escaped as `_x005F_` (Excel and calamine decode such sequences).

Every sheet prints: A4, one page wide (as many tall as it takes), portrait unless its columns are
too wide for it, its first header row repeated on every page, and a footer with the document's
reference and the page number. Column widths come from the cells (capped at `MAX_WIDTH`, longer
text wraps), and the `<dimension>` names the used range: the rows are streamed to a spool (memory,
then a file beside the workbook) so the widths and range, which come before the rows in the XML,
are known when the sheet's part is put together. Memory stays flat however many rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import numbers
import re
import shutil
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, SupportsFloat, cast
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from entries.intake.column_letters import column_letters

# Every workbook's created and modified time (and every part's time in the zip): the same input
# gives the same bytes of data. openpyxl's workbooks get it too (entries.reports.files).
FIXED_TIME = dt.datetime(2000, 1, 1)
ZIP_TIME = FIXED_TIME.timetuple()[:6]
DOCUMENT_TIME = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
# UTF-16 code units Excel holds in a cell (an emoji is two); longer text is cut there.
EXCEL_MAX_TEXT = 32_767
MONEY_FORMAT = '"£"#,##0.00'  # Excel's currency format for pounds: a number cell centres can add up
DATE_FORMAT = "dd/mm/yyyy"  # as a UK reader writes a date; a date cell sorts and filters as one
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MAX_WIDTH = 60  # no column is made wider (characters): longer text wraps within it
SHEET_NAME_MAX = 31  # characters Excel allows in a sheet's name
# Excel's day 0 (its 1900 leap-year bug makes 30 December 1899 the epoch for every date after
# February 1900, which every date here is).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Page set-up: A4 (paperSize 9), margins in inches (room at the foot for the footer), and the
# width in characters past which a sheet prints landscape (portrait, fitted to the width, would
# shrink its text below about 7 pt).
A4 = 9
MARGINS = '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.6" header="0.25" footer="0.25"/>'
PORTRAIT_WIDTH = 140

# Characters XML 1.0 cannot hold (control characters but tab, LF and CR; lone surrogates; U+FFFE/F).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel stores some characters as _xHHHH_ in the XML and decodes any such sequence on reading, so
# a literal one must be written with its underscore escaped as _x005F_ to read back unchanged.
# Every such underscore is escaped (a lookahead, so overlapping ones like `_x005F_x0041_` are too).
_EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# One search decides whether a text needs any of the work below (most cells need none).
_NEEDS_WORK = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\\s|\\s$")
_SHEET_NAME_REFUSED = re.compile(r"[:\\/?*\[\]]")

# Cell styles: the index into cellXfs is font * 8 + number format * 2 + wrap.
_FONTS = {"plain": 0, "title": 1, "bold": 2, "heading": 3, "header": 2, "note": 0}
_GENERAL, _MONEY, _DATE, _DATETIME = range(4)
_WRAP = 1


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


def excel_cut(text: str) -> str:
    """`text` cut to what a cell holds: `EXCEL_MAX_TEXT` UTF-16 code units, never half a pair."""
    if len(text) <= EXCEL_MAX_TEXT // 2:  # two units a character at most: no need to count
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * EXCEL_MAX_TEXT:
        return text
    units = units[: 2 * EXCEL_MAX_TEXT]
    if 0xD800 <= int.from_bytes(units[-2:], "little") <= 0xDBFF:  # the first half of a pair: dropped
        units = units[:-2]
    return units.decode("utf-16-le", "surrogatepass")


def check_sheet_names(names: Sequence[str]) -> None:
    """Raise ValueError unless every name is one Excel accepts: 1 to 31 characters, none of
    `: \\ / ? * [ ]`, not starting or ending with an apostrophe, not "History" (Excel keeps that
    name for its change tracking and refuses to open a sheet of it), and no two the same ignoring case."""
    seen: set[str] = set()
    for name in names:
        if not 1 <= len(name) <= SHEET_NAME_MAX:
            raise ValueError(f"sheet name {name!r}: Excel allows 1 to {SHEET_NAME_MAX} characters")
        if _SHEET_NAME_REFUSED.search(name):
            raise ValueError(f"sheet name {name!r}: Excel refuses any of : \\ / ? * [ ]")
        if name.startswith("'") or name.endswith("'"):
            raise ValueError(f"sheet name {name!r}: Excel refuses an apostrophe at either end")
        if name.casefold() == "history":
            raise ValueError(f"sheet name {name!r}: Excel keeps that name for itself")
        if name.casefold() in seen:
            raise ValueError(f"sheet name {name!r}: another sheet has it (Excel ignores case)")
        seen.add(name.casefold())


def _text_xml(ref: str, style: int, text: str) -> str:
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


def _number_text(ref: str, value: SupportsFloat) -> str:
    # int() and float() first: NumPy's numbers (from a frame) have their own repr.
    if isinstance(value, numbers.Integral):
        return str(int(cast(int, value)))
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cell {ref}: {value} is not a number a workbook can hold")
    return repr(number)


def excel_serial(value: dt.date) -> float | int:
    """A date (whole days) or datetime (days and a fraction) as Excel's serial number; a datetime
    with a time zone is refused (a cell has none, so which clock it meant would be lost)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"{value.isoformat()}: a cell holds no time zone; give a naive local time")
        delta = value - EXCEL_EPOCH
        return delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400
    return (value - EXCEL_EPOCH.date()).days


@dataclass
class _Measure:
    """What a sheet's rows showed as they were written: each column's widest cell that cannot
    spill into its neighbour, each column's widest last-in-its-row cell, the rows and columns used,
    and the first header row."""

    inner: list[float]
    tail: list[float]
    given: Sequence[float] = ()
    last_row: int = 0
    columns: int = 0
    header_row: int = 0
    header_columns: int = 0
    notes: list[int] = field(default_factory=list)


def _write_row(number: int, cells: Sequence[object], look: str, letters: list[str], seen: _Measure) -> str:
    """One `<row>` of the sheet (empty text when no cell has a value), measuring its cells."""
    last = len(cells) - 1
    while last >= 0 and (cells[last] is None or cells[last] == ""):
        last -= 1
    if last < 0:
        return ""
    while len(letters) <= last:
        letters.append(column_letters(len(letters)))
        seen.inner.append(0)
        seen.tail.append(0)
    if last >= seen.columns:
        seen.columns = last + 1
    seen.last_row = number
    if look == "header" and not seen.header_row:
        seen.header_row, seen.header_columns = number, last + 1
    if look == "note":
        return _note_row(number, cells[0], seen)
    base = _FONTS["plain" if look == "label" else look] * 8
    label = look == "label"
    inner, tail = seen.inner, seen.tail
    parts = [""]  # the row's start tag, once its height is known
    lines = 1
    for c in range(last + 1):
        value = cells[c]
        if value is None:
            continue
        ref = f"{letters[c]}{number}"
        font = _FONTS["bold"] * 8 if label and c == 0 else base
        kind = ""
        if isinstance(value, str):
            if not value:
                continue
            if len(value) > EXCEL_MAX_TEXT // 2:
                value = excel_cut(value)
            style = font
            width: float
            if "\n" in value:
                width = max(map(len, value.split("\n")))
                style += _WRAP
            else:
                width = len(value) * 1.1 if font else len(value)
                # Long text wraps within its column, unless it is the last of its row and not in
                # the table's last column: then it runs on over the empty cells beside it.
                if width > MAX_WIDTH and (c < last or c + 1 == seen.header_columns):
                    style += _WRAP
            if style & _WRAP:
                given = seen.given[c] if c < len(seen.given) else min(width, MAX_WIDTH)
                lines = max(lines, _lines(value, given))
            if _NEEDS_WORK.search(value):
                parts.append(_text_xml(ref, style, value))
            elif style:
                parts.append(f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
            # A row's last text may run on over the empty cells beside it: kept apart (see _widths).
            widths = tail if c == last else inner
            if width > widths[c]:
                widths[c] = width
            continue
        if type(value) is int:  # the commonest number (counts): no protocol check
            style, text = font, str(value)
            width = min(len(text), 12)
        elif isinstance(value, Pence):
            style, text = font + _MONEY * 2, _number_text(ref, pounds(value.pence))
            width = len(f"{abs(value.pence) / 100:,.2f}") + 2
        elif isinstance(value, bool):
            style, text, width, kind = font, str(int(value)), 5, ' t="b"'
        elif isinstance(value, dt.datetime):
            style, text, width = font + _DATETIME * 2, repr(excel_serial(value)), 16
        elif isinstance(value, dt.date):
            style, text, width = font + _DATE * 2, str(excel_serial(value)), 10
        elif isinstance(value, SupportsFloat):  # Python's and NumPy's ints and floats
            style, text = font, _number_text(ref, value)
            width = min(len(text), 12)
        else:  # anything else is text
            text = excel_cut(str(value))
            parts.append(_text_xml(ref, font, text))
            widths = tail if c == last else inner
            widths[c] = max(widths[c], min(len(text), MAX_WIDTH))
            continue
        s = f' s="{style}"' if style else ""
        parts.append(f'<c r="{ref}"{s}{kind}><v>{text}</v></c>')
        if width > inner[c]:  # a number, date or amount too wide for its column shows #: always measured
            inner[c] = width
    # A row of wrapped text is given the height of its lines: no reader is relied on to fit it.
    parts[0] = f'<row r="{number}" ht="{15 * lines}" customHeight="1">' if lines > 1 else f'<row r="{number}">'
    parts.append("</row>")
    return "".join(parts)


def _note_row(number: int, value: object, seen: _Measure) -> str:
    """A note: its text in column A, wrapped across the table's columns (merged when the sheet
    ends), the row as tall as its lines across the widths the columns have so far."""
    text = excel_cut(str(value))
    seen.notes.append(number)
    columns = max(seen.columns, seen.header_columns)
    across = sum(_widths(seen.given, replace(seen, columns=columns)))
    lines = _lines(text, across)
    height = f' ht="{15 * lines}" customHeight="1"' if lines > 1 else ""
    return f'<row r="{number}"{height}>{_text_xml(f"A{number}", _WRAP, text)}</row>'


@functools.lru_cache(maxsize=1024)  # a report's long texts repeat (a title a row): wrapped once each
def _lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped at its words in a column `width` characters wide."""
    columns = max(1, int(width) - 1)  # a character's padding; text runs a little wider than digits
    return sum(len(textwrap.wrap(line, columns)) or 1 for line in text.split("\n"))


def row_xml(number: int, cells: Sequence[object], look: str = "plain") -> str:
    """One `<row>` of a sheet as `write_workbook` writes it (`number` counts from 1; see `Sheet`
    for the looks and the cell types); empty text when no cell has a value."""
    return _write_row(number, cells, look, [], _Measure([], []))


# A styled row: its cells and its look ("plain"; "bold"; "header": a table's column headings, bold,
# the sheet's first one printed atop every page; "heading" (bold 12 pt); "title" (bold 14 pt);
# "label": the first cell bold, the rest plain; or "note": one text, wrapped across the table).
StyledRow = tuple[Sequence[object], str]


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name (checked by `check_sheet_names`), its rows, the widths of
    its first columns in characters (the rest, or all when none are given, from the cells),
    whether its first row stays in view, the reference its printed footer carries (an invoice
    number, a claim number), its orientation on paper ("auto": landscape when wide), and whether
    its first "header" row is printed atop every page (a sheet of several tables says no)."""

    name: str
    rows: Iterable[StyledRow]
    widths: Sequence[float] = ()
    freeze_header: bool = False
    reference: str = ""
    orientation: str = "auto"
    repeat_header: bool = True


def write_sheet(
    target: Path, sheet: str, rows: Iterable[StyledRow], widths: Sequence[float] = (), reference: str = ""
) -> None:
    """Write `rows` as the one sheet `sheet` of a new workbook at `target` (see `write_workbook`)."""
    write_workbook(target, [Sheet(sheet, rows, widths, reference=reference)])


def write_workbook(target: Path, sheets: Sequence[Sheet]) -> None:
    """Write `sheets` as a new workbook at `target`, the first one selected (the caller makes the
    write atomic). The same sheets always give the same bytes (fixed times, parts in a fixed order).
    Raises ValueError for no sheets or a sheet name Excel refuses."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    names = [sheet.name for sheet in sheets]
    check_sheet_names(names)
    for sheet in sheets:
        if sheet.orientation not in ("auto", "portrait", "landscape"):
            raise ValueError(f"sheet {sheet.name!r}: orientation is auto, portrait or landscape")
    header_rows: list[int] = []
    with ZipFile(target, "w", ZIP_DEFLATED) as archive:
        for name, text in _fixed_parts(names):
            _add(archive, name, text)
        for n, sheet in enumerate(sheets, start=1):
            with archive.open(_info(f"xl/worksheets/sheet{n}.xml"), "w") as part:
                header_rows.append(_write_sheet(part, sheet, n == 1, Path(target).parent))
        _add(archive, "xl/workbook.xml", _workbook_xml(names, header_rows))


def _write_sheet(part: IO[bytes], sheet: Sheet, selected: bool, scratch: Path) -> int:
    """Write the sheet's part; returns the row to repeat on every printed page (0: none)."""
    seen = _Measure([], [], sheet.widths)
    letters: list[str] = []
    # The rows first, to the spool: the widths and the used range go before them in the XML.
    with tempfile.SpooledTemporaryFile(max_size=4 << 20, mode="w+b", dir=str(scratch)) as spool:
        chunk: list[str] = []
        for r, (cells, look) in enumerate(sheet.rows, start=1):
            chunk.append(_write_row(r, cells, look, letters, seen))
            if len(chunk) >= 512:
                spool.write("".join(chunk).encode("utf-8"))
                chunk.clear()
        spool.write("".join(chunk).encode("utf-8"))
        widths = _widths(sheet.widths, seen)
        part.write(_sheet_head(sheet, selected, seen, widths).encode("utf-8"))
        spool.seek(0)
        shutil.copyfileobj(spool, part, 1 << 20)
    part.write(_sheet_tail(sheet, widths, seen).encode("utf-8"))
    return seen.header_row if sheet.repeat_header else 0


def _widths(given: Sequence[float], seen: _Measure) -> list[float]:
    """Each used column's width in characters: as given, else its widest cell (the last column's
    last-in-row cells too, which have nowhere to run on to) with a character's padding, capped."""
    out = []
    for c in range(max(seen.columns, len(given))):
        if c < len(given):
            out.append(float(given[c]))
            continue
        widest = max(seen.inner[c], seen.tail[c] if c == seen.columns - 1 else 0)
        out.append(float(min(MAX_WIDTH, max(4, math.ceil(widest) + 2))))
    return out


def _info(name: str) -> ZipInfo:
    info = ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _add(archive: ZipFile, name: str, text: str) -> None:
    archive.writestr(_info(name), text.encode("utf-8"))


def _escape_attribute(text: str) -> str:
    text = legal_text(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _escape_text(text: str) -> str:
    return legal_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument"


def _sheet_head(sheet: Sheet, selected: bool, seen: _Measure, widths: Sequence[float]) -> str:
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{_excel_width(w)!r}" customWidth="1"/>' for n, w in enumerate(widths, start=1)
    )
    used = f"A1:{column_letters(seen.columns - 1)}{seen.last_row}" if seen.columns else "A1"
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
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="{used}"/>'
        f"<sheetViews>{view}</sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def _sheet_tail(sheet: Sheet, widths: Sequence[float], seen: _Measure) -> str:
    end = column_letters(max(seen.columns, seen.header_columns, 1) - 1)
    merged = "".join(f'<mergeCell ref="A{r}:{end}{r}"/>' for r in seen.notes) if end != "A" else ""
    if merged:
        merged = f'<mergeCells count="{len(seen.notes)}">{merged}</mergeCells>'
    orientation = sheet.orientation
    if orientation == "auto":
        orientation = "landscape" if sum(widths) > PORTRAIT_WIDTH else "portrait"
    # In a header or footer `&` starts a code (&P the page, &N the pages): a literal one is `&&`.
    reference = legal_text(sheet.reference)[:100].replace("&", "&&")
    footer = (f"&L{reference}" if reference else "") + "&RPage &P of &N"
    return (
        "</sheetData>"
        f"{merged}"
        f"{MARGINS}"
        f'<pageSetup paperSize="{A4}" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
        f"<headerFooter><oddFooter>{_escape_text(footer)}</oddFooter></headerFooter>"
        "</worksheet>"
    )


def _excel_width(width: float) -> float:
    # Excel stores a width in characters with the cell's padding: a digit is 7 pixels and the
    # padding 5 in Calibri 11 (xlsxwriter's arithmetic, so the columns look as they did).
    if width <= 0:
        return 0.0
    if width < 1:
        return int(int(width * 12 + 0.5) / 7 * 256) / 256
    return int((int(width * 7 + 0.5) + 5) / 7 * 256) / 256


def _workbook_xml(names: Sequence[str], header_rows: Sequence[int]) -> str:
    sheet_list = "".join(
        f'<sheet name="{_escape_attribute(name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, start=1)
    )
    # Each sheet's first header row printed atop every page (Excel's print titles).
    titles = "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">'
        f"{_escape_text(_quoted(name))}!${row}:${row}</definedName>"
        for n, (name, row) in enumerate(zip(names, header_rows, strict=True))
        if row
    )
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
        f"<sheets>{sheet_list}</sheets>{f'<definedNames>{titles}</definedNames>' if titles else ''}</workbook>"
    )


def _quoted(name: str) -> str:
    """A sheet's name as a formula names it: in apostrophes, an apostrophe in it doubled."""
    return "'" + name.replace("'", "''") + "'"


def _styles_xml() -> str:
    font = '<sz val="{size}"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
    fonts = (
        f"<font>{font.format(size=11)}</font>"
        f"<font><b/>{font.format(size=14)}</font>"
        f"<font><b/>{font.format(size=11)}</font>"
        f"<font><b/>{font.format(size=12)}</font>"
    )
    formats = (0, 164, 165, 166)  # general, money, date, datetime
    xfs = []
    for font_id in range(4):
        for format_id in formats:
            for wrap in (False, True):
                applied = (' applyNumberFormat="1"' if format_id else "") + (' applyFont="1"' if font_id else "")
                # Top-aligned, so a row with a wrapped cell reads across from its first line.
                # Dates sit at the left, as the text beside them does.
                left = ' horizontal="left"' if format_id in (165, 166) else ""
                wraps = ' wrapText="1"' if wrap else ""
                alignment = f'<alignment{left} vertical="top"{wraps}/>'
                xfs.append(
                    f'<xf numFmtId="{format_id}" fontId="{font_id}" fillId="0" borderId="0" xfId="0"'
                    f'{applied} applyAlignment="1">{alignment}</xf>'
                )
    number_formats = "".join(
        f'<numFmt numFmtId="{n}" formatCode="{_escape_attribute(code)}"/>'
        for n, code in ((164, MONEY_FORMAT), (165, DATE_FORMAT), (166, DATETIME_FORMAT))
    )
    return (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="3">{number_formats}</numFmts>'
        f'<fonts count="4">{fonts}</fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _fixed_parts(names: Sequence[str]) -> list[tuple[str, str]]:
    """Every part but the sheets and the workbook (written after the sheets: it names each one's
    print titles, found as its rows are written)."""
    numbered = list(enumerate(names, start=1))
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPE}.spreadsheetml.worksheet+xml"/>'
        for n, _ in numbered
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>' for n, _ in numbered
    )
    styles_id = len(names) + 1
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
            "xl/_rels/workbook.xml.rels",
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            f'{sheet_rels}<Relationship Id="rId{styles_id}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        ),
        ("xl/styles.xml", _styles_xml()),
    ]
