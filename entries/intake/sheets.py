"""Named sheets of an operator's workbook, or one file per sheet in a folder, read as uploads are.

`read_sheets` reads each wanted sheet (`Centres`, `Approvals`, ...) with the same limits, cell flags
and refusals as an upload. Rather than parse the whole workbook in this process, each wanted sheet
gets a copy of the package whose workbook part lists that sheet alone (the other sheets' parts
and the defined names are left out; the sheet's own XML, styles and shared strings are copied byte
for byte), after `sniff` and `check_container` have passed. Each copy then goes through
`read_upload` in its limited child process; this process only unzips (with a byte cap) and rewrites
`workbook.xml` as bytes, never parsing a cell. `take_table` maps a sheet's header row onto a table's
columns through `match_headers`.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from entries.core.limits import ReadLimits
from entries.core.rules import Issue, issue
from entries.intake.column_letters import column_letters
from entries.intake.headers import header_key, match_headers
from entries.intake.reader import RawSheet, read_upload
from entries.intake.sniff import Refused, sniff
from entries.intake.xlsx_package import Package, check_container, read_workbook

FOLDER_SUFFIXES = (".xlsx", ".xlsm", ".csv")  # preference order when a folder holds two files for a sheet
_SHEET_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sheet\s[^>]*?(?:/>|>\s*</(?:[A-Za-z_][\w.\-]*:)?sheet>)", re.S)
_DEFINED_NAMES = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?definedNames\b.*?</(?:[A-Za-z_][\w.\-]*:)?definedNames>|"
    rb"<(?:[A-Za-z_][\w.\-]*:)?definedNames\s*/>",
    re.S,
)
_STATE = re.compile(rb"""\sstate\s*=\s*(?:"[^"]*"|'[^']*')""")
_COPY_BLOCK = 1 << 20

# (sheet, issue): a problem found while reading, and the sheet it is on ("" for the whole file).
SheetProblem = tuple[str, Issue]


@dataclass
class SheetSource:
    """One wanted sheet: the file issues name, and its cells when they could be read."""

    sheet: str
    file: str
    raw: RawSheet | None = None


def sha_of(paths: list[Path]) -> str:
    """SHA-256 over the names and bytes of `paths`, in order (an onboarding's content key)."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.name.encode() + b"\0")
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(_COPY_BLOCK), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _workbook_sheets(zf: zipfile.ZipFile, limits: ReadLimits) -> tuple[str, bytes, list[tuple[str, str | None]]]:
    """(the workbook part's zip name, its bytes, [(sheet name, its zip name or None)] in workbook
    order), the package resolved as the reader resolves it (Strict, a root workbook, `\\`, `..`)."""
    package = Package(zf, limits)
    workbook = read_workbook(package)
    sheets = [(s.name, package.names[s.part.casefold()] if s.part else None) for s in workbook.sheets]
    return package.names[workbook.part.casefold()], package.read(workbook.part), sheets


def _one_sheet_copy(
    zf: zipfile.ZipFile, workbook_name: str, xml: bytes, keep: int, drop: set[str], target: Path, limits: ReadLimits
) -> None:
    """Write `target`: the package of `path` with only sheet number `keep` listed (and visible)."""
    elements = list(_SHEET_ELEMENT.finditer(xml))
    pieces, last = [], 0
    for n, m in enumerate(elements):
        pieces.append(xml[last : m.start()])
        if n == keep:
            pieces.append(_STATE.sub(b"", m.group(0)))
        last = m.end()
    pieces.append(xml[last:])
    new_xml = _DEFINED_NAMES.sub(b"", b"".join(pieces))
    written = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out:
        for info in zf.infolist():
            if info.filename in drop or info.is_dir():
                continue
            if info.filename == workbook_name:
                out.writestr(workbook_name, new_xml)
                continue
            with zf.open(info) as src, out.open(info.filename, "w", force_zip64=True) as dst:
                for block in iter(lambda: src.read(_COPY_BLOCK), b""):
                    written += len(block)
                    if written > limits.max_inflated_bytes:  # the declared sizes may lie
                        raise Refused("FILE_10", detail=f"more than {limits.max_inflated_bytes} bytes in all")
                    dst.write(block)


def read_workbook_sheets(
    path: Path, wanted: tuple[str, ...], work: Path, limits: ReadLimits
) -> tuple[list[SheetSource], list[SheetProblem]]:
    """Each of the `wanted` sheets of the workbook at `path`, read through a one-sheet copy in `work`."""
    sources = [SheetSource(sheet=s, file=path.name) for s in wanted]
    try:
        kind = sniff(path, limits).kind
        if kind == "csv":
            raise Refused("FILE_08", detail="a CSV file; an onboarding is a workbook or a folder")
        if kind != "xlsx":  # its sheets are read through one-sheet .xlsx copies: save it as .xlsx
            named = {"ole2": "an Excel 97-2003 (.xls) workbook", "ods": "an OpenDocument (.ods) workbook"}
            said = named.get(kind, f"an .{kind} workbook")
            raise Refused("FILE_08", detail=f"{said}; an onboarding is read from an .xlsx workbook or a folder")
        with zipfile.ZipFile(path) as zf:
            check_container(zf, limits)
            workbook_name, xml, sheets = _workbook_sheets(zf, limits)
            if len(_SHEET_ELEMENT.findall(xml)) != len(sheets):
                raise Refused("FILE_02")
            names = [name.strip().casefold() for name, _ in sheets]
            issues: list[SheetProblem] = []
            for source in sources:
                key = source.sheet.casefold()
                if key not in names or sheets[names.index(key)][1] not in zf.namelist():
                    issues.append(
                        (
                            source.sheet,
                            issue("ONB_01", file=path.name, sheet=source.sheet, file_name=source.sheet.lower()),
                        )
                    )
                    continue
                keep = names.index(key)
                drop = {part for n, (_, part) in enumerate(sheets) if n != keep and part}
                copy = work / f"{source.sheet}.xlsx"
                _one_sheet_copy(zf, workbook_name, xml, keep, drop, copy, limits)
                try:
                    source.raw = read_upload(copy, limits)
                except Refused as refused:  # this sheet cannot be read; the others are still checked
                    issues.append((source.sheet, issue(refused.code, file=path.name, **refused.params)))
    except Refused as refused:
        return sources, [("", issue(refused.code, file=path.name, **refused.params))]
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, KeyError):
        return sources, [("", issue("FILE_02", file=path.name))]
    return sources, issues


def _folder_files(path: Path, wanted: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for sheet in wanted:
        for suffix in FOLDER_SUFFIXES:
            hits = [
                p
                for p in sorted(path.iterdir())
                if p.is_file() and p.stem.casefold() == sheet.casefold() and p.suffix.casefold() == suffix
            ]
            if hits:
                found[sheet] = hits[0]
                break
    return found


def read_folder_sheets(
    path: Path, wanted: tuple[str, ...], limits: ReadLimits
) -> tuple[list[SheetSource], list[SheetProblem]]:
    """Each of the `wanted` sheets as a file `<sheet>.xlsx|.xlsm|.csv` in the folder at `path`."""
    files = _folder_files(path, wanted)
    sources, issues = [], []
    for sheet in wanted:
        file = files.get(sheet)
        source = SheetSource(sheet=sheet, file=file.name if file else f"{sheet.lower()}.csv")
        sources.append(source)
        if file is None:
            issues.append((sheet, issue("ONB_01", file=path.name, sheet=sheet, file_name=sheet.lower())))
            continue
        try:
            source.raw = read_upload(file, limits)
        except Refused as refused:
            issues.append((sheet, issue(refused.code, file=file.name, **refused.params)))
    return sources, issues


def take_table(
    raw: RawSheet, columns: dict[str, tuple[str, ...]], sheet: str, file: str, optional: tuple[str, ...] = ()
) -> tuple[pd.DataFrame | None, list[Issue]]:
    """Header mapped by `columns`' spellings; (rows as text with `row`, issues). None if unusable.
    Columns named in `optional` may be absent: they are then blank text.

    A sheet with a header row and no data rows is an empty table, not an error: an onboarding may add
    candidates or approvals for centres already known.
    """
    issues = [issue(code, file=file, **params) for code, params in raw.warnings]
    cells = raw.cells
    if not len(cells.columns):
        return None, [*issues, issue("FILE_20", file=file)]
    filled = (cells.apply(lambda col: col.str.strip()) != "").any(axis=1)
    if not filled.any():
        return None, [*issues, issue("FILE_20", file=file)]
    header_at = int(filled.to_numpy().nonzero()[0][0])
    header_row = raw.rows[header_at]
    labels = [str(v).strip() for v in cells.iloc[header_at].tolist()]
    spelling = {header_key(alias): column for column, aliases in columns.items() for alias in aliases}
    found = match_headers(labels, spelling, required=tuple(c for c in columns if c not in optional))
    # Headings named by their column letters, never their text (a data cell's, maybe).
    issues += [
        issue("HDR_02", file=file, row=header_row, column=column_letters(position), letter=column_letters(position))
        for position, _label in found.unknown
    ]
    issues += [
        issue("HDR_03", file=file, row=header_row, column=column, letter=column_letters(position))
        for position, column in found.repeated
    ]
    if found.missing:
        issues.append(
            issue(
                "ONB_02",
                file=file,
                row=header_row,
                sheet=sheet,
                missing=", ".join(found.missing),
                found=", ".join(c for c in columns if c in found.columns) or "none",
                expected=", ".join(c for c in columns if c not in optional),
            )
        )
        return None, issues
    body = filled.copy()
    body.iloc[: header_at + 1] = False
    index = body[body].index
    rows = pd.DataFrame({"row": pd.Series([raw.rows[i] for i in index], dtype="int64")})
    for column, position in found.columns.items():
        rows[column] = cells.iloc[index, position].reset_index(drop=True).astype("str")
    for column in optional:
        if column not in rows.columns:
            rows[column] = pd.Series([""] * len(rows), dtype="str")
    by_position = {p: c for c, p in found.columns.items()}
    data_rows = set(rows["row"].tolist())
    for row, position, code, params in raw.flags:
        if row in data_rows:
            column = by_position.get(position) or column_letters(position)  # never the heading's text
            issues.append(issue(code, file=file, row=row, column=column, **params))
    return rows, issues
