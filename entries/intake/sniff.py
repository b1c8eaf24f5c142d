"""Recognise an upload's real format from its bytes, never its name, before any parser sees it.

In: a path and the read limits. Out: a `Sniffed` kind for the reader (`csv`, read here; `xlsx`,
`xlsb`, `ods`, or `ole2`, read in the child), or `Refused` with the rule code. Each format this
service does not read is named for what it is (an Excel 2.x-4.0 worksheet, a PDF, a Word document
in a zip, ...) and, when the file's name says otherwise, for what it was called; one cause gets one
message.

This runs in the calling process (the portal, a command, a night), outside the reader child's
limits, so it parses nothing a file could make costly. An OLE2 compound file (old .xls, encrypted
xlsx, .doc) is recognised by its 8-byte magic alone: its directory and streams are only ever read
in the child (`entries.intake.compound`), which names what it holds. A zip's members are only
listed, and at most `_rels/.rels` and `[Content_Types].xml` (1 MiB of each) are searched as bytes,
without an XML parser: the workbook's kind is the content type of the part the root relationship
names (its Override, else the Default for its extension), never a content type found anywhere
in the file.
"""

from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from entries.core.limits import ReadLimits

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv", "")
# Content types of a workbook's main part (transitional and strict share them), compared whole.
WORKBOOK_CONTENT_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
        "application/vnd.ms-excel.sheet.macroenabled.main+xml",
        "application/vnd.ms-excel.template.macroenabled.main+xml",
    }
)
BINARY_WORKBOOK_CONTENT_TYPE = "application/vnd.ms-excel.sheet.binary.macroenabled.main"
OFFICE_DOCUMENT = "/officeDocument"  # how the root relationship's type ends (transitional and strict)
_ELEMENT = re.compile(rb"<(?:[\w.\-]+:)?(Override|Default|Relationship)\b([^>]*)>")
_ATTRIBUTE = re.compile(rb'([\w:.\-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
# The BOF record that starts an Excel file written before Excel 5 (no OLE2 container): BIFF2 to
# BIFF4, by record type. BIFF5 and BIFF8 streams start 0x0809 and normally sit inside OLE2.
BIFF_BOF = {0x0009: "Excel 2.x", 0x0209: "Excel 3.0", 0x0409: "Excel 4.0", 0x0809: "Excel 5.0 or later"}
BIFF_SUBSTREAMS = {0x0005, 0x0006, 0x0010, 0x0020, 0x0040, 0x0100}
# Where each kind the child reads is properly named; another name is said ("named as .xlsx").
PROPER_SUFFIXES = {
    "xlsx": WORKBOOK_SUFFIXES,
    "xlsb": (".xlsb",),
    "ods": (".ods", ".ots"),
    "ole2": (".xls", ".xlt"),
}


class Refused(Exception):
    """The file cannot be read: `code` is a rule from the catalogue, `params` fill its message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True)
class Sniffed:
    """What the bytes say the file is (`xlsx`, `xlsb`, `ods`, `ole2` or `csv`), plus whether the
    name disagreed."""

    kind: str
    misnamed: bool
    suffix: str = ""


def named(suffix: str, proper: tuple[str, ...]) -> str:
    """The tail of a format message saying what the file was called, when that is not its format's
    own extension: '' for a well-named file, else ' named as .xlsx' (or ' named without an extension')."""
    if suffix in proper:
        return ""
    return f" named as {suffix}" if suffix else " named without an extension"


def sniff(path: Path, limits: ReadLimits) -> Sniffed:
    """Classify `path` by its bytes, or raise Refused with the reason a centre can act on."""
    size = path.stat().st_size
    if size == 0:
        raise Refused("FILE_01")
    if size > limits.max_file_bytes:
        raise Refused("FILE_09", size=size, limit=limits.max_file_bytes)
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(len(OLE2_MAGIC))
        if magic == OLE2_MAGIC:
            # Only the magic is read here: what the compound file holds is for the child to find.
            return Sniffed(kind="ole2", misnamed=suffix not in PROPER_SUFFIXES["ole2"], suffix=suffix)
        head = magic + fh.read(8192 - len(magic))
    if head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC):
        kind = _zip_kind(path, suffix)
        return Sniffed(kind=kind, misnamed=suffix not in PROPER_SUFFIXES[kind], suffix=suffix)
    version = biff_version(head)
    if version is not None:
        raise Refused("FILE_03", version=version, named=named(suffix, (".xls", ".xlw")))
    if head.startswith(b"%PDF"):
        raise Refused("FILE_08", detail="a PDF document")
    text = text_kind(head)
    if text == "text":
        return Sniffed(kind="csv", misnamed=suffix not in CSV_SUFFIXES, suffix=suffix)
    if text == "nul":
        raise Refused("FILE_25")
    raise Refused("FILE_08", detail="unrecognised binary content")


# ----------------------------------------------------------------------------- zip


def part_name(name: str) -> str:
    """A zip member or relationship target as a package part name: `/` separators, no leading `/`,
    `.` and `..` resolved (a `..` above the root is dropped)."""
    parts: list[str] = []
    for piece in name.replace("\\", "/").split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
            continue
        parts.append(piece)
    return "/".join(parts)


def _zip_kind(path: Path, suffix: str) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = {part_name(n).casefold(): n for n in zf.namelist()}
            if "mimetype" in names and b"opendocument.spreadsheet" in zf.read(names["mimetype"])[:100]:
                return "ods"
            if "mimetype" in names and b"opendocument" in zf.read(names["mimetype"])[:100]:
                raise Refused("FILE_08", detail="an OpenDocument file that is not a spreadsheet")
            content_types = _head(zf, names.get("[content_types].xml"))
            root_rels = _head(zf, names.get("_rels/.rels"))
    except (zipfile.BadZipFile, EOFError, NotImplementedError, zipfile.LargeZipFile):
        raise Refused("FILE_02") from None
    kind = workbook_content_type(content_types, root_rels)
    if kind == BINARY_WORKBOOK_CONTENT_TYPE:
        return "xlsb"
    if kind in WORKBOOK_CONTENT_TYPES:
        return "xlsx"
    # No content type for a workbook part the root names: the part names are all there is.
    if any(PurePosixPath(n).name == "workbook.xml" for n in names):
        return "xlsx"
    if any(PurePosixPath(n).name == "workbook.bin" for n in names):
        return "xlsb"
    if "word/document.xml" in names:
        raise Refused("FILE_08", detail="a Word document")
    if "ppt/presentation.xml" in names:
        raise Refused("FILE_08", detail="a PowerPoint presentation")
    raise Refused("FILE_08", detail="a zip archive that is not a workbook")


def _head(zf: zipfile.ZipFile, name: str | None) -> bytes:
    """The first 1 MiB of member `name` (b'' when there is none)."""
    if name is None:
        return b""
    with zf.open(name) as fh:
        return fh.read(1 << 20)


def _attributes(raw: bytes) -> dict[str, str]:
    """An element's attributes (local names, values as text) from the bytes between its name and `>`."""
    found: dict[str, str] = {}
    for m in _ATTRIBUTE.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        found[m.group(1).decode("ascii", "replace").rsplit(":", 1)[-1]] = value.decode("utf-8", "replace")
    return found


def workbook_content_type(content_types: bytes, root_rels: bytes) -> str | None:
    """The content type (lower case) of the package's main part: the part the root relationship of
    type officeDocument names, looked up by its own Override, else by the Default for its
    extension; None when the root names no part or no entry types it. A Default for another
    extension (SheetJS maps `.bin` to the binary workbook type in packages that are xlsx) says
    nothing about the workbook."""
    target = None
    for m in _ELEMENT.finditer(root_rels):
        if m.group(1) != b"Relationship":
            continue
        attributes = _attributes(m.group(2))
        if attributes.get("Type", "").endswith(OFFICE_DOCUMENT) and attributes.get("TargetMode", "") != "External":
            target = part_name(attributes.get("Target", ""))
            break
    if not target:
        return None
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for m in _ELEMENT.finditer(content_types):
        attributes = _attributes(m.group(2))
        kind = attributes.get("ContentType", "").strip().casefold()
        if m.group(1) == b"Override" and "PartName" in attributes:
            overrides.setdefault(part_name(attributes["PartName"]).casefold(), kind)
        elif m.group(1) == b"Default" and "Extension" in attributes:
            defaults.setdefault(attributes["Extension"].strip().lstrip(".").casefold(), kind)
    if target.casefold() in overrides:
        return overrides[target.casefold()]
    extension = PurePosixPath(target).suffix.lstrip(".").casefold()
    return defaults.get(extension) if extension else None


# ----------------------------------------------------------------------------- old binary formats


def biff_version(head: bytes) -> str | None:
    """The Excel version of a bare BIFF stream (a BOF record at byte 0), or None."""
    if len(head) < 8:
        return None
    record, length = struct.unpack_from("<HH", head, 0)
    if record not in BIFF_BOF or not 4 <= length <= 20 or len(head) < 4 + length:
        return None
    substream = struct.unpack_from("<H", head, 6)[0]
    if substream not in BIFF_SUBSTREAMS:
        return None
    if record == 0x0809:
        return "Excel 97-2003" if struct.unpack_from("<H", head, 4)[0] == 0x0600 else "Excel 5.0/95"
    return BIFF_BOF[record]


# ----------------------------------------------------------------------------- text


def utf16_without_bom(head: bytes) -> str | None:
    """`utf-16-le` or `utf-16-be` when text bytes show UTF-16's NUL pattern (every other byte NUL
    for Latin text) without a byte order mark; else None."""
    if len(head) < 4 or head.startswith(TEXT_BOMS):
        return None
    even, odd = head[0::2], head[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd >= 0.6 and zeros_even <= 0.05:
        return "utf-16-le"
    if zeros_even >= 0.6 and zeros_odd <= 0.05:
        return "utf-16-be"
    return None


def _mostly_printable(head: bytes) -> bool:
    # Text exports are printable apart from line ends, tabs and the odd control character.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls <= len(head) // 100


def text_kind(head: bytes) -> str | None:
    """`text` for bytes a CSV reader can decode (UTF-16 with or without BOM included); `nul` for
    text holding NUL bytes; None for anything else."""
    if head.startswith(TEXT_BOMS) or utf16_without_bom(head):
        return "text"
    if b"\x00" in head:
        rest = head.replace(b"\x00", b"")
        return "nul" if rest and _mostly_printable(rest) else None
    return "text" if _mostly_printable(head) else None
