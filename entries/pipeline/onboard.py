"""Bulk centre onboarding (`entries onboard PATH`): centres, their suite approvals and their candidates.

An onboarding is either a workbook with the sheets `Centres` (Centre Number, Name, Type),
`Approvals` (Centre Number, Suite, Approved From) and `Candidates` (an MIS export with the entries
template's candidate columns, `Candidate Group` making the groups), or a folder holding one file per
sheet named `centres`, `approvals` and `candidates` (.csv or .xlsx).

All or nothing: every sheet is read and checked first (the Candidates sheet with the same intake and
row rules as an entries upload, less the entry rules); only when no sheet has an error are the
centres, approvals and candidates written, in ONE `database.transaction`. Loading the same onboarding
again changes nothing. A report (xlsx + CSV) under `out_dir/onboarding/` lists what was added or
updated per sheet and every issue; it carries centre and candidate numbers and groups, never names,
dates of birth, UCIs or ULNs. Nothing here logs.

Reading a workbook safely: `entries.reader.read_upload` reads ONE sheet in a limited child process
(`Entries` or the first visible one). Rather than parse the whole workbook in this process, each
wanted sheet gets a copy of the package whose `xl/workbook.xml` lists that sheet alone (the other
sheets' parts and the defined names are left out; the sheet's own XML, styles and shared strings are
copied byte for byte), after `sniff` and `check_container` have passed. Each copy then goes through
`read_upload`, so every sheet is read with the same limits, cell flags (error cells, formulas without
values, merged cells), 1904 dates and refusals as an upload. This process only unzips (with a byte
cap) and rewrites `workbook.xml` as bytes; it never parses a cell.

Onboarded candidates carry `submission_id` 0: an onboarding is an operator's load, not a centre's
upload, so it gets no `submissions` row (no status, no content key, not listed in `entries history`);
0 is never a real submission id (the sequence starts at 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa
from openpyxl import Workbook
from openpyxl.styles import Font

from entries.core import clock
from entries.store import refdata
from entries.store import database
from entries.checks.candidates import SAME_PERSON
from entries.core.errors import EntriesError
from entries.intake.headers import UNIT_COLUMNS, header_key, match_headers
from entries.intake.normalise import EmptyUpload, _restore_zeros, normalise_dates, take_in
from entries.core.limits import ReadLimits
from entries.intake.reader import RawSheet, read_upload
from entries.checks.reference import Reference
from entries.reports.files import put, safe_file_part, write_csv_atomically, write_xlsx_atomically
from entries.core.failures import Failure, rows_for_message, schema_issues
from entries.core.rules import Issue, catalogue, issue
from entries.intake.sniff import Refused, sniff
from entries.checks.validate import Context, validate
from entries.intake.xlsx import _member, _parse, check_container, column_letters, MAIN_NS, PKG_REL_NS, REL_NS
from schemas.onboarding import (APPROVAL_COLUMNS, APPROVAL_ROW, CENTRE_COLUMNS, CENTRE_ROW, CENTRE_TYPES, RAW_APPROVALS,
                                RAW_CENTRES, centre_type_key)
from schemas.upload import tidy_name

SHEETS = ("Centres", "Approvals", "Candidates")
ONBOARDED_SUBMISSION = 0  # candidates.submission_id of an onboarded candidate: no submission row
FOLDER_SUFFIXES = (".xlsx", ".xlsm", ".csv")  # preference order when a folder holds two files for a sheet
# Candidate-row rules that do not apply to an onboarding: there are no entries, and a centre may be
# one this onboarding adds (ONB_09 says which rows name an unknown centre).
NOT_FOR_ONBOARDING = ("ENT_", "UNI_", "CEN_03")
_SHEET_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sheet\s[^>]*?(?:/>|>\s*</(?:[A-Za-z_][\w.\-]*:)?sheet>)", re.S)
_DEFINED_NAMES = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?definedNames\b.*?</(?:[A-Za-z_][\w.\-]*:)?definedNames>|"
                            rb"<(?:[A-Za-z_][\w.\-]*:)?definedNames\s*/>", re.S)
_STATE = re.compile(rb"""\sstate\s*=\s*(?:"[^"]*"|'[^']*')""")
_COPY_BLOCK = 1 << 20




@dataclass
class SheetIssue:
    """An issue and the sheet it is on (the issue's `file` is the file it came from)."""

    sheet: str
    issue: Issue

    def as_json(self) -> dict:
        """Where and which rule; no message text (DESIGN.md §5 keeps summaries non-personal)."""
        i = self.issue
        return {"sheet": self.sheet, "row": i.row, "column": i.column, "code": i.code, "severity": i.severity}


@dataclass
class Change:
    """One row of the report: what happened to one sheet row (no personal data)."""

    sheet: str
    row: int
    action: str  # added | updated | not stored (published)
    centre: str
    candidate: str = ""
    suite: str = ""
    group: str = ""


@dataclass
class OnboardResult:
    """What `onboard` did. Counts are of stored changes: all zero when `has_errors` (nothing stored)."""

    file: str
    sha256: str
    received_on: dt.date
    centres_added: int = 0
    centres_updated: int = 0
    centres_unchanged: int = 0
    approvals_added: int = 0
    approvals_updated: int = 0
    approvals_unchanged: int = 0
    candidates_added: int = 0
    candidates_updated: int = 0
    candidates_unchanged: int = 0
    groups: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # centre -> [(group, candidates)]
    issues: list[SheetIssue] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list, repr=False)
    reports: dict[str, str | None] = field(default_factory=lambda: {"xlsx": None, "csv": None})

    @property
    def has_errors(self) -> bool:
        return any(i.issue.severity == "error" for i in self.issues)

    @property
    def stored(self) -> bool:
        return not self.has_errors

    def as_json(self) -> dict:
        """Counts, groups, issue codes and places, report paths: nothing personal."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "received_on": self.received_on.isoformat(),
            "stored": self.stored,
            "centres": {"added": self.centres_added, "updated": self.centres_updated, "unchanged": self.centres_unchanged},
            "approvals": {"added": self.approvals_added, "updated": self.approvals_updated, "unchanged": self.approvals_unchanged},
            "candidates": {"added": self.candidates_added, "updated": self.candidates_updated,
                           "unchanged": self.candidates_unchanged},
            "groups": {centre: [{"group": g, "candidates": n} for g, n in groups] for centre, groups in self.groups.items()},
            "issues": [i.as_json() for i in self.issues],
            "reports": dict(self.reports),
        }


# ---------------------------------------------------------------------------------------------
# Reading: a workbook split into one-sheet copies, or a folder of one file per sheet.


@dataclass
class _Source:
    sheet: str
    file: str  # the file name issues name
    raw: RawSheet | None = None


def _sha_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.name.encode() + b"\0")
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(_COPY_BLOCK), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _workbook_sheets(zf: zipfile.ZipFile, limits: ReadLimits) -> tuple[bytes, list[tuple[str, str | None]]]:
    """(workbook.xml bytes, [(sheet name, its part or None)] in workbook order)."""
    xml = _member(zf, "xl/workbook.xml", limits)
    workbook = _parse(xml)
    rels = _parse(_member(zf, "xl/_rels/workbook.xml.rels", limits))
    targets = {}
    for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    sheets = [(s.get("name", ""), targets.get(s.get(f"{REL_NS}id"))) for s in workbook.iter(f"{MAIN_NS}sheet")]
    return xml, sheets


def _one_sheet_copy(path: Path, zf: zipfile.ZipFile, xml: bytes, keep: int, drop: set[str], target: Path,
                    limits: ReadLimits) -> None:
    """Write `target`: the package of `path` with only sheet number `keep` listed (and visible)."""
    elements = list(_SHEET_ELEMENT.finditer(xml))
    pieces, last = [], 0
    for n, m in enumerate(elements):
        pieces.append(xml[last:m.start()])
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
            if info.filename == "xl/workbook.xml":
                out.writestr("xl/workbook.xml", new_xml)
                continue
            with zf.open(info) as src, out.open(info.filename, "w", force_zip64=True) as dst:
                for block in iter(lambda: src.read(_COPY_BLOCK), b""):
                    written += len(block)
                    if written > limits.max_inflated_bytes:  # the declared sizes may lie
                        raise Refused("FILE_10", detail=f"more than {limits.max_inflated_bytes} bytes in all")
                    dst.write(block)


def _read_workbook(path: Path, work: Path, limits: ReadLimits) -> tuple[list[_Source], list[SheetIssue]]:
    sources = [_Source(sheet=s, file=path.name) for s in SHEETS]
    try:
        kind = sniff(path, limits).kind
        if kind != "xlsx":
            raise Refused("FILE_08", detail="a CSV file; an onboarding is a workbook or a folder")
        with zipfile.ZipFile(path) as zf:
            check_container(zf, limits)
            xml, sheets = _workbook_sheets(zf, limits)
            if len(_SHEET_ELEMENT.findall(xml)) != len(sheets):
                raise Refused("FILE_02")
            names = [name.strip().casefold() for name, _ in sheets]
            issues: list[SheetIssue] = []
            for source in sources:
                wanted = source.sheet.casefold()
                if wanted not in names or sheets[names.index(wanted)][1] not in zf.namelist():
                    issues.append(SheetIssue(source.sheet, issue("ONB_01", file=path.name, sheet=source.sheet,
                                                                  file_name=source.sheet.lower())))
                    continue
                keep = names.index(wanted)
                drop = {part for n, (_, part) in enumerate(sheets) if n != keep and part}
                copy = work / f"{source.sheet}.xlsx"
                _one_sheet_copy(path, zf, xml, keep, drop, copy, limits)
                try:
                    source.raw = read_upload(copy, limits)
                except Refused as refused:  # this sheet cannot be read; the others are still checked
                    issues.append(SheetIssue(source.sheet, issue(refused.code, file=path.name, **refused.params)))
    except Refused as refused:
        return sources, [SheetIssue("", issue(refused.code, file=path.name, **refused.params))]
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, KeyError):
        return sources, [SheetIssue("", issue("FILE_02", file=path.name))]
    return sources, issues


def _folder_files(path: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for sheet in SHEETS:
        for suffix in FOLDER_SUFFIXES:
            hits = [p for p in sorted(path.iterdir()) if p.is_file() and p.stem.casefold() == sheet.casefold()
                    and p.suffix.casefold() == suffix]
            if hits:
                found[sheet] = hits[0]
                break
    return found


def _read_folder(path: Path, limits: ReadLimits) -> tuple[list[_Source], list[SheetIssue]]:
    files = _folder_files(path)
    sources, issues = [], []
    for sheet in SHEETS:
        file = files.get(sheet)
        source = _Source(sheet=sheet, file=file.name if file else f"{sheet.lower()}.csv")
        sources.append(source)
        if file is None:
            issues.append(SheetIssue(sheet, issue("ONB_01", file=path.name, sheet=sheet, file_name=sheet.lower())))
            continue
        try:
            source.raw = read_upload(file, limits)
        except Refused as refused:
            issues.append(SheetIssue(sheet, issue(refused.code, file=file.name, **refused.params)))
    return sources, issues


# ---------------------------------------------------------------------------------------------
# Checking the Centres and Approvals sheets.


def _take_table(raw: RawSheet, columns: dict[str, tuple[str, ...]], sheet: str, file: str) -> tuple[pd.DataFrame | None, list[Issue]]:
    """Header mapped by `columns`' spellings; (rows as text with `row`, issues). None if unusable.

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
    found: dict[str, int] = {}
    for position, label in enumerate(labels):
        if not label:
            continue
        column = spelling.get(header_key(label))
        if column is None:
            issues.append(issue("HDR_02", file=file, row=header_row, column=label, label=label))
        elif column in found:
            issues.append(issue("HDR_03", file=file, row=header_row, column=column, label=label))
        else:
            found[column] = position
    missing = [c for c in columns if c not in found]
    if missing:
        issues.append(issue("ONB_02", file=file, row=header_row, sheet=sheet, missing=", ".join(missing),
                            found=", ".join(l for l in labels if l) or "none", expected=", ".join(columns)))
        return None, issues
    body = filled.copy()
    body.iloc[: header_at + 1] = False
    index = body[body].index
    rows = pd.DataFrame({"row": pd.Series([raw.rows[i] for i in index], dtype="int64")})
    for column, position in found.items():
        rows[column] = cells.iloc[index, position].reset_index(drop=True).astype("str")
    by_position = {p: c for c, p in found.items()}
    data_rows = set(rows["row"].tolist())
    for row, position, code, params in raw.flags:
        if row in data_rows:
            column = by_position.get(position) or (labels[position] if position < len(labels) and labels[position]
                                                   else column_letters(position))
            issues.append(issue(code, file=file, row=row, column=column, **params))
    return rows, issues


def _schema_issues(schema: pa.DataFrameSchema, frame: pd.DataFrame, file: str) -> list[Issue]:
    """Run a raw sheet schema lazily; one issue per failing rule, row and column."""

    def params(failure: Failure) -> dict:
        if failure.code == "ONB_04":
            return {"value": str(failure.value).strip() or "(blank)", "allowed": ", ".join(CENTRE_TYPES)}
        if failure.code == "CELL_06":
            return {"limit": 32_767}
        return {}

    return schema_issues(schema, frame, file=file, params=params)[1]


def _zeros(rows: pd.DataFrame, file: str) -> list[Issue]:
    """Centre numbers typed as numbers get their leading zeros back (a warning each)."""
    original = rows["Centre Number"].str.strip()
    fixed, restored = _restore_zeros(original, 5)
    rows["Centre Number"] = fixed
    return [issue("CELL_04", file=file, row=int(rows.at[i, "row"]), column="Centre Number", detail=f"{original[i]} became {fixed[i]}")
            for i in restored[restored].index]


def _repeats(rows: pd.DataFrame, keys: list[str], label, sheet: str, file: str, column: str) -> list[Issue]:
    usable = rows.dropna(subset=keys)
    usable = usable[(usable[keys] != "").all(axis=1)]
    dupes = usable[usable.duplicated(keys, keep=False)]
    found = []
    for key, group in dupes.groupby(keys, sort=False):
        listed = rows_for_message(group["row"])
        for row in group["row"]:
            found.append(issue("ONB_05", file=file, row=int(row), column=column, key=label(key), sheet=sheet, rows=listed))
    return found


def check_centres(rows: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Issue]]:
    """The Centres sheet's rows: (normalised centres per CENTRE_ROW, issues)."""
    issues = _zeros(rows, file)
    issues += _schema_issues(RAW_CENTRES, rows, file)
    norm = pd.DataFrame({
        "row": rows["row"].astype("int64"),
        "centre_number": rows["Centre Number"].str.strip(),
        "name": tidy_name(rows["Name"]),
        "centre_type": centre_type_key(rows["Type"]),
    })
    issues += _repeats(norm, ["centre_number"], lambda k: f"Centre {k if isinstance(k, str) else k[0]}", "Centres", file, "Centre Number")
    return norm, issues


def check_approvals(rows: pd.DataFrame, file: str, date1904: bool, suites: set[str]) -> tuple[pd.DataFrame, list[Issue]]:
    """The Approvals sheet's rows: (normalised approvals, issues). Centres are checked by the caller."""
    issues = _zeros(rows, file)
    dates, was_serial = normalise_dates(rows["Approved From"], date1904)
    rows["Approved From"] = dates
    system = "1904" if date1904 else "1900"
    issues += [issue("CELL_05", file=file, row=int(rows.at[i, "row"]), column="Approved From", detail=f"{system} date system")
               for i in rows.index[was_serial]]
    issues += _schema_issues(RAW_APPROVALS, rows, file)
    norm = pd.DataFrame({
        "row": rows["row"].astype("int64"),
        "centre_number": rows["Centre Number"].str.strip(),
        "suite_id": rows["Suite"].str.strip().str.upper(),
        "approved_from": pd.to_datetime(rows["Approved From"].str.strip(), format="%Y-%m-%d", errors="coerce").astype("datetime64[s]"),
    })
    for row, suite in zip(norm["row"], norm["suite_id"]):
        if suite not in suites:
            issues.append(issue("ONB_07", file=file, row=int(row), suite=suite or "(blank)"))
    issues += _repeats(norm, ["centre_number", "suite_id"], lambda k: f"The approval of centre {k[0]} for {k[1]}", "Approvals",
                       file, "Suite")
    return norm, issues


# ---------------------------------------------------------------------------------------------
# Checking the Candidates sheet: an entries upload without entries.


def _with_entry_code_column(raw: RawSheet) -> RawSheet:
    """The sheet with a blank `Entry Code` column added when its header has none (intake requires one)."""
    cells = raw.cells
    if not len(cells.columns):
        return raw
    filled = (cells.apply(lambda col: col.str.strip()) != "").any(axis=1)
    if not filled.any():
        return raw
    header_at = int(filled.to_numpy().nonzero()[0][0])
    labels = [str(v).strip() for v in cells.iloc[header_at].tolist()]
    if "Entry Code" in match_headers(labels).columns:
        return raw
    column = pd.Series([""] * len(cells), index=cells.index, dtype="str")
    column.iloc[header_at] = "Entry Code"
    widened = cells.copy()
    widened[int(max(cells.columns)) + 1] = column
    return RawSheet(cells=widened, rows=raw.rows, file_format=raw.file_format, encoding=raw.encoding, sheet=raw.sheet,
                    date1904=raw.date1904, delimiter=raw.delimiter, flags=raw.flags, warnings=raw.warnings)


def _cross_centre_uci(norm: pd.DataFrame, file: str) -> list[Issue]:
    """One UCI on two centres' rows of this sheet (within a centre, validate's ROW_03 says so)."""
    with_uci = norm[norm["uci"].notna()]
    centres = with_uci.groupby("uci")["centre_number"].transform("nunique")
    clashing = with_uci[centres > 1]
    found = []
    for _, group in clashing.groupby("uci", sort=False):
        listed = rows_for_message(group["row"])
        found += [issue("ROW_03", file=file, row=int(r), rows=listed) for r in group["row"]]
    return found


def check_candidates(raw: RawSheet, file: str, reference: Reference, received_on: dt.date) -> tuple[pd.DataFrame | None, list[Issue], int | None]:
    """(normalised candidate rows, issues, header row). Rows per centre go through `validate` with that
    centre as the uploading one; ages are taken on the first day of the received month."""
    try:
        intake = take_in(_with_entry_code_column(raw))
    except EmptyUpload as empty:
        if empty.code == "FILE_19":  # a header and no candidates: nothing to add, not an error
            return None, [issue(code, file=file, **params) for code, params in raw.warnings], None
        return None, [issue(empty.code, file=file)], None
    issues = list(intake.issues)
    if any(i.code == "HDR_01" for i in issues):
        return None, _filed(issues, file), intake.header_row
    rows = intake.rows
    entry_columns = ["Entry Code", *UNIT_COLUMNS]
    if (rows[entry_columns].apply(lambda c: c.str.strip()) != "").any().any():
        issues.append(issue("ONB_11", row=intake.header_row, column="Entry Code"))
    series = f"{received_on.year:04d}-{received_on.month:02d}"
    parts = []
    for centre, group in rows.groupby(rows["Centre Number"].str.strip(), sort=False):
        checked = validate(group.reset_index(drop=True), Context(centre=str(centre), series=series, received_on=received_on), reference)
        issues += [i for i in checked.issues if not i.code.startswith(NOT_FOR_ONBOARDING)]
        parts.append(checked.rows)
    norm = pd.concat(parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
    issues = _filed(issues, file)
    issues += _cross_centre_uci(norm, file)
    return norm, issues, intake.header_row


def _filed(issues: list[Issue], file: str) -> list[Issue]:
    for i in issues:
        i.file = i.file or file
    return issues


# ---------------------------------------------------------------------------------------------
# Against the store: what is new, what changes, what clashes (read-only).



def _plan_candidates(con: duckdb.DuckDBPyConnection, norm: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Issue]]:
    """One row per candidate with `action` (added/updated/unchanged) and `candidate_id`; ONB_10/ONB_12 issues."""
    usable = norm[norm["centre_number"].str.fullmatch(r"[0-9]{5}") & norm["candidate_number"].str.fullmatch(r"[0-9]{4}")
                  & norm["date_of_birth"].notna() & (norm["surname"] != "")]
    people = usable.drop_duplicates(["centre_number", "candidate_number"]).reset_index(drop=True)
    name = "lower({0}.surname || ' ' || {0}.forenames)"
    con.register("onboard_people", people)
    try:
        on_record = con.execute(
            f"""SELECT f.centre_number, f.candidate_number, c.candidate_id, c.uci, c.uln, c.candidate_group,
                       (c.date_of_birth = CAST(f.date_of_birth AS DATE)
                        AND jaro_winkler_similarity({name.format('c')}, {name.format('f')}) >= {SAME_PERSON}
                        AND (c.uci IS NULL OR f.uci IS NULL OR c.uci = f.uci)) AS same_person
                FROM onboard_people f JOIN candidates c
                  ON c.centre_number = f.centre_number AND c.candidate_number = f.candidate_number"""
        ).fetchall()
        uci_elsewhere = con.execute(
            """SELECT f.centre_number, f.candidate_number, c.centre_number, c.candidate_number
               FROM onboard_people f JOIN candidates c ON c.uci = f.uci
               WHERE NOT (c.centre_number = f.centre_number AND c.candidate_number = f.candidate_number)
               QUALIFY row_number() OVER (PARTITION BY f.centre_number, f.candidate_number ORDER BY c.candidate_id) = 1"""
        ).fetchall()
    finally:
        con.unregister("onboard_people")
    stored = {(c, n): (cid, uci, uln, group, same) for c, n, cid, uci, uln, group, same in on_record}
    elsewhere = {(c, n): (their_c, their_n) for c, n, their_c, their_n in uci_elsewhere}
    issues: list[Issue] = []
    actions, ids = [], []
    for rec in people.itertuples(index=False):
        key = (rec.centre_number, rec.candidate_number)
        rows = norm.loc[(norm["centre_number"] == key[0]) & (norm["candidate_number"] == key[1]), "row"]
        action, cid = "added", None
        if key in stored:
            cid, uci, uln, group, same = stored[key]
            if not same:
                issues += [issue("ONB_10", file=file, row=int(r), candidate=key[1], centre=key[0]) for r in rows]
                action = "clash"
            else:
                changes = ((uci is None and not pd.isna(rec.uci)) or (uln is None and not pd.isna(rec.uln))
                           or (rec.candidate_group != "" and rec.candidate_group != group))
                action = "updated" if changes else "unchanged"
        if key in elsewhere and action != "clash":
            their_centre, their_number = elsewhere[key]
            issues += [issue("ONB_12", file=file, row=int(r), candidate=their_number, centre=their_centre) for r in rows]
            action = "clash"
        actions.append(action)
        ids.append(cid)
    return people.assign(action=actions, candidate_id=pd.Series(ids, dtype="Int64")), issues


def _plan_rows(con: duckdb.DuckDBPyConnection, sql_onboarded: str, sql_published: str, frame: pd.DataFrame,
               keys: list[str], values: list[str]) -> list[str]:
    """Per row of `frame`: published | added | updated | unchanged, against the store."""
    onboarded = {tuple(r[: len(keys)]): tuple(r[len(keys):]) for r in con.execute(sql_onboarded).fetchall()}
    published = {tuple(r) for r in con.execute(sql_published).fetchall()}
    out = []
    for rec in frame[keys + values].itertuples(index=False):
        key, value = tuple(rec[: len(keys)]), tuple(rec[len(keys):])
        if key in published:
            out.append("published")
        elif key not in onboarded:
            out.append("added")
        else:
            out.append("unchanged" if onboarded[key] == value else "updated")
    return out


# ---------------------------------------------------------------------------------------------
# The one entry point.


def onboard(con: duckdb.DuckDBPyConnection, path: Path, out_dir: Path, received_on: dt.date,
            limits: ReadLimits | None = None) -> OnboardResult:
    """Check the onboarding at `path` (workbook or folder) and, when it has no error, store it in one
    transaction; always write the report. Returns what was done."""
    path = Path(path)
    limits = limits or ReadLimits.from_env()
    if not path.exists():
        raise EntriesError(f"no such file or folder: {path}")
    reference = refdata.snapshot(con)
    with tempfile.TemporaryDirectory(prefix="entries-onboard-") as work:
        if path.is_dir():
            sources, read_issues = _read_folder(path, limits)
            sha = _sha_of([path / s.file for s in sources if (path / s.file).is_file()])
        else:
            sources, read_issues = _read_workbook(path, Path(work), limits)
            sha = _sha_of([path])
    result = OnboardResult(file=path.name, sha256=sha, received_on=received_on, issues=list(read_issues))
    by_sheet = {s.sheet: s for s in sources}

    def add(sheet: str, found: list[Issue]) -> None:
        result.issues.extend(SheetIssue(sheet, i) for i in found)

    known_centres = set(reference.tables["centres"]["centre_number"].astype(str))
    suites = set(reference.tables["suites"]["suite_id"].astype(str))
    centres = approvals = candidates = None
    workbook_centres: set[str] = set()

    src = by_sheet["Centres"]
    if src.raw is not None:
        rows, found = _take_table(src.raw, CENTRE_COLUMNS, "Centres", src.file)
        add("Centres", found)
        if rows is not None:
            centres, found = check_centres(rows, src.file)
            add("Centres", found)
            workbook_centres = set(centres["centre_number"])
    allowed = known_centres | {c for c in workbook_centres if re.fullmatch(r"[0-9]{5}", c)}

    src = by_sheet["Approvals"]
    if src.raw is not None:
        rows, found = _take_table(src.raw, APPROVAL_COLUMNS, "Approvals", src.file)
        add("Approvals", found)
        if rows is not None:
            approvals, found = check_approvals(rows, src.file, src.raw.date1904, suites)
            add("Approvals", found)
            add("Approvals", _unknown_centres(approvals, allowed, src.file))

    src = by_sheet["Candidates"]
    if src.raw is not None:
        candidates, found, _ = check_candidates(src.raw, src.file, reference, received_on)
        add("Candidates", found)
        if candidates is not None:
            add("Candidates", _unknown_centres(candidates, allowed, src.file))

    plan = None
    if candidates is not None:
        # Rows already in error are not compared with the store: their problem is reported already.
        bad_rows = {i.issue.row for i in result.issues if i.sheet == "Candidates" and i.issue.severity == "error"}
        plan, found = _plan_candidates(con, candidates[~candidates["row"].isin(bad_rows)], by_sheet["Candidates"].file)
        add("Candidates", found)

    if not result.has_errors:
        _store(con, result, centres, approvals, plan)
    order = {s: n for n, s in enumerate(("", *SHEETS))}
    result.issues.sort(key=lambda i: (order.get(i.sheet, 9), i.issue.row if i.issue.row is not None else -1,
                                      i.issue.column or "", i.issue.code))
    result.reports = write_report(result, Path(out_dir))
    return result


def _unknown_centres(frame: pd.DataFrame, allowed: set[str], file: str) -> list[Issue]:
    shaped = frame["centre_number"].str.fullmatch(r"[0-9]{5}")
    unknown = frame[shaped & ~frame["centre_number"].isin(allowed)]
    return [issue("ONB_09", file=file, row=int(r), centre=c) for r, c in zip(unknown["row"], unknown["centre_number"])]


def _store(con: duckdb.DuckDBPyConnection, result: OnboardResult, centres: pd.DataFrame | None,
           approvals: pd.DataFrame | None, plan: pd.DataFrame | None) -> None:
    """Work out every change against the store, then write them all in ONE transaction."""
    if centres is not None:
        CENTRE_ROW.validate(centres)
        centres = centres.assign(action=_plan_rows(
            con, "SELECT centre_number, name, centre_type FROM onboarded_centres", "SELECT centre_number FROM ref_centres",
            centres, ["centre_number"], ["name", "centre_type"]))
    if approvals is not None:
        APPROVAL_ROW.validate(approvals)
        approvals = approvals.assign(day=approvals["approved_from"].dt.date)
        approvals = approvals.assign(action=_plan_rows(
            con, "SELECT centre_number, suite_id, approved_from FROM onboarded_approvals",
            "SELECT centre_number, suite_id FROM ref_centre_approvals", approvals, ["centre_number", "suite_id"], ["day"]))
    now = clock.now()
    with database.transaction(con):
        if centres is not None:
            for rec in centres.itertuples(index=False):
                if rec.action == "added":
                    con.execute("INSERT INTO onboarded_centres VALUES (?, ?, ?, ?)", [rec.centre_number, rec.name, rec.centre_type, now])
                elif rec.action == "updated":
                    con.execute("UPDATE onboarded_centres SET name = ?, centre_type = ?, onboarded_at = ? WHERE centre_number = ?",
                                [rec.name, rec.centre_type, now, rec.centre_number])
        if approvals is not None:
            for rec in approvals.itertuples(index=False):
                if rec.action == "added":
                    con.execute("INSERT INTO onboarded_approvals VALUES (?, ?, ?, ?)", [rec.centre_number, rec.suite_id, rec.day, now])
                elif rec.action == "updated":
                    con.execute("UPDATE onboarded_approvals SET approved_from = ?, onboarded_at = ? WHERE centre_number = ? AND suite_id = ?",
                                [rec.day, now, rec.centre_number, rec.suite_id])
        if plan is not None:
            _store_candidates(con, plan)
    for sheet, frame, prefix in (("Centres", centres, "centres"), ("Approvals", approvals, "approvals")):
        if frame is None:
            continue
        counts = frame["action"].value_counts()
        for action in ("added", "updated", "unchanged"):
            setattr(result, f"{prefix}_{action}", int(counts.get(action, 0)))
        for rec in frame.itertuples(index=False):
            if rec.action == "published":
                key = f"Centre {rec.centre_number}" if sheet == "Centres" else f"The approval of centre {rec.centre_number} for {rec.suite_id}"
                result.issues.append(SheetIssue(sheet, issue("ONB_06", file=None, row=int(rec.row), column="Centre Number", key=key)))
            if rec.action in ("added", "updated", "unchanged", "published"):
                result.changes.append(Change(sheet, int(rec.row), "not stored (published)" if rec.action == "published" else rec.action,
                                             rec.centre_number, suite=getattr(rec, "suite_id", "")))
    if plan is not None:
        counts = plan["action"].value_counts()
        result.candidates_added, result.candidates_updated, result.candidates_unchanged = (
            int(counts.get(a, 0)) for a in ("added", "updated", "unchanged"))
        for rec in plan.itertuples(index=False):
            if rec.action in ("added", "updated", "unchanged"):
                result.changes.append(Change("Candidates", int(rec.row), rec.action, rec.centre_number, candidate=rec.candidate_number,
                                             group=rec.candidate_group))
        grouped = plan[plan["candidate_group"] != ""].groupby(["centre_number", "candidate_group"]).size()
        groups: dict[str, list[tuple[str, int]]] = {}
        for (centre, group), n in sorted(grouped.items()):
            groups.setdefault(centre, []).append((group, int(n)))
        result.groups = groups


def _store_candidates(con: duckdb.DuckDBPyConnection, plan: pd.DataFrame) -> None:
    """Insert new candidates, complete and regroup matched ones. Call inside the transaction."""
    new = plan[plan["action"] == "added"]
    if len(new):
        ids = [r[0] for r in con.execute("SELECT nextval('candidate_ids') FROM range(?)", [len(new)]).fetchall()]
        table = new.assign(candidate_id=ids, submission_id=ONBOARDED_SUBMISSION,
                           date_of_birth=new["date_of_birth"].dt.date)[
            ["candidate_id", "centre_number", "candidate_number", "uci", "uln", "surname", "forenames", "sex", "date_of_birth",
             "candidate_group", "submission_id"]]
        con.register("onboard_new", table)
        try:
            con.execute(
                """INSERT INTO candidates (candidate_id, centre_number, candidate_number, uci, uln, surname, forenames, sex,
                                           date_of_birth, candidate_group, submission_id)
                   SELECT candidate_id, centre_number, candidate_number, uci, uln, surname, forenames, sex,
                          CAST(date_of_birth AS DATE), candidate_group, submission_id FROM onboard_new"""
            )
        finally:
            con.unregister("onboard_new")
    changed = plan[plan["action"] == "updated"][["candidate_id", "uci", "uln", "candidate_group"]]
    if len(changed):
        con.register("onboard_changed", changed.assign(candidate_id=changed["candidate_id"].astype("int64")))
        try:
            # As an upload does: fill a missing UCI or ULN, take a new (non-blank) group.
            con.execute(
                """UPDATE candidates SET uci = coalesce(candidates.uci, u.uci), uln = coalesce(candidates.uln, u.uln),
                          candidate_group = CASE WHEN u.candidate_group <> '' THEN u.candidate_group ELSE candidates.candidate_group END
                   FROM onboard_changed u WHERE candidates.candidate_id = u.candidate_id"""
            )
        finally:
            con.unregister("onboard_changed")


# ---------------------------------------------------------------------------------------------
# The report: what was added or updated per sheet, and every issue. No names, dates of birth, UCIs.

REPORT_COLUMNS = ("Record", "Sheet", "Row", "Column", "Centre Number", "Candidate Number", "Suite", "Candidate Group",
                  "Action", "Code", "Severity", "Message", "Fix")
CHANGE_COLUMNS = ("Sheet", "Row", "Centre Number", "Candidate Number", "Suite", "Candidate Group", "Action")
ISSUE_COLUMNS = ("File", "Sheet", "Row", "Column", "Code", "Severity", "Message", "Fix")


def report_stem(result: OnboardResult) -> str:
    """`<received_on>_<file stem>_<sha8>`: the same onboarding gives the same name."""
    stem = Path(result.file).stem if Path(result.file).suffix else result.file
    return f"{result.received_on.isoformat()}_{safe_file_part(stem)}_{result.sha256[:8]}"


def _report_rows(result: OnboardResult) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in result.changes:
        rows.append(["change", c.sheet, c.row, None, c.centre, c.candidate, c.suite, c.group, c.action, None, None, None, None])
    for s in result.issues:
        i = s.issue
        rows.append(["issue", s.sheet or None, i.row, i.column, None, None, None, None, None, i.code, i.severity, i.message, i.fix])
    return rows


def write_report(result: OnboardResult, out_dir: Path) -> dict[str, str | None]:
    """Write `out_dir/onboarding/<stem>.xlsx` and `.csv` atomically (text cells are never formulas)."""
    folder = out_dir / "onboarding"
    stem = report_stem(result)
    rows = _report_rows(result)
    csv_path = write_csv_atomically(rows, REPORT_COLUMNS, folder / f"{stem}.csv")
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    lines: list[tuple[object, ...]] = [
        ("Onboarding", result.file),
        ("Received on", result.received_on.isoformat()),
        ("SHA-256", result.sha256),
        ("Stored", "Yes" if result.stored else "No: errors found, nothing was stored"),
        ("", ""),
        ("Sheet", "Added", "Updated", "Unchanged"),
        ("Centres", result.centres_added, result.centres_updated, result.centres_unchanged),
        ("Approvals", result.approvals_added, result.approvals_updated, result.approvals_unchanged),
        ("Candidates", result.candidates_added, result.candidates_updated, result.candidates_unchanged),
        ("", ""),
        ("Errors", sum(1 for i in result.issues if i.issue.severity == "error")),
        ("Warnings", sum(1 for i in result.issues if i.issue.severity == "warning")),
        ("", ""),
        ("Centre Number", "Candidate Group", "Candidates"),
    ]
    lines += [(centre, group, n) for centre, groups in result.groups.items() for group, n in groups]
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            put(summary, r, c, value)
    for r in (6, 14):
        for cell in summary[r]:
            cell.font = Font(bold=True)
    changes = [[c.sheet, c.row, c.centre, c.candidate, c.suite, c.group, c.action] for c in result.changes]
    issues = [[s.issue.file, s.sheet, s.issue.row, s.issue.column, s.issue.code, s.issue.severity, s.issue.message, s.issue.fix]
              for s in result.issues]
    for title, header, records in (("Changes", CHANGE_COLUMNS, changes), ("Issues", ISSUE_COLUMNS, issues)):
        ws = wb.create_sheet(title)
        for c, label in enumerate(header, start=1):
            put(ws, 1, c, label).font = Font(bold=True)
        for r, record in enumerate(records, start=2):
            for c, value in enumerate(record, start=1):
                if value is not None and value != "":
                    put(ws, r, c, value)
        ws.freeze_panes = "A2"
    xlsx_path = write_xlsx_atomically(wb, folder / f"{stem}.xlsx")
    return {"xlsx": str(xlsx_path), "csv": str(csv_path)}


def onboard_file(db_path: Path, path: Path, out_dir: Path, received_on: dt.date) -> OnboardResult:
    """Open the store at `db_path`, onboard `path`, close the store (the flow's one step)."""
    con = database.connect(Path(db_path))  # raises StoreBusy when another process holds the file
    try:
        return onboard(con, Path(path), Path(out_dir), received_on)
    finally:
        con.close()
