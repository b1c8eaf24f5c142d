"""Recognise an upload's real format from its bytes, never its name, before any parser sees it."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entries.core.limits import ReadLimits

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
# An encrypted OOXML package is an OLE2 file holding a stream with this name (UTF-16LE).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


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
        if ENCRYPTED_STREAM in path.read_bytes():
            raise Refused("FILE_05")
        raise Refused("FILE_03")
    if head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC):
        return Sniffed(kind=_zip_kind(path), misnamed=suffix not in (".xlsx", ".xlsm"))
    if head.startswith(b"%PDF"):
        raise Refused("FILE_08", detail="a PDF document")
    if _looks_like_text(head):
        return Sniffed(kind="csv", misnamed=suffix in (".xlsx", ".xlsm", ".xls"))
    raise Refused("FILE_08", detail="unrecognised binary content")


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and b"opendocument" in zf.read("mimetype")[:100]:
                raise Refused("FILE_04")
    except zipfile.BadZipFile:
        raise Refused("FILE_02") from None
    if "xl/workbook.bin" in names:
        raise Refused("FILE_06")
    if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        raise Refused("FILE_08", detail="a Word document")
    raise Refused("FILE_08", detail="a zip archive that is not a workbook")


def _looks_like_text(head: bytes) -> bool:
    if head.startswith(TEXT_BOMS):
        return True
    if b"\x00" in head:
        return False
    # Text exports are printable apart from line ends, tabs and the odd control character.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls <= len(head) // 100
