"""Recognise an upload's real format from its bytes, never its name, before any parser sees it.

Each format this service does not read is named for what it is (an old Excel version, an
OpenDocument spreadsheet, a Word document, ...) and, when the file's name says otherwise, for what
it was called; one cause gets one message. Nothing here parses XML: zip members are only listed,
and at most the content-types part is searched as bytes.

This runs in the calling process (the portal, a command, a night), outside the reader child's
limits: an OLE2 file's sector chains are walked with the sectors already visited kept and every
table bounded by the file's own size, so a crafted header or a chain that loops is refused as a
damaged file (FILE_02) at once, never followed.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from entries.core.limits import ReadLimits

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
# An encrypted OOXML package is an OLE2 file holding a stream with this name (UTF-16LE).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv", "")
# Content types of a workbook's main part (transitional and strict share them), searched as bytes.
WORKBOOK_CONTENT_TYPES = (
    b"spreadsheetml.sheet.main+xml",
    b"spreadsheetml.template.main+xml",
    b"ms-excel.sheet.macroEnabled.main+xml",
    b"ms-excel.template.macroEnabled.main+xml",
)
BINARY_WORKBOOK_CONTENT_TYPE = b"ms-excel.sheet.binary.macroEnabled.main"
# The BOF record that starts an Excel file written before Excel 5 (no OLE2 container): BIFF2 to
# BIFF4, by record type. BIFF5 and BIFF8 streams start 0x0809 and normally sit inside OLE2.
BIFF_BOF = {0x0009: "Excel 2.x", 0x0209: "Excel 3.0", 0x0409: "Excel 4.0", 0x0809: "Excel 5.0 or later"}
BIFF_SUBSTREAMS = {0x0005, 0x0006, 0x0010, 0x0020, 0x0040, 0x0100}
BIFF_FILEPASS = 0x002F
_FREE_SECTOR = 0xFFFFFFFA  # any OLE2 sector number at or above this ends a chain


class Refused(Exception):
    """The file cannot be read: `code` is a rule from the catalogue, `params` fill its message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True)
class Sniffed:
    """What the bytes say the file is: `xlsx` or `csv`, plus whether the name disagreed."""

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
    """Classify `path` as xlsx or csv, or raise Refused with the reason a centre can act on."""
    size = path.stat().st_size
    if size == 0:
        raise Refused("FILE_01")
    if size > limits.max_file_bytes:
        raise Refused("FILE_09", size=size, limit=limits.max_file_bytes)
    with path.open("rb") as fh:
        head = fh.read(8192)
    suffix = path.suffix.lower()
    if head.startswith(OLE2_MAGIC):
        raise _ole2_refusal(path.read_bytes(), suffix)
    if head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC):
        return Sniffed(kind=_zip_kind(path, suffix), misnamed=suffix not in WORKBOOK_SUFFIXES, suffix=suffix)
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
            if "mimetype" in names and b"opendocument" in zf.read(names["mimetype"])[:100]:
                raise Refused("FILE_04", named=named(suffix, (".ods", ".ots")))
            content_types = b""
            if "[content_types].xml" in names:
                with zf.open(names["[content_types].xml"]) as fh:
                    content_types = fh.read(1 << 20)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, zipfile.LargeZipFile):
        raise Refused("FILE_02") from None
    if BINARY_WORKBOOK_CONTENT_TYPE in content_types or any(n.endswith("workbook.bin") for n in names):
        raise Refused("FILE_06", named=named(suffix, (".xlsb",)))
    if any(t in content_types for t in WORKBOOK_CONTENT_TYPES) or any(
        PurePosixPath(n).name == "workbook.xml" for n in names
    ):
        return "xlsx"
    if "word/document.xml" in names:
        raise Refused("FILE_08", detail="a Word document")
    if "ppt/presentation.xml" in names:
        raise Refused("FILE_08", detail="a PowerPoint presentation")
    raise Refused("FILE_08", detail="a zip archive that is not a workbook")


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


# The streams `_ole2_refusal` asks for, casefolded: only these are kept from a directory.
_NAMED_STREAMS = frozenset({"workbook", "book", "encryptedpackage", "worddocument", "powerpoint document"})
_MINI_SECTOR = 64  # MS-CFB: the mini stream's sector size, whatever the file's own


class _Damaged(Exception):
    """An OLE2 sector chain that comes back to a sector it has passed: the file is damaged."""


@dataclass
class _Compound:
    """The parts of an OLE2 compound file this module needs: the named streams, FAT, sector size.

    Every table is bounded by the file's size: the FAT holds at most one entry per sector the file
    has (plus the rest of its last FAT sector), the mini FAT one per 64 bytes, so a header that
    claims more (or a chain that loops) costs nothing but the walk."""

    data: bytes
    sector: int
    fat: list[int]
    mini_fat: list[int]
    mini_cutoff: int
    root_start: int
    streams: dict[str, tuple[int, int]]  # casefolded name -> (start sector, size)

    @property
    def sectors(self) -> int:
        """How many sectors (the last one possibly short) follow the header."""
        return max(0, -(-(len(self.data) - self.sector) // self.sector))

    def chain(self, start: int, table: list[int], limit: int | None = None) -> list[int]:
        """The sector numbers of the chain starting at `start` in `table` (the FAT or the mini
        FAT), the first `limit` of them if given; raises _Damaged if it loops. A chain that does
        not loop has at most one sector per table entry, so the walk is bounded by the table."""
        chain: list[int] = []
        seen: set[int] = set()
        while start < _FREE_SECTOR and start < len(table):
            if start in seen:
                raise _Damaged
            if limit is not None and len(chain) >= limit:
                break  # as much as the caller reads
            seen.add(start)
            chain.append(start)
            start = table[start]
        return chain

    def sector_bytes(self, s: int) -> bytes:
        return self.data[(s + 1) * self.sector : (s + 2) * self.sector]

    def head_of(self, name: str, length: int = 4096) -> bytes:
        """The first `length` bytes of stream `name` ('' if it is absent or unreadable)."""
        start, size = self.streams.get(name.casefold(), (_FREE_SECTOR, 0))
        want = min(length, size)
        out = bytearray()
        try:
            if size >= self.mini_cutoff:
                for s in self.chain(start, self.fat, -(-want // self.sector)):
                    out += self.sector_bytes(s)
            else:
                # Only the mini sectors read are found in the root's chain: the mini stream is never copied.
                root = self.chain(self.root_start, self.fat)
                per_sector = self.sector // _MINI_SECTOR
                for m in self.chain(start, self.mini_fat, -(-want // _MINI_SECTOR)):
                    if m // per_sector >= len(root):
                        break
                    at = (m % per_sector) * _MINI_SECTOR
                    out += self.sector_bytes(root[m // per_sector])[at : at + _MINI_SECTOR]
        except _Damaged:
            return b""
        return bytes(out[:want])


def _table(data: bytes, sector: int, sectors: list[int], entries: int) -> list[int]:
    """The 32-bit entries of `sectors` read in order, at most `entries` of them (struct.error if
    a sector lies past the end of the file)."""
    per_sector = sector // 4
    table: list[int] = []
    for s in sectors:
        if len(table) >= entries:
            break
        table += struct.unpack_from(f"<{per_sector}I", data, (s + 1) * sector)
    return table[:entries]


def _difat(data: bytes, sector: int, first: int, count: int, wanted: int) -> list[int]:
    """The FAT's sector numbers: the header's 109, then those of the DIFAT chain from `first` (each
    DIFAT sector's last entry is the next one), at most `count` DIFAT sectors, stopping once
    `wanted` are known; raises _Damaged if the chain loops."""
    per_sector = sector // 4
    difat = list(struct.unpack_from("<109I", data, 76))
    seen: set[int] = set()
    s = first
    while s < _FREE_SECTOR and len(difat) < wanted and len(seen) < count:
        if s in seen:
            raise _Damaged
        seen.add(s)
        values = struct.unpack_from(f"<{per_sector}I", data, (s + 1) * sector)
        difat += values[:-1]
        s = values[-1]
    return [s for s in difat[:wanted] if s < _FREE_SECTOR]


def _compound(data: bytes) -> _Compound | None:
    """The directory of an OLE2 compound file (MS-CFB), or None when it is malformed: truncated, a
    chain that loops (DIFAT, FAT, mini FAT or directory), or a FAT sector listed twice.

    Bytes of a hostile file are read here, in the calling process: every walk keeps the sectors it
    has visited and stops at the file's own size, so the work and memory are at most proportional
    to the file (never to what its header claims)."""
    try:
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            return None
        sector = 1 << shift
        per_sector = sector // 4
        n_fat, first_dir = struct.unpack_from("<II", data, 44)
        mini_cutoff, first_mini_fat, n_mini_fat, first_difat, n_difat = struct.unpack_from("<IIIII", data, 56)
        compound = _Compound(data, sector, [], [], mini_cutoff, _FREE_SECTOR, {})
        sectors = compound.sectors
        if n_fat > sectors:
            return None  # each FAT sector is one of the file's own: the header claims more than exist
        # One FAT entry per sector of the file is all a chain can use: FAT sectors past those hold
        # nothing a real file needs, and are not read.
        fat_sectors = _difat(data, sector, first_difat, n_difat, min(n_fat, -(-sectors // per_sector)))
        if len(set(fat_sectors)) != len(fat_sectors):
            return None
        compound.fat = _table(data, sector, fat_sectors, sectors)
        mini_entries = -(-len(data) // _MINI_SECTOR)
        mini_sectors = compound.chain(first_mini_fat, compound.fat, min(n_mini_fat, -(-mini_entries // per_sector)))
        compound.mini_fat = _table(data, sector, mini_sectors, mini_entries)
        for s in compound.chain(first_dir, compound.fat):
            block = compound.sector_bytes(s)
            for offset in range(0, len(block) - 127, 128):
                entry = block[offset : offset + 128]
                name_length, kind = struct.unpack_from("<HB", entry, 64)
                if kind not in (1, 2, 5) or not 2 <= name_length <= 64:
                    continue
                start, size = struct.unpack_from("<IQ", entry, 116)
                if sector == 512:
                    size &= 0xFFFFFFFF  # version 3 files: the high half may hold garbage
                if kind == 5:
                    compound.root_start = start
                    continue
                name = entry[: name_length - 2].decode("utf-16-le", "replace").casefold()
                if name in _NAMED_STREAMS:
                    compound.streams[name] = (start, size)
        return compound
    except (struct.error, _Damaged):
        return None


def _biff_password(stream: bytes) -> bool:
    """True when a BIFF5/BIFF8 workbook stream carries FILEPASS among its first records."""
    offset = 0
    for _ in range(20):
        if offset + 4 > len(stream):
            return False
        record, length = struct.unpack_from("<HH", stream, offset)
        if record == BIFF_FILEPASS:
            return True
        if record == 0x000A:  # EOF of the globals substream
            return False
        offset += 4 + length
    return False


def _ole2_refusal(data: bytes, suffix: str) -> Refused:
    """Name what an OLE2 compound file is: encrypted OOXML, an old .xls (password protected or
    not), or some other Office document."""
    compound = _compound(data)
    if compound is None:  # a directory this cannot follow: fall back on the stream names' bytes
        if ENCRYPTED_STREAM in data:
            return Refused("FILE_05")
        if "Workbook".encode("utf-16-le") in data:
            return Refused("FILE_03", version="Excel 97-2003", named=named(suffix, (".xls", ".xlt")))
        return Refused("FILE_02")
    streams = compound.streams
    if "encryptedpackage" in streams:
        return Refused("FILE_05")
    for stream, version in (("workbook", "Excel 97-2003"), ("book", "Excel 5.0/95")):
        if stream in streams:
            proper = named(suffix, (".xls", ".xlt"))
            if _biff_password(compound.head_of(stream)):
                return Refused("FILE_24", version=version, named=proper)
            return Refused("FILE_03", version=version, named=proper)
    if "worddocument" in streams:
        return Refused("FILE_08", detail="a Word document (.doc)")
    if "powerpoint document" in streams:
        return Refused("FILE_08", detail="a PowerPoint presentation (.ppt)")
    return Refused("FILE_08", detail="an Office compound file that holds no workbook")


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
