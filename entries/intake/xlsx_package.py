"""The OPC package of an xlsx/xlsm upload, resolved as the standard says, not as a parser guesses.

In: an open zip and the read limits. Out: the package's parts (`Package`: names compared
case-insensitively, `\\` taken as `/`, every part read with a byte cap and refused if it declares
a DTD or entities), its relationships, the workbook part (found through `_rels/.rels`, so it may
sit at the package root) with its sheets, date system and shared parts (`read_workbook`: Strict
Open XML read like transitional, pre-release Excel 2007 refused), and the sheet to read
(`choose_sheet`: never an Excel 4 macro sheet). `check_container` refuses a zip bomb by its
declared sizes before anything is inflated. Refusals are `Refused` with the rule code.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import Any
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


def read_member(zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> bytes:
    """The zip member `name`, inflated: refused when missing (`FILE_02`), over the byte limit
    (`FILE_10`) or declaring a DTD or entities (`FILE_11`)."""
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


@dataclass(frozen=True)
class Relationship:
    """One relationship: the last segment of its type (`worksheet`, `styles`, ...) and its target
    as a part name; external targets are not parts."""

    kind: str
    target: str
    external: bool = False
    raw: str = ""


# The `state` values that hide a sheet (ECMA-376 ST_SheetState), compared case-insensitively.
HIDDEN_STATES = frozenset({"hidden", "veryhidden"})


@dataclass(frozen=True)
class Sheet:
    """A sheet the workbook lists, in workbook order: name, visibility, relationship kind ('' when
    it has no relationship) and part (None when the package does not hold it)."""

    name: str
    state: str
    kind: str
    part: str | None

    @property
    def visible(self) -> bool:
        """Shown as a tab: every state but `hidden` and `veryHidden` (writers also use `show`,
        `visible` or nothing at all for a shown sheet)."""
        return self.state.strip().casefold() not in HIDDEN_STATES


class Package:
    """An OPC package read through its relationships: part names compared as the standard says
    (case-insensitive, `/`-separated; `\\` in zip names taken as `/`), every part read with the
    size and entity checks of `read_member`."""

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
        return read_member(self.zf, name, self.limits)

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
    visible = [s for s in worksheets if s.visible]
    if named:
        return named[0]
    if visible:
        return visible[0]
    raise Refused("FILE_18")
