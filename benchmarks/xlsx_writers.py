"""The confirmation's workbook written two ways, on the same rows, in one process.

Run: `.venv/bin/python benchmarks/xlsx_writers.py [--rows 1000,10000] [--runs 5]`. For each size it
writes a confirmation-shaped sheet (a header block, one row per entry, totals) with xlsxwriter in
constant-memory mode (what the project used before) and with `entries.reports.xlsx_stream` (what
it uses now), reads both back with openpyxl to check they hold the same cell values, and prints
the best time of each and their ratio. Figures only: nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import xlsxwriter
from openpyxl import load_workbook

from entries.reports.xlsx_stream import MONEY_FORMAT, Pence, StyledRow, pounds, write_sheet

sys.path.insert(0, str(Path(__file__).parent))
from read_speed import best_of  # noqa: E402

WIDTHS = (18, 16, 22, 22, 12, 55, 6, 12, 12, 6, 10)


def confirmation_like(entries: int) -> list[StyledRow]:
    """A confirmation's rows for `entries` entries (invented names; an ampersand and a `_x0041_` now
    and then, so escaping is paid for)."""
    rows: list[StyledRow] = [(("Entries confirmation",), "title"), (("Centre number", "60000"), "label"), ((), "plain")]
    rows.append((("Candidate number", "UCI", "Surname", "Forenames", "Entry code", "Title", "Unit"), "bold"))
    for n in range(entries):
        surname = "Smith & Jones" if n % 97 == 0 else ("Odd_x0041_" if n % 101 == 0 else f"Surname{n % 500}")
        rows.append(
            (
                (
                    f"{n % 9999 + 1:04d}",
                    f"60000026{n % 9999:04d}X",
                    surname,
                    f"Forename{n % 300}",
                    "05838",
                    "OCR Level 3 Cambridge Technical Extended Diploma in IT: unit 1 Fundamentals of IT",
                    None if n % 3 else 1,
                    "Unit",
                    Pence(4250),
                    "No",
                    "2027-06",
                ),
                "plain",
            )
        )
    rows.append((("Total", entries, Pence(4250 * entries)), "bold"))
    return rows


def with_xlsxwriter(path: Path, sheet: str, rows: list[StyledRow]) -> None:
    """The writer the project used before, as it used it (constant memory, text never a formula)."""
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    looks = {
        "bold": book.add_format({"bold": True}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "money": book.add_format({"num_format": MONEY_FORMAT}),
        "bold money": book.add_format({"num_format": MONEY_FORMAT, "bold": True}),
    }
    ws = book.add_worksheet(sheet)
    for col, width in enumerate(WIDTHS):
        ws.set_column(col, col, width)
    for r, (cells, look) in enumerate(rows):
        for c, value in enumerate(cells):
            bold = look in ("bold", "title") or (look == "label" and c == 0)
            style = looks["title"] if look == "title" else looks["bold"] if bold else None
            if value is None:
                continue
            if isinstance(value, Pence):
                ws.write_number(r, c, pounds(value.pence), looks["bold money" if bold else "money"])
            elif isinstance(value, int | float):
                ws.write_number(r, c, value, style)
            else:
                ws.write_string(r, c, str(value), style)
    book.close()


def cells(path: Path) -> list[tuple]:
    ws = load_workbook(path, read_only=True).worksheets[0]
    return [tuple(v for v in row if v is not None) for row in ws.iter_rows(values_only=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,10000", help="entries per confirmation, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.rows.split(",") if s):
            rows = confirmation_like(size)
            old, new = Path(tmp) / f"xlsxwriter-{size}.xlsx", Path(tmp) / f"stream-{size}.xlsx"
            before = best_of(args.runs, lambda old=old, rows=rows: with_xlsxwriter(old, "Confirmation", rows))
            after = best_of(args.runs, lambda new=new, rows=rows: write_sheet(new, "Confirmation", rows, WIDTHS))
            same = "same cell values" if cells(old) == cells(new) else "CELL VALUES DIFFER"
            print(
                f"{size:,} entries: xlsxwriter {1000 * before:.1f} ms, xlsx_stream {1000 * after:.1f} ms, "
                f"{before / after:.1f}x faster ({same}; {old.stat().st_size:,} and {new.stat().st_size:,} bytes)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
