"""The annotated copy of a rejected file as a centre prints it: LibreOffice prints it to A4 and
poppler reads the pages back (tests/printing.py), for an xlsx upload (the centre's own workbook)
and a CSV upload (a rebuilt workbook).

Checks issue 23 item 1: A4 landscape, fitted one page wide only (never to a whole page, which
printed a long file at 5 pt), the header row on every page, a footer with the file's reference
and the page number, each row's error text level with that row's values (not beside the next
row), and text large enough to read. The pages are kept as PNGs under data/screenshots/ (not
committed) to look at. Skips, saying why, where LibreOffice is not installed.
"""

from __future__ import annotations

import csv
import re
import statistics
import subprocess
from pathlib import Path

import openpyxl
import pytest

from entries.core.rules import Issue, issue
from entries.intake.headers import TEMPLATE_COLUMNS
from entries.intake.normalise import take_in
from entries.intake.reader import read_upload
from entries.reports.annotate import write_annotated
from entries.reports.annotate_cells import STATUS_HEADER
from entries.reports.annotate_print import MAX_WIDTH, print_scale
from entries.reports.annotate_sheets import BANNER_TITLE
from tests.printing import page_pictures, read_pdf, to_pdf

SHOTS = Path(__file__).resolve().parent.parent / "data" / "screenshots"
COLUMNS = [c for c in TEMPLATE_COLUMNS if c != "Series"]  # the template's 16 columns
STATUS_COL = len(COLUMNS) + 1
ROWS = 40  # entries, on rows 2 to 41
REFERENCE = "CLM-2027-000123"
# Word boxes are about 1.2 (Carlito) to 1.3 (DejaVu Sans) times the font size: at half of 11 pt
# (the least that reads comfortably) a word stands at least 6.7 pt tall. The 5 pt copy was 5.3.
SMALLEST_WORD_POINTS = 6.7
SURNAMES = ("Smith", "Okafor-Williams", "Nguyen", "O'Brien")


def _record(row: int) -> dict[str, str]:
    """The entry on spreadsheet row `row`: candidate number 1000 + row."""
    return {
        "Centre Number": "12345",
        "Candidate Number": f"{1000 + row:04d}",
        "UCI": "123450260042C" if row % 4 else "",
        "ULN": "1000000043",
        "Surname": SURNAMES[row % len(SURNAMES)],
        "Forenames": "Amy Jane",
        "Sex": "F",
        "Date of Birth": "14/05/2009",
        "Entry Code": "05838",
        "Unit 1": "1",
        "Candidate Group": "13A",
    }


def _issues() -> list[Issue]:
    """Errors (and a warning) on every third row, some rows with three issues: tall status cells."""
    found = []
    for row in range(2, ROWS + 2, 3):
        found.append(issue("SEX_01", row=row, column="Sex"))
        if row % 2:
            found.append(issue("DOB_01", row=row, column="Date of Birth"))
        if row % 4 == 0:
            found.append(issue("UCI_01", row=row, column="UCI"))
    return found


def _upload(folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        path = folder / "entries.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            for row in range(2, ROWS + 2):
                writer.writerow(_record(row))
        return path
    path = folder / "entries.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Entries"
    for col, name in enumerate(COLUMNS, start=1):
        ws.cell(row=1, column=col, value=name)
    for row in range(2, ROWS + 2):
        for col, name in enumerate(COLUMNS, start=1):
            value = _record(row).get(name)
            if value:
                cell = ws.cell(row=row, column=col, value=value)
                cell.data_type = "s"
    wb.save(path)
    return path


def _annotated(tmp_path: Path, kind: str) -> Path:
    path = _upload(tmp_path / "in", kind)
    sheet = read_upload(path)
    intake = take_in(sheet)
    xlsx, _ = write_annotated(
        path,
        tmp_path / "out",
        file_format=sheet.file_format,
        sheet_name=sheet.sheet,
        header_row=intake.header_row,
        positions=intake.positions,
        rows=intake.rows,
        issues=[*intake.issues, *_issues()],
        stem=f"print-{kind}",
        reference=REFERENCE,
    )
    return xlsx


def _word_heights(pdf: Path, page: int) -> list[float]:
    """The height in points of each word on `page` of `pdf` (pdftotext -bbox)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [float(y2) - float(y1) for y1, y2 in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', out)]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_entries_sheet_is_set_to_print_one_page_wide_with_its_header_and_footer(tmp_path: Path, kind: str):
    ws = openpyxl.load_workbook(_annotated(tmp_path, kind))["Entries"]
    assert ws.page_setup.paperSize == int(ws.PAPERSIZE_A4)
    assert ws.page_setup.orientation == "landscape"
    # Fitted to the page's width only: a whole page's fit is what printed a long file at 5 pt.
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$1"
    assert ws.print_options.gridLines is True
    assert ws.page_margins.left <= 0.5 and ws.page_margins.right <= 0.5
    for footer in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        assert footer.left.text == REFERENCE and footer.right.text == "Page &P of &N"
    # Columns as wide as their values, none wider than the cap: the 16 columns and the status fit
    # a landscape page at more than half of full size.
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width for c in range(1, STATUS_COL)]
    assert all(5 <= w <= MAX_WIDTH for w in widths), widths
    assert widths[COLUMNS.index("UCI")] >= len("123450260042C")
    # Estimated with Calibri's widths; LibreOffice laying it out in DejaVu Sans prints at 0.8 of it.
    assert print_scale(ws, STATUS_COL) >= 0.65


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_printed_copy_is_a4_readable_and_each_error_is_on_its_row(tmp_path: Path, kind: str, libreoffice: str):
    xlsx = _annotated(tmp_path, kind)
    pdf = to_pdf(xlsx, tmp_path / "pdf")
    printed = read_pdf(pdf)
    for old in SHOTS.glob(f"annotated-print-{kind}-*.png"):
        old.unlink()  # a longer print's last pages would otherwise stay beside this one's
    page_pictures(pdf, SHOTS, f"annotated-print-{kind}")
    assert printed.all_a4()
    # The entries sheet's pages come first, then the banner's and the Errors sheet's.
    banner = next(n for n, text in enumerate(printed.texts) if BANNER_TITLE in text)
    entries_pages = list(range(banner))
    assert 2 <= len(entries_pages) <= 5, printed.pages
    for n in entries_pages:
        width, height = printed.sizes[n]
        assert width > height  # landscape
        # The header row on every page, and the footer's reference and page number.
        assert re.search(rf"Number\s+Number\s.*{STATUS_HEADER}", printed.texts[n]), n
        assert REFERENCE in printed.texts[n] and re.search(rf"Page {n + 1} of {printed.pages}", printed.texts[n])
        heights = _word_heights(pdf, n + 1)
        assert statistics.median(heights) >= SMALLEST_WORD_POINTS, statistics.median(heights)

    lines = [line for n in entries_pages for line in printed.texts[n].splitlines()]
    # Every row's values print whole, none cut at its column's edge.
    for row in range(2, ROWS + 2):
        record = _record(row)
        line = next(line for line in lines if re.match(rf"\s*12345\s+{record['Candidate Number']}\s", line))
        assert all(record[c] in line for c in ("UCI", "ULN", "Surname", "Forenames", "Candidate Group")), line
    rows_with_errors = sorted({i.row for i in _issues() if i.severity == "error"})
    for row in rows_with_errors:
        number = f"{1000 + row:04d}"
        at = next(i for i, line in enumerate(lines) if re.match(rf"\s*12345\s+{number}\s", line))
        # The row's status begins on its own line of values (top-aligned): not on the line above,
        # beside the previous row, as when the values sat at the bottom of a tall row.
        assert "Error: " in lines[at], (row, lines[at - 1 : at + 2])
        # ...and every issue of the row, with its message, follows before the next row's values.
        after = next((i for i in range(at + 1, len(lines)) if re.match(r"\s*12345\s", lines[i])), len(lines))
        block = " ".join(lines[at:after])
        for item in (i for i in _issues() if i.row == row):
            assert f"{item.code} ({item.column})" in block, (row, item.code)
    # A row without an issue has an empty status beside it.
    clean = f"{1000 + 3:04d}"
    assert not any("Error" in line for line in lines if re.match(rf"\s*12345\s+{clean}\s", line))


def test_the_footer_names_the_claim_or_submission_never_the_file(ingest):
    """Through the hall: the copy's footer quotes what the guide tells a centre to quote, not the
    file's name (a centre may name a file for a person)."""
    result = ingest([("0042", "05838"), ("0043", "NOPE1")])
    annotated = result["reports"]["annotated"]
    footer = openpyxl.load_workbook(annotated).worksheets[0].oddFooter.left.text
    assert re.fullmatch(r"Claim \S+|Centre 12345, submission \d+", footer), footer
