"""Read a CSV export as text: encoding and delimiter detected, row numbers as a spreadsheet shows them.

The row and column limits of a workbook apply here too (`FILE_12`, `FILE_13`). Fast path:
pyarrow's parser with every column typed as text. Any row pyarrow cannot place (a ragged row, a
blank line) switches to Python's csv module, which pads short rows and reports long ones
with their record numbers, so the numbering always matches what the centre sees when it opens the
file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from entries.core.limits import ReadLimits
from entries.intake.column_letters import column_letters
from entries.intake.sniff import Refused, utf16_without_bom

DELIMITERS = (",", ";", "\t", "|")
EXCEL_COLUMNS = 16_384  # no spreadsheet program writes a row wider than this


@dataclass
class CsvText:
    """Cells as text (columns 0..n-1), their record numbers, and what was noticed on the way."""

    cells: pd.DataFrame
    rows: list[int]
    encoding: str
    delimiter: str
    flags: list[tuple[int, int, str, dict]] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 (with or without BOM), UTF-16 with a BOM or recognised by its
    NUL pattern, or Windows-1252."""
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
    utf16 = utf16_without_bom(data[:8192])
    if utf16:
        try:
            return data.decode(utf16), utf16
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


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The CSV records of `text` (lines ending "\n"). A field longer than the csv module's limit
    (131,072 characters, four times the most a spreadsheet cell holds: an unclosed quote, or not an
    entries file) is refused as FILE_29 naming its row and column; the limit is process-wide, so it
    is never raised here."""
    reader = csv.reader(io.StringIO(text, newline="\n"), delimiter=delimiter)
    records: list[list[str]] = []
    lines_before = 0  # lines read before the record being parsed began
    try:
        for record in reader:
            records.append(record)
            lines_before = reader.line_num
    except csv.Error as exc:
        if "field larger than field limit" not in str(exc):
            raise
        limit = csv.field_size_limit()
        lengths = _field_lengths(text, _line_start(text, lines_before), delimiter)
        over = next((n for n, length in enumerate(lengths) if length > limit), None)
        row = len(records) + 1
        column = column_letters(over) if over is not None else None
        raise Refused("FILE_29", record=row, limit=f"{limit:,}", row=row, column=column) from None
    return records


def _line_start(text: str, lines: int) -> int:
    """Where line `lines` (0-based) of `text` starts."""
    at = 0
    for _ in range(lines):
        at = text.find("\n", at) + 1
        if at == 0:
            return len(text)
    return at


def _field_lengths(text: str, start: int, delimiter: str) -> list[int]:
    """The length of each field of the CSV record that starts at `start` in `text` (lines ending
    "\n"), as the csv module reads it (a field in quotes may hold delimiters, line ends and doubled
    quotes; text after its closing quote is part of it), but with no limit on a field's length."""
    ends = re.compile(f"[{re.escape(delimiter)}\n]")
    lengths: list[int] = []
    at = start
    while True:
        length = 0
        if text.startswith('"', at):
            at += 1
            while True:
                quote = text.find('"', at)
                if quote < 0:  # never closed: the field runs to the end of the file
                    lengths.append(length + len(text) - at)
                    return lengths
                length += quote - at
                if not text.startswith('"', quote + 1):
                    at = quote + 1
                    break
                length += 1  # a doubled quote is one quote character
                at = quote + 2
        found = ends.search(text, at)
        end = found.start() if found else len(text)
        lengths.append(length + end - at)
        if found is None or text[end] == "\n":
            return lengths
        at = end + 1


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first line into the most fields (comma on a tie)."""
    first = text.split("\n", 1)[0]
    counts = {}
    for d in DELIMITERS:
        try:
            counts[d] = len(next(iter(_records(first, d)), []))
        except Refused:
            # A field over the csv module's limit, split this way: counted all the same, so a
            # line of many long cells is not refused for what a delimiter it does not use sees.
            counts[d] = len(_field_lengths(first, 0, d))
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


def read_csv_text(data: bytes, limits: ReadLimits | None = None) -> CsvText:
    """Parse CSV bytes into text cells; row 1 is the first record. Refuses text holding NUL bytes
    (`FILE_25`) and, given upload `limits`, data right of the column limit (`FILE_13`) and more
    rows than the row limit (`FILE_12`); without them (an operator's file) only a line wider than
    any spreadsheet writes."""
    limits = limits or ReadLimits(max_rows=1 << 62, max_columns=EXCEL_COLUMNS)
    text, encoding = decode(data)
    if "\x00" in text:
        raise Refused("FILE_25")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = sniff_delimiter(text)
    first = next(iter(_records(text.split("\n", 1)[0], delimiter)), [])
    width = len(first)
    if width > EXCEL_COLUMNS or any(cell.strip() for cell in first[limits.max_columns :]):
        raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
    body = text[:-1] if text.endswith("\n") else text
    frame = _fast(body, delimiter, width) if width else None
    flags: list[tuple[int, int, str, dict]] = []
    if frame is None:
        records = _records(body, delimiter)
        padded = []
        for number, record in enumerate(records, start=1):
            if any(cell.strip() for cell in record[limits.max_columns :]):
                raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
            if len(record) > width and any(cell.strip() for cell in record[width:]):
                flags.append((number, width, "FILE_17", {"found": len(record), "expected": width}))
            padded.append((record + [""] * width)[:width])
        frame = (
            pd.DataFrame(padded, columns=range(width), dtype="str")
            if padded
            else pd.DataFrame(columns=range(width), dtype="str")
        )
    frame = _within_limits(frame, limits)
    return CsvText(
        cells=frame, rows=list(range(1, len(frame) + 1)), encoding=encoding, delimiter=delimiter, flags=flags
    )


def _within_limits(frame: pd.DataFrame, limits: ReadLimits) -> pd.DataFrame:
    """`frame` without its blank columns right of the limit; refuses data there or too many rows."""
    if frame.shape[1] > limits.max_columns:
        beyond = frame.iloc[:, limits.max_columns :]
        if beyond.apply(lambda col: col.str.strip().ne("")).to_numpy().any():
            raise Refused("FILE_13", limit=column_letters(limits.max_columns - 1))
        frame = frame.iloc[:, : limits.max_columns]
    if len(frame) > limits.max_rows + 1 and frame.shape[1]:
        filled = int(frame.apply(lambda col: col.str.strip().ne("")).any(axis=1).sum())
        if filled > limits.max_rows + 1:  # the header row is not an entry
            raise Refused("FILE_12", rows=filled - 1, limit=limits.max_rows)
    return frame
