"""The entries template workbook that exams officers fill in and upload (docs/architecture.md §4).

`write_template` builds it from the reference tables in the store:

- `Entries` (first, active): the header row (TEMPLATE_COLUMNS), then the help line centres are told
  to delete, then empty data rows formatted as text, with drop-downs for Sex, Entry Code and the
  unit columns.
- `Help`: one row per column (required or optional, what to enter, an example, the rules), then the
  entry codes offered.
- `Lists` (hidden): the drop-down values, referenced by range because Excel caps an inline list at
  255 characters.

With a centre, the drop-downs and the code table cover only the suites that centre is approved for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from entries.core import clock
from entries.core.errors import EntriesError, UsageError
from entries.intake.headers import REQUIRED_COLUMNS, TEMPLATE_COLUMNS, UNIT_COLUMNS
from entries.reports.confirmation import KIND_LABELS
from entries.reports.files import active_sheet, put, write_xlsx_atomically
from entries.store.database import Connection
from entries.store.qualifications import examined_units, offered_entry_codes
from entries.store.series import taking_entries

HELP_PREFIX = "Help: delete this line before you submit."
HEADER_ROW = 1
HELP_ROW = 2
FIRST_DATA_ROW = 3
LAST_ROW = 5001  # text format and drop-downs reach this far: generous for one centre's upload
TEXT = "@"


@dataclass(frozen=True)
class _Series:
    """A series still taking entries on the template's date."""

    series: str
    title: str
    entry_deadline: dt.date
    late_entry_deadline: dt.date
    late: bool  # only at the late fee on that date


@dataclass(frozen=True)
class _Offer:
    """What the template offers: entry codes (code, kind, title), examined unit numbers and the
    series open on its date."""

    entry_codes: list[tuple[str, str, str]]
    exam_units: list[str]
    series: list[_Series]


@dataclass(frozen=True)
class _ColumnHelp:
    hint: str  # the help line's cell: a few words
    what: str  # Help sheet: what to enter
    example: str
    rules: str


def write_template(path: Path, con: Connection, centre: str | None = None, on: dt.date | None = None) -> Path:
    """Write the entries template workbook (xlsx) to `path` and return `path`.

    `on` (default today) decides which series the Series drop-down offers: those still taking
    entries on that day.

    `con` is a store with reference data loaded. With `centre` (5 digits), the Entry Code and Unit
    drop-downs and the Help sheet's code table cover only the suites that centre is approved for;
    without it, every entry code and examined unit. The data rows are left empty. The file is
    written under a temporary name in the same folder and moved into place, so a reader never sees
    half a workbook. Raises UsageError for a malformed centre number and EntriesError for a centre
    with no approvals.
    """
    return write_offer(path, read_offer(con, centre, on))


@dataclass(frozen=True)
class TemplateOffer:
    """Everything a template is made from: the centre (None: every suite) and what it offers."""

    centre: str | None
    offer: _Offer


def read_offer(con: Connection, centre: str | None = None, on: dt.date | None = None) -> TemplateOffer:
    """What the template for `centre` on `on` (default today) offers, read from the store (a few
    quick queries: the caller may hold a lock for them, not for the writing). Raises as
    `write_template` does."""
    if centre is not None:
        centre = str(centre).strip()
        if not re.fullmatch(r"[0-9]{5}", centre):
            raise UsageError("the centre number must be 5 digits")
    offer = _offer(con, centre, on or clock.today())
    if not offer.entry_codes:
        raise EntriesError(
            f"centre {centre} is not approved for any qualification" if centre else "no entry codes are loaded"
        )
    return TemplateOffer(centre, offer)


def write_offer(path: Path, made_from: TemplateOffer) -> Path:
    """Write the template `made_from` describes to `path` (atomically) and return `path`."""
    path = Path(path)
    offer, centre = made_from.offer, made_from.centre
    help_by_column = _column_help(offer, centre)

    wb = Workbook()
    entries = active_sheet(wb)
    entries.title = "Entries"
    help_ws = wb.create_sheet("Help")
    lists = wb.create_sheet("Lists")
    _fill_entries(entries, help_by_column)
    ranges = _fill_lists(lists, offer)
    _add_validations(entries, ranges)
    _fill_help(help_ws, help_by_column, offer, centre)
    wb.active = 0

    props = wb.properties
    props.creator = props.lastModifiedBy = "OCR entries"
    props.title = "OCR Cambridge Technicals entries template"

    write_xlsx_atomically(wb, path)
    return path


def cached_template(folder: Path, made_from: TemplateOffer) -> Path:
    """The template `made_from` describes, written once into `folder` and reused while the offer
    (codes, units, open series, the centre) and this module's layout stay the same: a template
    has 80,000 formatted cells and takes seconds to write, the same bytes each time.

    In: a private folder of the portal's and the offer (`read_offer`). Out: the workbook's path,
    named for the centre and a digest of what it is made from. Copies of other offers older than
    an hour are removed (a copy being sent is never younger than that).
    """
    digest = hashlib.sha256(repr((_layout(), made_from)).encode("utf-8")).hexdigest()[:24]
    stem = f"entries_template_{made_from.centre or 'all'}"
    path = folder / f"{stem}_{digest}.xlsx"
    if not path.exists():
        write_offer(path, made_from)
        old = time.time() - 3600
        for other in folder.glob(f"{stem}_*.xlsx"):
            if other != path and other.stat().st_mtime < old:
                other.unlink(missing_ok=True)
    return path


@cache
def _layout() -> str:
    """A digest of this module's source: a cached template is never one an older layout made."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _offer(con: Connection, centre: str | None, on: dt.date) -> _Offer:
    """Entry codes and examined units of the centre's approved suites (all suites without one), and
    the series open on `on`."""
    return _Offer(
        entry_codes=offered_entry_codes(con, centre),
        exam_units=examined_units(con, centre),
        series=[_Series(*found) for found in taking_entries(con, on)],
    )


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _column_help(offer: _Offer, centre: str | None) -> dict[str, _ColumnHelp]:
    """Per template column: the help line's hint and the Help sheet's explanation."""
    full = [c for c, k, _ in offer.entry_codes if k == "full_award"]
    example_code = full[0] if full else offer.entry_codes[0][0]
    example_unit = offer.exam_units[0] if offer.exam_units else "1"
    units_text = ", ".join(offer.exam_units) or "none"
    centre_hint = f"5 digits: your centre, {centre}" if centre else "5 digits, e.g. 12345"
    out = {
        "Centre Number": _ColumnHelp(
            f"{HELP_PREFIX} Centre Number: {centre_hint}",
            "Your centre number.",
            centre or "12345",
            "5 digits; it must be your own centre's number"
            + (f" ({centre})." if centre else ".")
            + " Keep any leading zeros.",
        ),
        "Candidate Number": _ColumnHelp(
            "4 digits, e.g. 0042",
            "The candidate's number at your centre.",
            "0042",
            "4 digits, 0001 to 9999, keeping leading zeros; one number per candidate at your centre.",
        ),
        "UCI": _ColumnHelp(
            "13 characters; leave blank if not known",
            "The candidate's Unique Candidate Identifier.",
            "681990012058G",
            "13 characters: centre number (5), 0 or a letter, year (2), serial (4) and a check letter "
            "that must match. Leave blank if not known.",
        ),
        "ULN": _ColumnHelp(
            "10 digits; leave blank if not known",
            "The candidate's Unique Learner Number.",
            "1000000043",
            "10 digits whose last digit is a check digit that must match. Leave it blank when not "
            "known: never 9999999999, TBC or another placeholder.",
        ),
        "Surname": _ColumnHelp(
            "legal surname, e.g. O'Neill-Smith",
            "The candidate's legal surname.",
            "O'Neill-Smith",
            "Required. Letters, spaces, hyphens, apostrophes and full stops only.",
        ),
        "Forenames": _ColumnHelp(
            "legal forenames, e.g. Mary Jane",
            "The candidate's legal forenames.",
            "Mary Jane",
            "Required. Letters, spaces, hyphens, apostrophes and full stops only.",
        ),
        "Sex": _ColumnHelp("M or F", "The candidate's sex.", "F", "M or F."),
        "Date of Birth": _ColumnHelp(
            "DD/MM/YYYY or YYYY-MM-DD",
            "The candidate's date of birth.",
            "14/03/2009",
            "A real date, written DD/MM/YYYY or YYYY-MM-DD; the candidate must be at least 13.",
        ),
        "Entry Code": _ColumnHelp(
            f"e.g. {example_code}",
            "The entry code (see the list of codes below).",
            example_code,
            "Full award: the qualification code, with the unit columns blank. Unit entries: the "
            "qualification's code plus unit numbers in the unit columns. Top-up (e.g. 05839T1) and "
            "moving-down (e.g. 05838M2) codes take no units.",
        ),
        "Candidate Group": _ColumnHelp(
            "optional, e.g. 13B",
            "Your own group for the candidate, such as a tutor or registration group.",
            "13B",
            "Optional; free text for your own use.",
        ),
        "Series": _series_help(offer),
    }
    for column in UNIT_COLUMNS:
        out[column] = _ColumnHelp(
            "unit number; blank for a full award",
            "An examined unit the candidate is entered for, with the qualification's code as the Entry Code.",
            example_unit,
            f"A unit number of an examined unit ({units_text}), one per column. Leave blank for a "
            "full award, top-up or moving-down entry.",
        )
    # A column added to TEMPLATE_COLUMNS without help here must fail loudly, not ship blank.
    missing = [c for c in TEMPLATE_COLUMNS if c not in out]
    if missing:
        raise RuntimeError(f"template help is missing for {missing}")
    return out


# The checks refuse a blank Series cell in a late window (SER_03): the template says so.
LATE_WINDOW_HELP = (
    "When a series is in its late window (late fee only), you must fill in Series on every row "
    "(unless the upload names its series): a blank Series is then refused, because the fee is yours "
    "to choose."
)


def _series_help(offer: _Offer) -> _ColumnHelp:
    standard = [s for s in offer.series if not s.late]
    default = standard[0] if standard else None
    listed = "; ".join(
        f"{s.series} ({s.title}): "
        + (
            f"late fee only, until {_long(s.late_entry_deadline)}"
            if s.late
            else f"standard fee until {_long(s.entry_deadline)}, late fee until {_long(s.late_entry_deadline)}"
        )
        for s in offer.series
    )
    late = next((s for s in offer.series if s.late), None)
    if late is not None and default is not None:
        hint = f"fill in: {late.series} (late fee) or {default.series}"
    else:
        hint = f"optional; blank = {default.title}" if default else "optional, e.g. 2027-06"
    return _ColumnHelp(
        hint,
        "The exam series of this row's entries, when not the series the upload is for.",
        default.series if default else "2027-06",
        "Optional. Write 2027-06 or June 2027. Left blank, a row is for the series the upload names "
        "(its folder or the operator's choice), else the first series still at the standard fee"
        + (f" ({default.title})" if default else "")
        + ". A late fee is charged only for a series you write here or name. "
        + LATE_WINDOW_HELP
        + (f" Now: {late.series} takes entries only at the late fee." if late else "")
        + " Open series: "
        + (listed or "none")
        + ".",
    )


def _fill_entries(ws: Worksheet, help_by_column: dict[str, _ColumnHelp]) -> None:
    bold = Font(bold=True)
    help_font = Font(italic=True, color="595959")
    help_fill = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    for col, name in enumerate(TEMPLATE_COLUMNS, start=1):
        header = put(ws, HEADER_ROW, col, name)
        header.font = bold
        header.number_format = TEXT
        hint = put(ws, HELP_ROW, col, help_by_column[name].hint)
        hint.font, hint.fill, hint.alignment = help_font, help_fill, wrap
        # Text format on every cell, so Excel keeps leading zeros (0042, 05838) and leaves dates
        # and codes as typed; the column style covers rows past LAST_ROW too.
        for row in range(HELP_ROW, LAST_ROW + 1):
            ws.cell(row=row, column=col).number_format = TEXT
        letter = get_column_letter(col)
        ws.column_dimensions[letter].number_format = TEXT
        ws.column_dimensions[letter].width = _width(name, help_by_column[name].hint)
    ws.row_dimensions[HELP_ROW].height = 45
    ws.freeze_panes = f"A{HEADER_ROW + 1}"


def _width(name: str, hint: str) -> float:
    # Wide enough for the header and most of the hint (which wraps), never absurdly wide.
    return float(min(max(len(name) + 4, min(len(hint), 24) + 2, 10), 30))


def _fill_lists(ws: Worksheet, offer: _Offer) -> dict[str, str]:
    """Write the drop-down values; return list name -> absolute range reference ('' if empty)."""
    ws.sheet_state = "hidden"
    ranges: dict[str, str] = {}
    for col, (name, values) in enumerate(
        (
            ("Entry Code", [c for c, _, _ in offer.entry_codes]),
            ("Unit", offer.exam_units),
            ("Series", [s.series for s in offer.series]),
        ),
        start=1,
    ):
        put(ws, 1, col, name).font = Font(bold=True)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].number_format = TEXT
        for row, value in enumerate(values, start=2):
            put(ws, row, col, value).number_format = TEXT
        ranges[name] = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${len(values) + 1}" if values else ""
    return ranges


def _add_validations(ws: Worksheet, ranges: dict[str, str]) -> None:
    def column_range(*names: str) -> list[str]:
        letters = [get_column_letter(TEMPLATE_COLUMNS.index(n) + 1) for n in names]
        return [f"{x}{FIRST_DATA_ROW}:{x}{LAST_ROW}" for x in letters]

    def add(
        formula: str, cells: list[str], error: str, style: Literal["stop", "warning", "information"] = "stop"
    ) -> None:
        dv = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not in the list",
            error=error,
            errorStyle=style,
        )
        for cell_range in cells:
            dv.add(cell_range)
        ws.add_data_validation(dv)

    add('"M,F"', column_range("Sex"), "Enter M or F.")
    add(ranges["Entry Code"], column_range("Entry Code"), "Choose an entry code from the list (see the Help sheet).")
    # No examined units at all: no unit drop-down rather than a broken empty range.
    if ranges["Unit"]:
        add(ranges["Unit"], column_range(*UNIT_COLUMNS), "Choose an examined unit number from the list.")
    if ranges["Series"]:
        # A warning, not a stop: `June 2027` typed by hand is accepted too.
        add(
            ranges["Series"],
            column_range("Series"),
            "Choose a series still taking entries (or write it as June 2027). Leave it blank only when "
            "no series is late-fee only: a blank Series is refused then.",
            "warning",
        )


def _fill_help(ws: Worksheet, help_by_column: dict[str, _ColumnHelp], offer: _Offer, centre: str | None) -> None:
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for col, name in enumerate(("Column", "Required", "What to enter", "Example", "Rules"), start=1):
        put(ws, 1, col, name).font = bold
    for row, column in enumerate(TEMPLATE_COLUMNS, start=2):
        info = help_by_column[column]
        values = (column, "Required" if column in REQUIRED_COLUMNS else "Optional", info.what, info.example, info.rules)
        for col, value in enumerate(values, start=1):
            cell = put(ws, row, col, value)
            cell.alignment = wrap
            cell.number_format = TEXT
    row = len(TEMPLATE_COLUMNS) + 3
    put(ws, row, 1, f"Series: {LATE_WINDOW_HELP}")
    row += 2
    title = f"Entry codes offered to centre {centre}" if centre else "Entry codes offered"
    put(ws, row, 1, title).font = bold
    row += 1
    for col, name in enumerate(("Entry code", "Kind", "Title"), start=1):
        put(ws, row, col, name).font = bold
    for code, kind, code_title in offer.entry_codes:
        row += 1
        put(ws, row, 1, code).number_format = TEXT
        put(ws, row, 2, KIND_LABELS.get(kind, kind))
        put(ws, row, 3, code_title)
    for letter, width in zip("ABCDE", (18, 11, 45, 16, 70), strict=False):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
