"""From a sheet of text cells to template rows: header mapping, help line, codes and dates restored.

`take_in` is pure: it reads nothing and writes nothing. It returns the entry rows under the
template's column names, every value text exactly as the centre meant it (codes with their leading
zeros, dates of birth as ISO dates where the cell was a date), and the issues found on the way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from entries.core.rules import Issue, issue
from entries.intake.column_letters import column_letters
from entries.intake.headers import (
    MAX_CELL_TEXT,
    NAME_COLUMNS,
    TEMPLATE_COLUMNS,
    UNIT_COLUMNS,
    looks_like_data,
    match_headers,
)
from entries.intake.reader import RawSheet

# Fixed-width codes a spreadsheet program strips of their leading zeros.
CODE_WIDTHS = {"Centre Number": 5, "Candidate Number": 4}
HELP_MARKER = "delete this line"


class EmptyUpload(Exception):
    """The sheet has no header row (`FILE_20`) or no entry rows under it (`FILE_19`)."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass
class Intake:
    """Entry rows (`row` = spreadsheet row number, then the template columns, all text)."""

    rows: pd.DataFrame
    issues: list[Issue]
    header_row: int
    columns_found: dict[str, str] = field(default_factory=dict)  # template column -> header label
    positions: dict[str, int] = field(default_factory=dict)  # template column -> sheet column


def excel_serial_to_date(serial: int, date1904: bool) -> dt.date | None:
    """The date an Excel serial day number stands for, or None for Excel's fictitious 1900-02-29."""
    if date1904:
        return dt.date(1904, 1, 1) + dt.timedelta(days=serial)
    if serial == 60:
        return None
    # Excel counts 1900-02-29, which never existed: serials after it are one day ahead.
    return dt.date(1899, 12, 31) + dt.timedelta(days=serial - (1 if serial > 60 else 0))


# Day-first UK forms and ISO, tried in this order on the cells not yet parsed.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d")


def normalise_dates(values: pd.Series, date1904: bool) -> tuple[pd.Series, pd.Series]:
    """(ISO dates where recognisable, else the text unchanged; mask of cells that were Excel serials).

    Text is read day-first (UK) or ISO; a real calendar date is required (31/02 stays as typed, for
    validation to refuse). A bare number is an Excel serial in the workbook's own date system.
    """
    text = values.str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    # Fast path for the two forms nearly every file uses: rearrange dd/mm/yyyy to ISO by slicing,
    # then one ISO parse (C speed) that also refuses impossible dates such as 31/02.
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    uk = text.str.fullmatch(r"\d{2}[/.\-]\d{2}[/.\-]\d{4}")
    fast = iso | uk
    if fast.any():
        candidate = text.where(~uk, text.str.slice(6, 10) + "-" + text.str.slice(3, 5) + "-" + text.str.slice(0, 2))
        parsed[fast] = pd.to_datetime(candidate[fast], format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    for fmt in DATE_FORMATS:
        todo = parsed.isna() & text.ne("") & ~fast
        if not todo.any():
            break
        parsed = parsed.fillna(pd.to_datetime(text[todo], format=fmt, errors="coerce").astype("datetime64[s]"))
    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,6}(?:\.0+)?")), errors="coerce")
    usable = parsed.isna() & serial.notna() & (serial > 0) & (serial < 2958466) & (date1904 | (serial != 60))
    if usable.any():
        days = serial[usable].astype("int64")
        if date1904:
            dates = pd.Timestamp("1904-01-01") + pd.to_timedelta(days, unit="D")
        else:
            # Excel counts 1900-02-29, which never existed: serials after it are one day ahead.
            dates = pd.Timestamp("1899-12-31") + pd.to_timedelta(days - (days > 60), unit="D")
        parsed = parsed.fillna(dates.astype("datetime64[s]").reindex(parsed.index))
    out = values.where(parsed.isna(), parsed.dt.strftime("%Y-%m-%d"))
    return out.astype("str"), usable


def _restore_zeros(values: pd.Series, width: int) -> tuple[pd.Series, pd.Series]:
    """(codes with `.0` dropped and leading zeros put back to `width`, mask of those restored)."""
    numeric = values.str.fullmatch(r"\d+(?:\.0+)?")
    fixed = values.copy()
    needs = numeric & (values.str.contains(".", regex=False) | (values.str.len() < width))
    if needs.any():
        fixed[needs] = values[needs].str.replace(r"\.0+$", "", regex=True).str.zfill(width)
    return fixed, needs & (values.str.replace(r"\.0+$", "", regex=True).str.len() < width)


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {"row": pd.Series([], dtype="int64"), **{c: pd.Series([], dtype="str") for c in TEMPLATE_COLUMNS}}
    )


def take_in(sheet: RawSheet) -> Intake:
    """Map `sheet` onto the template; raise EmptyUpload when there is nothing to take in.

    The header row is the first row holding a cell that is not an Excel error. A sheet of error
    cells alone has no header and no entries: its error cells are reported (`CELL_01`), each on
    its row and column. A first row shaped like an entry is reported as such (`HDR_04`), and no
    message ever quotes its cells.
    """
    cells = sheet.cells
    stripped = cells.apply(lambda col: col.str.strip()) if len(cells.columns) else cells
    filled = (stripped != "").any(axis=1) if len(cells.columns) else pd.Series(False, index=cells.index)
    if not filled.any():
        raise EmptyUpload("FILE_20")
    errors = {(row, col): params for row, col, code, params in sheet.flags if code == "CELL_01"}
    warnings = [issue(code, **params) for code, params in sheet.warnings]
    header_at = next(
        (
            int(i)
            for i in filled.to_numpy().nonzero()[0]
            if any(v != "" and (sheet.rows[i], p) not in errors for p, v in enumerate(stripped.iloc[i].tolist()))
        ),
        None,
    )
    if header_at is None:  # nothing but error cells: report them where they are
        found_errors = [
            issue("CELL_01", row=row, column=column_letters(col), **params)
            for (row, col), params in sorted(errors.items())
        ]
        return Intake(rows=_empty_rows(), issues=[*warnings, *found_errors], header_row=0)
    header_row = sheet.rows[header_at]
    labels = ["" if (header_row, p) in errors else str(v).strip() for p, v in enumerate(cells.iloc[header_at].tolist())]
    found = match_headers(labels)
    issues: list[Issue] = warnings
    headerless = looks_like_data(labels, found)
    if headerless:
        # A candidate's row where the header should be: say so once, never quoting its cells.
        issues.append(issue("HDR_04", expected=", ".join(TEMPLATE_COLUMNS)))
    else:
        # Each named by its column letter: a heading may be anything, a candidate's data included.
        for position, _label in found.unknown:
            letter = column_letters(position)
            issues.append(issue("HDR_02", row=header_row, column=letter, letter=letter))
        for position, column in found.repeated:
            issues.append(issue("HDR_03", row=header_row, column=column, letter=column_letters(position)))
    if found.missing:
        issues.append(
            issue(
                "HDR_01",
                row=header_row,
                missing=", ".join(found.missing),
                found=", ".join(c for c in TEMPLATE_COLUMNS if c in found.columns) or "none",
                expected=", ".join(TEMPLATE_COLUMNS),
            )
        )
    issues += [
        issue("CELL_01", row=row, column=column_letters(col), **params)
        for (row, col), params in sorted(errors.items())
        if row <= header_row
    ]

    body = filled.copy()
    body.iloc[: header_at + 1] = False
    data_index = body[body].index
    rows = pd.DataFrame({"row": pd.Series([sheet.rows[i] for i in data_index], dtype="int64")})
    for column in TEMPLATE_COLUMNS:
        at = found.columns.get(column)
        values = cells.iloc[data_index, at] if at is not None else pd.Series([""] * len(data_index))
        rows[column] = values.reset_index(drop=True).astype("str")

    if len(rows) and rows.iloc[0, 1:].str.casefold().str.contains(HELP_MARKER, regex=False).any():
        issues.append(issue("HELP_01", row=int(rows.at[0, "row"])))
        rows = rows.iloc[1:].reset_index(drop=True)
    if rows.empty and not errors and not headerless:
        # A header and nothing under it. A first row of data alone (HDR_04) is no header row at
        # all: the file is rejected with that said, never told it is empty.
        raise EmptyUpload("FILE_19")

    issues += _flag_cells(sheet, rows, found.columns, labels)
    issues += _too_long(rows)
    if not found.missing:
        issues += _normalise(rows, sheet.date1904)
    return Intake(
        rows=rows,
        issues=issues,
        header_row=header_row,
        columns_found={c: labels[p] for c, p in found.columns.items()},
        positions=dict(found.columns),
    )


def _too_long(rows: pd.DataFrame) -> list[Issue]:
    """CELL_06 on every cell longer than a spreadsheet cell can hold (names are the schema's)."""
    found = []
    for column in TEMPLATE_COLUMNS:
        if column in NAME_COLUMNS:
            continue
        long = rows[column].str.len() > MAX_CELL_TEXT
        if long.any():  # almost never: the filter only then
            found += [issue("CELL_06", row=int(r), column=column, limit=MAX_CELL_TEXT) for r in rows.loc[long, "row"]]
    return found


def _flag_cells(sheet: RawSheet, rows: pd.DataFrame, columns: dict[str, int], labels: list[str]) -> list[Issue]:
    by_position = {p: c for c, p in columns.items()}
    row_at = {int(r): i for i, r in enumerate(rows["row"])}
    found = []
    for row, position, code, params in sheet.flags:
        if row not in row_at:
            continue
        if position >= len(labels):
            column = None  # beyond the header (a ragged row's extra cells): the row's status carries it
        else:
            # The template column, else the column letter: never the heading's text (it may be data).
            column = by_position.get(position) or column_letters(position)
        found.append(issue(code, row=row, column=column, **params))
        if code == "CELL_01" and column is not None and column in rows.columns:
            # Never let an error cell pass as a blank: keep Excel's error text as its value.
            rows.at[row_at[row], column] = params.get("detail") or "#ERROR"
    return found


def _normalise(rows: pd.DataFrame, date1904: bool) -> list[Issue]:
    found: list[Issue] = []
    for column, width in CODE_WIDTHS.items():
        original = rows[column].str.strip()
        fixed, restored = _restore_zeros(original, width)
        for i in restored[restored].index:
            found.append(
                issue("CELL_04", row=int(rows.at[i, "row"]), column=column, detail=f"{original[i]} became {fixed[i]}")
            )
        rows[column] = rows[column].where(fixed == original, fixed)
    entry = rows["Entry Code"].str.strip()
    odd = ~entry.str.fullmatch(r"\d{5}(?:[TM]\d)?") & entry.str.fullmatch(r"\d+(?:\.0+)?(?:[TMtm]\d)?")
    for i in entry.index[odd]:
        matched = re.match(r"^(\d+)(?:\.0+)?([TMtm]\d)?$", entry[i])
        if matched is None:  # `odd` holds only codes of this form
            continue
        digits, suffix = matched.groups()
        fixed = digits.zfill(5) + (suffix or "").upper()
        if len(digits) < 5:
            found.append(
                issue("CELL_04", row=int(rows.at[i, "row"]), column="Entry Code", detail=f"{entry[i]} became {fixed}")
            )
        rows.at[i, "Entry Code"] = fixed
    for column in UNIT_COLUMNS:
        unit = rows[column].str.strip()
        odd = unit.str.fullmatch(r"0+\d+|\d+\.0+")
        if odd.any():
            rows.loc[odd, column] = unit[odd].str.replace(r"\.0+$", "", regex=True).str.lstrip("0").replace("", "0")
    dob, was_serial = normalise_dates(rows["Date of Birth"], date1904)
    rows["Date of Birth"] = dob
    system = "1904" if date1904 else "1900"
    for i in rows.index[was_serial]:
        found.append(
            issue("CELL_05", row=int(rows.at[i, "row"]), column="Date of Birth", detail=f"{system} date system")
        )
    return found
