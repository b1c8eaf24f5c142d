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

from entries.headers import TEMPLATE_COLUMNS, UNIT_COLUMNS, match_headers
from entries.reader import RawSheet
from entries.rules import Issue, issue
from entries.xlsx import column_letters

# Fixed-width codes a spreadsheet program strips of their leading zeros.
CODE_WIDTHS = {"Centre Number": 5, "Candidate Number": 4}
HELP_MARKER = "delete this line"
_NUMBER = re.compile(r"^(\d+)(?:\.0+)?$")
_ENTRY = re.compile(r"^(\d+)(?:\.0+)?([TMtm]\d)?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_UK = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_SERIAL = re.compile(r"^(\d{1,6})(?:\.0+)?$")


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


def normalise_date(text: str, date1904: bool) -> tuple[str, bool]:
    """(ISO date or the original text, whether it was an Excel serial number)."""
    if m := _ISO.match(text):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat(), False
        except ValueError:
            return text, False
    if m := _UK.match(text):
        try:
            return dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat(), False
        except ValueError:
            return text, False
    if (m := _SERIAL.match(text)) and 0 < int(m[1]) < 2958466:
        day = excel_serial_to_date(int(m[1]), date1904)
        return (day.isoformat(), True) if day else (text, False)
    return text, False


def _restore_zeros(values: pd.Series, width: int) -> tuple[pd.Series, pd.Series]:
    digits = values.str.extract(_NUMBER, expand=False)
    short = digits.notna() & (digits.str.len() < width)
    fixed = values.where(digits.isna(), digits)  # 42.0 -> 42 even when not short
    fixed = fixed.where(~short, digits.str.zfill(width))
    return fixed, short


def take_in(sheet: RawSheet) -> Intake:
    """Map `sheet` onto the template; raise EmptyUpload when there is nothing to take in."""
    cells = sheet.cells
    stripped = cells.apply(lambda col: col.str.strip()) if len(cells.columns) else cells
    filled = (stripped != "").any(axis=1) if len(cells.columns) else pd.Series(False, index=cells.index)
    if not filled.any():
        raise EmptyUpload("FILE_20")
    header_at = int(filled.to_numpy().nonzero()[0][0])
    header_row = sheet.rows[header_at]
    labels = [str(v).strip() for v in cells.iloc[header_at].tolist()]
    found = match_headers(labels)
    issues: list[Issue] = [issue(code, **params) for code, params in sheet.warnings]
    for position, label in found.unknown:
        issues.append(issue("HDR_02", row=header_row, column=label, label=label))
    for position, column in found.repeated:
        issues.append(issue("HDR_03", row=header_row, column=column, label=labels[position]))
    if found.missing:
        issues.append(
            issue(
                "HDR_01",
                row=header_row,
                missing=", ".join(found.missing),
                found=", ".join(l for l in labels if l) or "none",
                expected=", ".join(TEMPLATE_COLUMNS),
            )
        )

    body = filled.copy()
    body.iloc[: header_at + 1] = False
    data_index = body[body].index
    rows = pd.DataFrame({"row": pd.Series([sheet.rows[i] for i in data_index], dtype="int64")})
    for column in TEMPLATE_COLUMNS:
        position = found.columns.get(column)
        values = cells.iloc[data_index, position] if position is not None else pd.Series([""] * len(data_index))
        rows[column] = values.reset_index(drop=True).astype("str")

    if len(rows) and rows.iloc[0, 1:].str.casefold().str.contains(HELP_MARKER, regex=False).any():
        issues.append(issue("HELP_01", row=int(rows.at[0, "row"])))
        rows = rows.iloc[1:].reset_index(drop=True)
    if rows.empty:
        raise EmptyUpload("FILE_19")

    issues += _flag_cells(sheet, rows, found.columns, labels)
    if not found.missing:
        issues += _normalise(rows, sheet.date1904)
    return Intake(
        rows=rows,
        issues=issues,
        header_row=header_row,
        columns_found={c: labels[p] for c, p in found.columns.items()},
        positions=dict(found.columns),
    )


def _flag_cells(sheet: RawSheet, rows: pd.DataFrame, columns: dict[str, int], labels: list[str]) -> list[Issue]:
    by_position = {p: c for c, p in columns.items()}
    row_at = {int(r): i for i, r in enumerate(rows["row"])}
    found = []
    for row, position, code, params in sheet.flags:
        if row not in row_at:
            continue
        column = by_position.get(position) or (labels[position] if position < len(labels) and labels[position] else column_letters(position))
        found.append(issue(code, row=row, column=column, **params))
        if code == "CELL_01" and column in rows.columns:
            # Never let an error cell pass as a blank: keep Excel's error text as its value.
            rows.at[row_at[row], column] = params.get("detail") or "#ERROR"
    return found


def _normalise(rows: pd.DataFrame, date1904: bool) -> list[Issue]:
    found: list[Issue] = []
    for column, width in CODE_WIDTHS.items():
        fixed, short = _restore_zeros(rows[column].str.strip(), width)
        for i in short[short].index:
            found.append(issue("CELL_04", row=int(rows.at[i, "row"]), column=column, detail=f"{rows.at[i, column].strip()} became {fixed[i]}"))
        rows[column] = rows[column].where(fixed == rows[column].str.strip(), fixed)
    entry = rows["Entry Code"].str.strip()
    parts = entry.str.extract(_ENTRY)
    short = parts[0].notna() & (parts[0].str.len() < 5)
    fixed = (parts[0].str.zfill(5) + parts[1].fillna("").str.upper()).where(parts[0].notna(), entry)
    for i in rows.index[(fixed != entry) & parts[0].notna()]:
        if short[i]:
            found.append(issue("CELL_04", row=int(rows.at[i, "row"]), column="Entry Code", detail=f"{entry[i]} became {fixed[i]}"))
    rows["Entry Code"] = rows["Entry Code"].where(parts[0].isna(), fixed)
    for column in UNIT_COLUMNS:
        unit = rows[column].str.strip()
        whole = unit.str.extract(_NUMBER, expand=False)
        rows[column] = rows[column].where(whole.isna(), whole.str.lstrip("0").replace("", "0"))
    dob = rows["Date of Birth"]
    needs = dob.str.strip().ne("") & ~dob.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    for i in rows.index[needs]:
        text, was_serial = normalise_date(dob[i].strip(), date1904)
        rows.at[i, "Date of Birth"] = text
        if was_serial:
            system = "1904" if date1904 else "1900"
            found.append(issue("CELL_05", row=int(rows.at[i, "row"]), column="Date of Birth", detail=f"{system} date system"))
    return found
