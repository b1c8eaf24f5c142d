"""An OLE2 compound file (MS-CFB) upload: what it holds, and its Excel workbook stream if it has one.

In: the file's bytes (already bounded by the size limit) and its name's suffix. Out: an
`OldWorkbook` (the BIFF version, the workbook stream's bytes) for an Excel 5.0/95 or 97-2003
workbook that can be read, or `Refused` naming what the file is: encrypted OOXML (`FILE_05`), a
workbook with a password to open (`FILE_24`), a Word or PowerPoint document or another compound
file (`FILE_08`), a damaged one (`FILE_02`). `workbook_flags` walks the BIFF records of the stream
for what calamine reads as blank or hides: the date system, error cells, merged ranges.

Runs only in the reader's child process (`entries.intake.sandbox`), never in the process that
received the file: a crafted compound file costs that one child. Even there every sector chain is
walked with the sectors already visited kept and every table bounded by the file's own size, so a
chain that loops is refused as damaged (`FILE_02`) at once, never followed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from entries.core.limits import ReadLimits
from entries.intake.column_letters import column_letters
from entries.intake.sniff import Refused, named

# An encrypted OOXML package is an OLE2 file holding a stream with this name (UTF-16LE).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
BIFF_FILEPASS = 0x002F
_FREE_SECTOR = 0xFFFFFFFA  # any OLE2 sector number at or above this ends a chain
# The streams asked for, casefolded: only these are kept from a directory.
_NAMED_STREAMS = frozenset({"workbook", "book", "encryptedpackage", "worddocument", "powerpoint document"})
_MINI_SECTOR = 64  # MS-CFB: the mini stream's sector size, whatever the file's own
XLS_SUFFIXES = (".xls", ".xlt")


class _Damaged(Exception):
    """An OLE2 sector chain that comes back to a sector it has passed: the file is damaged."""


@dataclass
class Compound:
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

    def read(self, name: str, length: int | None = None) -> bytes:
        """The first `length` bytes (all, when None) of stream `name`; b'' if it is absent or its
        chain loops. Never more than the file holds: a size the directory overstates is cut at
        the end of its chain."""
        start, size = self.streams.get(name.casefold(), (_FREE_SECTOR, 0))
        want = size if length is None else min(length, size)
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


def open_compound(data: bytes) -> Compound | None:
    """The directory of an OLE2 compound file, or None when it is malformed: truncated, a chain
    that loops (DIFAT, FAT, mini FAT or directory), or a FAT sector listed twice. Every walk keeps
    the sectors it has visited and stops at the file's own size, so the work and memory are at
    most proportional to the file (never to what its header claims)."""
    try:
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            return None
        sector = 1 << shift
        per_sector = sector // 4
        n_fat, first_dir = struct.unpack_from("<II", data, 44)
        mini_cutoff, first_mini_fat, n_mini_fat, first_difat, n_difat = struct.unpack_from("<IIIII", data, 56)
        compound = Compound(data, sector, [], [], mini_cutoff, _FREE_SECTOR, {})
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


# ----------------------------------------------------------------------------- BIFF records


def _records(stream: bytes, limit: int | None = None):
    """(offset, record type, payload) of each BIFF record of `stream` in order, at most `limit`
    of them; a record that runs past the end of the stream ends the walk."""
    offset = 0
    count = 0
    while offset + 4 <= len(stream) and (limit is None or count < limit):
        record, length = struct.unpack_from("<HH", stream, offset)
        if offset + 4 + length > len(stream):
            return
        yield offset, record, stream[offset + 4 : offset + 4 + length]
        offset += 4 + length
        count += 1


def biff_password(stream: bytes) -> bool:
    """True when a BIFF5/BIFF8 workbook stream carries FILEPASS among its first records."""
    for _, record, _payload in _records(stream, 20):
        if record == BIFF_FILEPASS:
            return True
        if record == 0x000A:  # EOF of the globals substream
            return False
    return False


@dataclass(frozen=True)
class OldWorkbook:
    """An Excel 5.0/95 (`Book` stream, BIFF5) or 97-2003 (`Workbook` stream, BIFF8) workbook."""

    version: str
    stream: bytes


def old_workbook(data: bytes, suffix: str) -> OldWorkbook:
    """The workbook stream of an OLE2 file that is an old Excel workbook without a password to
    open; otherwise raise Refused naming what the file is (encrypted OOXML, a password-protected
    .xls, some other Office document, a damaged file)."""
    compound = open_compound(data)
    if compound is None:  # a directory this cannot follow: say what its stream names show, if anything
        if ENCRYPTED_STREAM in data:
            raise Refused("FILE_05")
        raise Refused("FILE_02")
    streams = compound.streams
    if "encryptedpackage" in streams:
        raise Refused("FILE_05")
    for name, version in (("workbook", "Excel 97-2003"), ("book", "Excel 5.0/95")):
        if name in streams:
            stream = compound.read(name)
            if len(stream) < 8 or struct.unpack_from("<H", stream, 0)[0] != 0x0809:
                raise Refused("FILE_02")  # no BOF where the workbook stream starts
            if biff_password(stream):
                raise Refused("FILE_24", version=version, named=named(suffix, XLS_SUFFIXES))
            return OldWorkbook(version=version, stream=stream)
    if "worddocument" in streams:
        raise Refused("FILE_08", detail="a Word document (.doc)")
    if "powerpoint document" in streams:
        raise Refused("FILE_08", detail="a PowerPoint presentation (.ppt)")
    raise Refused("FILE_08", detail="an Office compound file that holds no workbook")


# BIFF error codes (BOOLERR and FORMULA results), as Excel shows them.
BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
_BOUNDSHEET, _DATEMODE, _EOF, _BOF = 0x0085, 0x0022, 0x000A, 0x0809
_BOOLERR, _FORMULA, _MERGEDCELLS = 0x0205, 0x0006, 0x00E5


@dataclass
class BiffScan:
    """What the records of an old workbook say that calamine does not: its date system, and for
    the sheet read its error cells (`CELL_01`) and the cells its merged ranges cover (`CELL_03`),
    as `(row, 0-based column, code, detail)` with 1-based rows."""

    date1904: bool
    flags: list[tuple[int, int, str, str]]


def _sheet_offsets(stream: bytes) -> tuple[bool, dict[str, int]]:
    """(date1904, sheet name -> offset of its BOF) from the globals substream."""
    date1904 = False
    sheets: dict[str, int] = {}
    biff8 = len(stream) >= 6 and struct.unpack_from("<H", stream, 4)[0] == 0x0600
    for _, record, payload in _records(stream):
        if record == _DATEMODE and len(payload) >= 2:
            date1904 = struct.unpack_from("<H", payload, 0)[0] == 1
        elif record == _BOUNDSHEET and len(payload) >= 8:
            position, length = struct.unpack_from("<I", payload, 0)[0], payload[6]
            if biff8:  # ShortXLUnicodeString: a flags byte, then Latin-1 or UTF-16LE characters
                wide = payload[7] & 1
                raw = payload[8 : 8 + length * (2 if wide else 1)]
                name = raw.decode("utf-16-le" if wide else "latin-1", "replace")
            else:
                name = payload[7 : 7 + length].decode("cp1252", "replace")
            sheets[name] = position
        elif record == _EOF:
            break
    return date1904, sheets


def workbook_flags(workbook: OldWorkbook, sheet: str, limits: ReadLimits) -> BiffScan:
    """The date system of `workbook`, and the error cells and merged ranges of its sheet `sheet`
    (as calamine names it). Merged ranges past the workbook's merged-cell limit refuse the file
    (`FILE_26`), as in an xlsx."""
    stream = workbook.stream
    date1904, sheets = _sheet_offsets(stream)
    flags: list[tuple[int, int, str, str]] = []
    start = sheets.get(sheet)
    if start is None or start >= len(stream):
        return BiffScan(date1904, flags)
    merged = 0
    for _, record, payload in _records(stream[start:]):
        if record == _EOF:
            break
        if record == _BOOLERR and len(payload) >= 8 and payload[7] == 1:
            row, col = struct.unpack_from("<HH", payload, 0)
            flags.append((row + 1, col, "CELL_01", BIFF_ERRORS.get(payload[6], "#ERROR")))
        elif record == _FORMULA and len(payload) >= 14 and payload[6] == 0x02 and payload[12:14] == b"\xff\xff":
            row, col = struct.unpack_from("<HH", payload, 0)
            flags.append((row + 1, col, "CELL_01", BIFF_ERRORS.get(payload[8], "#ERROR")))
        elif record == _MERGEDCELLS and len(payload) >= 2:
            count = struct.unpack_from("<H", payload, 0)[0]
            for i in range(min(count, (len(payload) - 2) // 8)):
                r1, r2, c1, c2 = struct.unpack_from("<HHHH", payload, 2 + 8 * i)
                if r2 < r1 or c2 < c1:
                    continue
                merged += (r2 - r1 + 1) * (c2 - c1 + 1)
                if merged > limits.max_merged_cells:
                    raise Refused("FILE_26", limit=limits.max_merged_cells)
                ref = f"{column_letters(c1)}{r1 + 1}:{column_letters(c2)}{r2 + 1}"
                for covered in range(r1 + 1, r2 + 2):
                    for col in range(c1, min(c2, limits.max_columns) + 1):
                        flags.append((covered, col, "CELL_03", ref))
    return BiffScan(date1904, flags)
