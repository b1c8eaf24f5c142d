"""Read a CSV export as text: encoding and delimiter detected, row numbers as a spreadsheet shows them.

Fast path: pyarrow's parser with every column typed as text. Any row pyarrow cannot place (a ragged
row, a blank line) switches to Python's csv module, which pads short rows and reports long ones
with their record numbers, so the numbering always matches what the centre sees when it opens the
file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from entries.intake.sniff import Refused

DELIMITERS = (",", ";", "\t", "|")


@dataclass
class CsvText:
    """Cells as text (columns 0..n-1), their record numbers, and what was noticed on the way."""

    cells: pd.DataFrame
    rows: list[int]
    encoding: str
    delimiter: str
    flags: list[tuple[int, int, str, dict]] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise Refused("FILE_16") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise Refused("FILE_16") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV (Comma delimited)" on Windows: cp1252. Its five undefined bytes fail here.
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise Refused("FILE_16") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first line into the most fields (comma on a tie)."""
    first = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def _fast(text: str, delimiter: str, width: int) -> pd.DataFrame | None:
    bad: list[int] = []

    def on_invalid(_row: object) -> str:
        bad.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if bad:
        return None
    frame = table.to_pandas()
    frame.columns = range(frame.shape[1])
    return frame


def read_csv_text(data: bytes) -> CsvText:
    """Parse CSV bytes into text cells; row 1 is the first record."""
    text, encoding = decode(data)
    if "\x00" in text:
        raise Refused("FILE_08", detail="binary content in a text file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = sniff_delimiter(text)
    width = len(next(csv.reader([text.split("\n", 1)[0]], delimiter=delimiter), []))
    body = text[:-1] if text.endswith("\n") else text
    frame = _fast(body, delimiter, width) if width else None
    flags: list[tuple[int, int, str, dict]] = []
    if frame is None:
        records = list(csv.reader(io.StringIO(body), delimiter=delimiter))
        padded = []
        for number, record in enumerate(records, start=1):
            if len(record) > width and any(cell.strip() for cell in record[width:]):
                flags.append((number, width, "FILE_17", {"found": len(record), "expected": width}))
            padded.append((record + [""] * width)[:width])
        frame = (
            pd.DataFrame(padded, columns=range(width), dtype="str")
            if padded
            else pd.DataFrame(columns=range(width), dtype="str")
        )
    return CsvText(
        cells=frame, rows=list(range(1, len(frame) + 1)), encoding=encoding, delimiter=delimiter, flags=flags
    )
