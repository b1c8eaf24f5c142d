"""Read the entries sheet of an xlsx/xlsm workbook as text, flagging cells that are not plain values.

Runs inside the reader's child process (`entries.intake.sandbox`): a parser crash or memory blow-up
there costs one file, never the run.

The package is resolved here, not by the parser: the workbook part is found through `_rels/.rels`
(so it may sit at the package root), part names may use `\\` and relationship targets `..`, and
Strict Open XML namespaces are read like transitional ones; Excel 4 macro sheets are never read.
Every other sheet of the workbook is checked once against the workbook-wide limits (merged cells,
rows, cell formats), because the report step opens the whole workbook.

Values are read by fastexcel (calamine), every column as text. A plain package (as Excel,
LibreOffice and openpyxl write one) is read as it is; any other is read from a one-sheet copy this
module writes: the chosen sheet, its shared strings and styles (Strict namespaces rewritten as
transitional), and nothing else, so the parser never sees a macro sheet, a path it would resolve
differently, or a declared extent the real cells do not have. The sheet's XML is scanned alongside
for what calamine hides (error cells read as blanks, formulas without a saved value, merged ranges)
and for real sizes beyond the limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow

import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from entries.core.limits import ReadLimits
from entries.intake.sniff import Refused, part_name

TRANSITIONAL_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
TRANSITIONAL_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
MAIN_NS = f"{{{TRANSITIONAL_MAIN}}}"
REL_NS = f"{{{TRANSITIONAL_REL}}}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Pre-release Excel 2007 (Office 12) namespaces for the workbook, as Gnumeric's reader lists them.
BETA_MAIN = {
    "http://schemas.microsoft.com/office/excel/2006/2": "Office 12 Beta 1 Technical Refresh",
    "http://schemas.openxmlformats.org/spreadsheetml/2006/5/main": "Office 12 Beta 2",
    "http://schemas.openxmlformats.org/spreadsheetml/2006/7/main": "Office 12 Beta 2 Technical Refresh",
}
WORKSHEET = "worksheet"
MACRO_SHEETS = ("xlMacrosheet", "xlIntlMacrosheet")  # Excel 4 macro sheets (xl/macrosheets/)
# Sheets the entries template itself carries; their data is expected, not a stray copy of entries.
TEMPLATE_SHEETS = {"help", "lists"}

_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>')
_FORMULA = re.compile(rb"<f[ >/]")
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
# Any sheet, any writer: a namespace prefix and other attributes before `ref` are allowed.
_ANY_MERGE = re.compile(
    rb'<(?:[\w.\-]+:)?mergeCell\b[^>]*?\bref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"'
)
_XF = re.compile(rb"<(?:[\w.\-]+:)?xf[\s/>]")
_ROW_NUMBER = re.compile(rb'<row [^>]*?\br="(\d+)"')
_HAS_VALUE = re.compile(rb"<v>|<v |<is>")
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}\d+:)?([A-Z]{1,3})(\d+)"')
_DIMENSION_ELEMENT = re.compile(rb"<(?:[\w.\-]+:)?dimension\b[^>]*/>")


def column_index(letters: str) -> int:
    """`A` -> 0, `Z` -> 25, `AA` -> 26."""
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number - 1


def column_letters(index: int) -> str:
    """0 -> `A`, 26 -> `AA`."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _beyond_columns(xml: bytes, max_columns: int) -> bool:
    """True when a cell holding a value lies right of column number `max_columns`."""
    width = len(column_letters(max_columns))  # a column that far right has at least this many letters
    pattern = re.compile(rb'<c r="([A-Z]{%d,3})\d+"[^>/]*>(?:<f[^<]*</f>)?<(?:v|is)>' % width)
    return any(column_index(m.group(1).decode()) >= max_columns for m in pattern.finditer(xml))


@dataclass
class SheetScan:
    """What the XML scan found: per-cell flags (row, 0-based column, code, detail) and warnings."""

    sheet: str
    date1904: bool
    flags: list[tuple[int, int, str, str]] = field(default_factory=list)
    warnings: list[tuple[str, dict]] = field(default_factory=list)


def _member(zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> bytes:
    try:
        with zf.open(name) as fh:
            data = fh.read(limits.max_inflated_bytes + 1)
    except KeyError:
        raise Refused("FILE_02") from None
    if len(data) > limits.max_inflated_bytes:
        raise Refused("FILE_10", detail=f"{part_name(name)} is over {limits.max_inflated_bytes} bytes")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise Refused("FILE_11")
    return data


def check_container(zf: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Refuse a zip whose declared sizes or compression ratios are those of a zip bomb."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > 1024 * 1024:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise Refused("FILE_10", detail=f"{part_name(info.filename)} expands {ratio:.0f} times")
    if total > limits.max_inflated_bytes:
        raise Refused("FILE_10", detail=f"{total} bytes in all")


def _parse(data: bytes) -> Any:
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise Refused("FILE_11") from None
    except SafeET.ParseError:
        raise Refused("FILE_02") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


# ----------------------------------------------------------------------------- the package


@dataclass(frozen=True)
class Relationship:
    """One relationship: the last segment of its type (`worksheet`, `styles`, ...) and its target
    as a part name; external targets are not parts."""

    kind: str
    target: str
    external: bool = False
    raw: str = ""


@dataclass(frozen=True)
class Sheet:
    """A sheet the workbook lists, in workbook order: name, visibility, relationship kind ('' when
    it has no relationship) and part (None when the package does not hold it)."""

    name: str
    state: str
    kind: str
    part: str | None


class Package:
    """An OPC package read through its relationships: part names compared as the standard says
    (case-insensitive, `/`-separated; `\\` in zip names taken as `/`), every part read with the
    size and entity checks of `_member`."""

    def __init__(self, zf: zipfile.ZipFile, limits: ReadLimits) -> None:
        self.zf = zf
        self.limits = limits
        self.names: dict[str, str] = {}
        for info in zf.infolist():
            if not info.is_dir():
                self.names.setdefault(part_name(info.filename).casefold(), info.filename)

    def has(self, part: str | None) -> bool:
        return part is not None and part.casefold() in self.names

    def read(self, part: str) -> bytes:
        name = self.names.get(part.casefold())
        if name is None:
            raise Refused("FILE_02")
        return _member(self.zf, name, self.limits)

    def relationships(self, source: str) -> dict[str, Relationship]:
        """The relationships of part `source` ('' for the package itself), by id."""
        folder, _, name = source.rpartition("/")
        rels_part = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
        if not self.has(rels_part):
            return {}
        found = {}
        for element in _parse(self.read(rels_part)).iter():
            if _local(element.tag) != "Relationship":
                continue
            target = unquote(element.get("Target", "")).replace("\\", "/")
            resolved = part_name(target if target.startswith("/") else f"{folder}/{target}")
            found[element.get("Id", "")] = Relationship(
                kind=element.get("Type", "").rstrip("/").rsplit("/", 1)[-1],
                target=resolved,
                external=element.get("TargetMode", "").casefold() == "external",
                raw=element.get("Target", ""),
            )
        return found

    def workbook_part(self) -> str:
        """The workbook part: the package's officeDocument relationship, else `xl/workbook.xml`."""
        for rel in self.relationships("").values():
            if rel.kind == "officeDocument" and not rel.external and self.has(rel.target):
                return rel.target
        for fallback in ("xl/workbook.xml", "workbook.xml"):
            if self.has(fallback):
                return fallback
        raise Refused("FILE_08", detail="a zip archive that is not a workbook")


@dataclass
class Workbook:
    """What the reader needs of the workbook part and its relationships."""

    part: str
    strict: bool
    date1904: bool
    sheets: list[Sheet]
    shared_strings: str | None
    styles: str | None
    relationships: dict[str, Relationship] = field(default_factory=dict)


def read_workbook(package: Package) -> Workbook:
    """The workbook's sheets, date system and shared parts; refuses a pre-release Excel 2007 file
    and any XML that is not a SpreadsheetML workbook."""
    part = package.workbook_part()
    root = _parse(package.read(part))
    namespace = _namespace(root.tag)
    if namespace in BETA_MAIN:
        raise Refused("FILE_23", version=BETA_MAIN[namespace])
    if namespace not in (TRANSITIONAL_MAIN, STRICT_MAIN) or _local(root.tag) != "workbook":
        raise Refused("FILE_08", detail="a zip archive whose main part is not a SpreadsheetML workbook")
    rels = package.relationships(part)
    date1904 = False
    sheets = []
    for element in root.iter():
        local = _local(element.tag)
        if local == "workbookPr":
            date1904 = element.get("date1904", "0").strip().lower() in ("1", "true")
        elif local == "sheet":
            rid = element.get(f"{{{TRANSITIONAL_REL}}}id") or element.get(f"{{{STRICT_REL}}}id") or ""
            rel = rels.get(rid)
            if rel is None or rel.external:  # listed, but nothing to read
                sheets.append(
                    Sheet(name=element.get("name", ""), state=element.get("state", "visible"), kind="", part=None)
                )
                continue
            sheets.append(
                Sheet(
                    name=element.get("name", ""),
                    state=element.get("state", "visible"),
                    kind=rel.kind,
                    part=rel.target if package.has(rel.target) else None,
                )
            )

    def shared(kind: str) -> str | None:
        return next((r.target for r in rels.values() if r.kind == kind and package.has(r.target)), None)

    return Workbook(
        part=part,
        strict=namespace == STRICT_MAIN,
        date1904=date1904,
        sheets=sheets,
        shared_strings=shared("sharedStrings"),
        styles=shared("styles"),
        relationships=rels,
    )


def choose_sheet(sheets: list[Sheet]) -> Sheet:
    """The worksheet to read: `Entries` (any case), else the first visible worksheet. Macro sheets,
    chart sheets and dialog sheets are never read."""
    worksheets = [s for s in sheets if s.kind == WORKSHEET]
    named = [s for s in worksheets if s.name.strip().casefold() == "entries"]
    visible = [s for s in worksheets if s.state == "visible"]
    if named:
        return named[0]
    if visible:
        return visible[0]
    raise Refused("FILE_18")


# ----------------------------------------------------------------------------- workbook-wide limits


def merged_cells(xml: bytes, stop_above: int) -> int:
    """Cells covered by the sheet's merged ranges (counting stops once past `stop_above`)."""
    covered = 0
    if b"mergeCell" not in xml:
        return 0
    for m in _ANY_MERGE.finditer(xml):
        c1, r1 = column_index(m.group(1).decode()), int(m.group(2))
        c2, r2 = (column_index(m.group(3).decode()), int(m.group(4))) if m.group(3) else (c1, r1)
        covered += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
        if covered > stop_above:
            break
    return covered


def rows_over(xml: bytes, limit: int) -> bool:
    """True when more than `limit` rows of the sheet hold a value (a declared or styled row counts
    only if it holds one); cheap when the last row number is within the limit."""
    last = xml.rfind(b"<row ")
    if last < 0:
        return False
    m = _ROW_NUMBER.match(xml, last)
    if m is None or int(m.group(1)) <= limit:
        return False
    rows_with_values = 0
    for row in re.finditer(rb"<row [^>]*>(.*?)</row>", xml, re.S):
        if _HAS_VALUE.search(row.group(1)):
            rows_with_values += 1
            if rows_with_values > limit:
                return True
    return False


def check_styles(xml: bytes, limits: ReadLimits) -> None:
    """Refuse a styles part too big, or with more cell formats, than the report step can load."""
    if len(xml) > limits.max_styles_bytes:
        raise Refused("FILE_27", detail=f"the styles part is {len(xml)} bytes; the limit is {limits.max_styles_bytes}")
    formats = len(_XF.findall(xml))
    if formats > limits.max_cell_styles:
        raise Refused("FILE_27", detail=f"{formats} cell formats; the limit is {limits.max_cell_styles}")


def check_workbook(
    package: Package, workbook: Workbook, chosen: Sheet, limits: ReadLimits
) -> tuple[list[tuple[str, dict]], int]:
    """Every sheet but the one read against the workbook-wide limits, once: (warnings about those
    sheets, the cells their merged ranges cover). The sheet read is checked by `scan_sheet`, with
    what is left of the merged-cell limit.

    Merged cells are totalled over all sheets (`FILE_26`); a sheet other than the one read may not
    hold more rows than the row limit either (`FILE_28`); the styles part is bounded (`FILE_27`).
    """
    warnings: list[tuple[str, dict]] = []
    merged = 0
    for sheet in workbook.sheets:
        if sheet.part is None or sheet.part == chosen.part:
            continue
        if sheet.kind != WORKSHEET and sheet.kind not in MACRO_SHEETS:
            continue
        xml = package.read(sheet.part)
        merged += merged_cells(xml, limits.max_merged_cells - merged)
        if merged > limits.max_merged_cells:
            raise Refused("FILE_26", limit=limits.max_merged_cells)
        if rows_over(xml, limits.max_rows + 1):
            raise Refused("FILE_28", sheet=sheet.name, limit=limits.max_rows)
        if sheet.kind in MACRO_SHEETS:
            warnings.append(("SHEET_03", {"sheet": sheet.name}))
        elif sheet.name.strip().casefold() not in TEMPLATE_SHEETS and _HAS_VALUE.search(xml):
            warnings.append(("SHEET_01" if sheet.state == "visible" else "SHEET_02", {"sheet": sheet.name}))
    if workbook.styles is not None:
        check_styles(package.read(workbook.styles), limits)
    return warnings, merged


# ----------------------------------------------------------------------------- the sheet read


def scan_sheet(xml: bytes, limits: ReadLimits, merged_elsewhere: int = 0) -> list[tuple[int, int, str, str]]:
    """Cell flags from the sheet XML; refuses sheets beyond the row or column limits, and merged
    ranges that take the workbook (`merged_elsewhere` cells on its other sheets) past its limit."""
    if rows_over(xml, limits.max_rows + 1):
        raise Refused("FILE_12", rows=f"more than {limits.max_rows}", limit=limits.max_rows)
    if _beyond_columns(xml, limits.max_columns):
        raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
    flags: list[tuple[int, int, str, str]] = []
    # Each pattern runs only when its marker occurs at all: a plain substring test is ~50x faster.
    for m in _ERROR_CELL.finditer(xml) if b't="e"' in xml else ():
        flags.append(
            (int(m.group(2)), column_index(m.group(1).decode()), "CELL_01", m.group(3).decode("utf-8", "replace")[:20])
        )
    for m in _FORMULA.finditer(xml) if b"<f" in xml else ():
        start = xml.rfind(b"<c ", 0, m.start())
        end = xml.find(b"</c>", m.start())
        cell = _CELL_START.match(xml, start) if start >= 0 else None
        if cell is None or end < 0:
            continue
        body = xml[m.start() : end]
        if re.search(rb"<v>[^<]+</v>", body) is None:
            flags.append((int(cell.group(2)), column_index(cell.group(1).decode()), "CELL_02", ""))
    # Flagging (and later annotating) every covered cell of a sheet-sized merge would blow up.
    if merged_cells(xml, limits.max_merged_cells - merged_elsewhere) + merged_elsewhere > limits.max_merged_cells:
        raise Refused("FILE_26", limit=limits.max_merged_cells)
    for merge in _MERGE.finditer(xml) if b"<mergeCell " in xml else ():
        c1, r1, c2, r2 = (
            column_index(merge.group(1).decode()),
            int(merge.group(2)),
            column_index(merge.group(3).decode()),
            int(merge.group(4)),
        )
        ref = f"{merge.group(1).decode()}{r1}:{merge.group(3).decode()}{r2}"
        for covered in range(r1, min(r2, r1 + limits.max_rows) + 1):
            for col in range(c1, min(c2, limits.max_columns) + 1):
                flags.append((covered, col, "CELL_03", ref))
    return flags


def declared_within(head: bytes, limits: ReadLimits) -> bool:
    """False when the sheet's declared `<dimension>` reaches past the row or column limit.

    The declaration is only a claim (it may be stale either way): a sheet that claims more is
    scanned for its real cells before the parser runs, instead of being refused for the claim.
    """
    m = _DIMENSION.search(head)
    if m is None:
        return True
    return column_index(m.group(1).decode()) < limits.max_columns and int(m.group(2)) <= limits.max_rows + 1


def _transitional(xml: bytes) -> bytes:
    """Strict Open XML namespaces (SpreadsheetML and relationships) rewritten as transitional."""
    return xml.replace(STRICT_MAIN.encode(), TRANSITIONAL_MAIN.encode()).replace(
        STRICT_REL.encode(), TRANSITIONAL_REL.encode()
    )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<Relationships xmlns="{PKG_REL_NS[1:-1]}">'
    f'<Relationship Id="rId1" Type="{TRANSITIONAL_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def write_one_sheet_copy(
    target: Path, sheet_xml: bytes, shared_strings: bytes | None, styles: bytes | None, date1904: bool
) -> None:
    """A minimal transitional package holding one sheet (uncompressed: it lives a few seconds).

    The sheet is always called `Entries` in the copy: it is read by position, and its real name
    is reported from the original workbook."""
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<workbook xmlns="{TRANSITIONAL_MAIN}" xmlns:r="{TRANSITIONAL_REL}">'
        f'<workbookPr date1904="{1 if date1904 else 0}"/>'
        '<sheets><sheet name="Entries" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    rels = [f'<Relationship Id="rId1" Type="{TRANSITIONAL_REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared_strings is not None:
        rels.append(f'<Relationship Id="rId2" Type="{TRANSITIONAL_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{TRANSITIONAL_REL}/styles" Target="styles.xml"/>')
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{PKG_REL_NS[1:-1]}">{"".join(rels)}</Relationships>'
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
        out.writestr("[Content_Types].xml", _CONTENT_TYPES)
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", workbook)
        out.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        out.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            out.writestr("xl/sharedStrings.xml", shared_strings)
        if styles is not None:
            out.writestr("xl/styles.xml", styles)


def _calamine_path(target: str) -> str:
    """Where calamine looks for a workbook relationship's target (it resolves them against xl/
    itself, without `..`)."""
    if target.startswith("/"):
        return target[1:]
    return target if target.startswith("xl/") else f"xl/{target}"


def _plain(package: Package, workbook: Workbook, head: bytes, limits: ReadLimits) -> bool:
    """True for a package calamine reads as it is: transitional, the workbook at xl/workbook.xml,
    zip names as the part names, targets calamine resolves to the same parts, no macro sheet, and
    a declared extent within the limits. Anything else is read through a one-sheet copy."""
    if workbook.strict or workbook.part != "xl/workbook.xml" or not declared_within(head, limits):
        return False
    if any(s.kind != WORKSHEET and s.kind != "chartsheet" for s in workbook.sheets):
        return False
    for rel in workbook.relationships.values():
        if rel.external or rel.kind not in (WORKSHEET, "chartsheet", "sharedStrings", "styles"):
            continue
        if _calamine_path(rel.raw) != rel.target or package.names.get(rel.target.casefold()) != rel.target:
            return False
    return package.names.get("xl/workbook.xml") == "xl/workbook.xml"


@dataclass
class _Plan:
    """What `read_xlsx` reads: the sheet chosen, the workbook-wide findings, and either the original
    file (`direct`) or the parts for a one-sheet copy."""

    sheet: Sheet
    date1904: bool
    warnings: list[tuple[str, dict]]
    merged_elsewhere: int
    direct: bool
    xml: bytes = b""
    shared_strings: bytes | None = None
    styles: bytes | None = None
    extras: tuple[str, ...] = ()  # zip names of parts the direct read must entity-check alongside


def _plan(path: str, limits: ReadLimits) -> _Plan:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise Refused("FILE_02") from None
    try:
        with zf:
            check_container(zf, limits)
            package = Package(zf, limits)
            workbook = read_workbook(package)
            chosen = choose_sheet(workbook.sheets)
            if chosen.part is None:
                raise Refused("FILE_02")
            warnings, merged = check_workbook(package, workbook, chosen, limits)
            with zf.open(package.names[chosen.part.casefold()]) as fh:
                head = fh.read(4096)
            plan = _Plan(chosen, workbook.date1904, warnings, merged, _plain(package, workbook, head, limits))
            if plan.direct:  # the scan thread reads the sheet and checks the shared strings
                plan.extras = tuple(package.names[p.casefold()] for p in (workbook.shared_strings, chosen.part) if p)
                return plan
            plan.xml = package.read(chosen.part)
            plan.shared_strings = package.read(workbook.shared_strings) if workbook.shared_strings else None
            plan.styles = package.read(workbook.styles) if workbook.styles else None
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, KeyError):
        raise Refused("FILE_02") from None
    if workbook.strict:
        plan.xml = _transitional(plan.xml)
        plan.shared_strings = _transitional(plan.shared_strings) if plan.shared_strings is not None else None
        plan.styles = _transitional(plan.styles) if plan.styles is not None else None
    return plan


def read_xlsx(path: str, limits: ReadLimits, work_dir: str | None = None) -> tuple[pyarrow.Table, SheetScan, int]:
    """Read the entries sheet: (pyarrow data of text columns, scan, absolute index of column 0).

    A plain package is read as it is, its sheet XML scanned on a second thread while calamine
    parses (it releases the GIL), so the scan costs almost nothing; a refusal from the scan still
    refuses the file. Any other package is read through a one-sheet copy written into `work_dir`;
    a sheet whose declared extent is beyond the limits is scanned before the parser runs, and read
    (with the declaration dropped) only if its real cells are within them.
    """
    plan = _plan(path, limits)
    outcome: dict[str, Any] = {}

    def scan_original() -> None:
        try:
            with zipfile.ZipFile(path) as own:
                for name in plan.extras[:-1]:  # the shared strings: checked for entities only
                    _member(own, name, limits)
                outcome["flags"] = scan_sheet(_member(own, plan.extras[-1], limits), limits, plan.merged_elsewhere)
        except Refused as refused:
            outcome["refused"] = refused
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError):
            outcome["refused"] = Refused("FILE_02")

    xml = plan.xml
    if not plan.direct and not declared_within(xml[:4096], limits):
        outcome["flags"] = scan_sheet(xml, limits, plan.merged_elsewhere)  # real excess refused first
        xml = _DIMENSION_ELEMENT.sub(b"", xml[:4096], count=1) + xml[4096:]

    def scan_copy() -> None:
        try:
            outcome["flags"] = scan_sheet(xml, limits, plan.merged_elsewhere)
        except Refused as refused:
            outcome["refused"] = refused

    with tempfile.TemporaryDirectory(prefix="entries-sheet-", dir=work_dir) as work:
        source: str | int = plan.sheet.name
        target = path
        if not plan.direct:
            target, source = str(Path(work) / "sheet.xlsx"), 0
            write_one_sheet_copy(Path(target), xml, plan.shared_strings, plan.styles, plan.date1904)
        scanner = None
        if "flags" not in outcome:
            scanner = threading.Thread(target=scan_original if plan.direct else scan_copy, name="sheet-scan")
            scanner.start()
        import fastexcel  # imported here: only the child process pays for it

        failure: Exception | None = None
        try:
            loaded = fastexcel.read_excel(target).load_sheet(source, header_row=None, dtypes="string", skip_rows=0)
            columns = loaded.available_columns()
            table = loaded.to_arrow()
        except Exception as exc:  # noqa: BLE001 - calamine's errors carry no stable types; never their text
            failure = exc
        if scanner is not None:
            scanner.join()
    if "refused" in outcome:
        raise outcome["refused"]
    if failure is not None:
        raise Refused("FILE_02") from failure
    scan_result = SheetScan(
        sheet=plan.sheet.name, date1904=plan.date1904, warnings=plan.warnings, flags=outcome["flags"]
    )
    offset = columns[0].absolute_index if columns else 0
    return table, scan_result, offset
