"""Checks of an onboarding's sheets: centres, approvals, and candidates (an upload without entries).

Pure: these read no store. What the checks found, and later what was stored, is an `OnboardResult`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from entries.checks.reference import Reference
from entries.checks.validate import Context, validate
from entries.core.failures import Failure, rows_for_message, schema_issues
from entries.core.rules import Issue, issue
from entries.intake.headers import UNIT_COLUMNS, match_headers
from entries.intake.normalise import EmptyUpload, _restore_zeros, normalise_dates, take_in
from entries.intake.reader import RawSheet
from schemas.onboarding import ADDRESS_FIELDS, CENTRE_TYPES, RAW_APPROVALS, RAW_CENTRES, centre_type_key
from schemas.upload import tidy_name

# Candidate-row rules that do not apply to an onboarding: there are no entries, and a centre may be
# one this onboarding adds (ONB_09 says which rows name an unknown centre).
NOT_FOR_ONBOARDING = ("ENT_", "UNI_", "CEN_03", "SER_")  # entries and their series are not onboarded


@dataclass
class SheetIssue:
    """An issue and the sheet it is on (the issue's `file` is the file it came from)."""

    sheet: str
    issue: Issue

    def as_json(self) -> dict:
        """Where and which rule; no message text (docs/architecture.md §5 keeps summaries non-personal)."""
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
            "centres": {
                "added": self.centres_added,
                "updated": self.centres_updated,
                "unchanged": self.centres_unchanged,
            },
            "approvals": {
                "added": self.approvals_added,
                "updated": self.approvals_updated,
                "unchanged": self.approvals_unchanged,
            },
            "candidates": {
                "added": self.candidates_added,
                "updated": self.candidates_updated,
                "unchanged": self.candidates_unchanged,
            },
            "groups": {
                centre: [{"group": g, "candidates": n} for g, n in groups] for centre, groups in self.groups.items()
            },
            "issues": [i.as_json() for i in self.issues],
            "reports": dict(self.reports),
        }


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
    return [
        issue(
            "CELL_04",
            file=file,
            row=int(rows.at[i, "row"]),
            column="Centre Number",
            detail=f"{original[i]} became {fixed[i]}",
        )
        for i in restored[restored].index
    ]


def _repeats(rows: pd.DataFrame, keys: list[str], label, sheet: str, file: str, column: str) -> list[Issue]:
    usable = rows.dropna(subset=keys)
    usable = usable[(usable[keys] != "").all(axis=1)]
    dupes = usable[usable.duplicated(keys, keep=False)]
    found = []
    for key, group in dupes.groupby(keys, sort=False):
        listed = rows_for_message(group["row"])
        for row in group["row"]:
            found.append(
                issue("ONB_05", file=file, row=int(row), column=column, key=label(key), sheet=sheet, rows=listed)
            )
    return found


_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}", re.IGNORECASE)


def split_address(text: str) -> tuple[str, str, str, str]:
    """(line 1, line 2, town, postcode) from one address cell whose lines are separated by commas
    or line breaks: the last line is the postcode when it looks like one, the line before it the
    town, the first line line 1 and any others line 2 (joined with commas)."""
    parts = [p.strip() for p in re.split(r"[,\n\r]+", text) if p.strip()]
    postcode = parts.pop().upper() if parts and _POSTCODE.fullmatch(parts[-1]) else ""
    town = parts.pop() if len(parts) >= 2 else ""
    first = parts.pop(0) if parts else ""
    return first, ", ".join(parts), town, postcode


def address_fields(rows: pd.DataFrame) -> dict[str, pd.Series]:
    """The four address fields of each Centres row: its own columns where any is filled, else its
    one Address cell split by `split_address`."""
    parts = {c: rows[c].str.strip() for c in ("Address Line 1", "Address Line 2", "Town", "Postcode")}
    by_parts = pd.concat(parts.values(), axis=1).ne("").any(axis=1)
    split = (
        pd.DataFrame(
            [split_address(text) for text in rows["Address"].tolist()],
            columns=list(ADDRESS_FIELDS),
            index=rows.index,
        )
        if len(rows)
        else pd.DataFrame({f: pd.Series([], dtype="str") for f in ADDRESS_FIELDS})
    )
    own = [parts["Address Line 1"], parts["Address Line 2"], parts["Town"], parts["Postcode"].str.upper()]
    return {
        field: mine.where(by_parts, split[field]).astype("str") for field, mine in zip(ADDRESS_FIELDS, own, strict=True)
    }


def check_centres(rows: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Issue]]:
    """The Centres sheet's rows: (normalised centres per CENTRE_ROW, issues)."""
    issues = _zeros(rows, file)
    issues += _schema_issues(RAW_CENTRES, rows, file)
    norm = pd.DataFrame(
        {
            "row": rows["row"].astype("int64"),
            "centre_number": rows["Centre Number"].str.strip(),
            "name": tidy_name(rows["Name"]),
            "centre_type": centre_type_key(rows["Type"]),
            **address_fields(rows),
        }
    )
    issues += _repeats(
        norm,
        ["centre_number"],
        lambda k: f"Centre {k if isinstance(k, str) else k[0]}",
        "Centres",
        file,
        "Centre Number",
    )
    return norm, issues


def check_approvals(
    rows: pd.DataFrame, file: str, date1904: bool, suites: set[str]
) -> tuple[pd.DataFrame, list[Issue]]:
    """The Approvals sheet's rows: (normalised approvals, issues). Centres are checked by the caller."""
    issues = _zeros(rows, file)
    dates, was_serial = normalise_dates(rows["Approved From"], date1904)
    rows["Approved From"] = dates
    system = "1904" if date1904 else "1900"
    issues += [
        issue("CELL_05", file=file, row=int(rows.at[i, "row"]), column="Approved From", detail=f"{system} date system")
        for i in rows.index[was_serial]
    ]
    issues += _schema_issues(RAW_APPROVALS, rows, file)
    norm = pd.DataFrame(
        {
            "row": rows["row"].astype("int64"),
            "centre_number": rows["Centre Number"].str.strip(),
            "suite_id": rows["Suite"].str.strip().str.upper(),
            "approved_from": pd.to_datetime(
                rows["Approved From"].str.strip(), format="%Y-%m-%d", errors="coerce"
            ).astype("datetime64[s]"),
        }
    )
    for row, suite in zip(norm["row"], norm["suite_id"], strict=False):
        if suite not in suites:
            issues.append(issue("ONB_07", file=file, row=int(row), suite=suite or "(blank)"))
    issues += _repeats(
        norm,
        ["centre_number", "suite_id"],
        lambda k: f"The approval of centre {k[0]} for {k[1]}",
        "Approvals",
        file,
        "Suite",
    )
    return norm, issues


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
    return RawSheet(
        cells=widened,
        rows=raw.rows,
        file_format=raw.file_format,
        encoding=raw.encoding,
        sheet=raw.sheet,
        date1904=raw.date1904,
        delimiter=raw.delimiter,
        flags=raw.flags,
        warnings=raw.warnings,
    )


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


def check_candidates(
    raw: RawSheet, file: str, reference: Reference, received_on: dt.date
) -> tuple[pd.DataFrame | None, list[Issue], int | None]:
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
        checked = validate(
            group.reset_index(drop=True), Context(centre=str(centre), series=series, received_on=received_on), reference
        )
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


def unknown_centres(frame: pd.DataFrame, allowed: set[str], file: str) -> list[Issue]:
    """ONB_09 for each row naming a well-formed centre that is neither known nor on the Centres sheet."""
    shaped = frame["centre_number"].str.fullmatch(r"[0-9]{5}")
    unknown = frame[shaped & ~frame["centre_number"].isin(allowed)]
    return [
        issue("ONB_09", file=file, row=int(r), centre=c)
        for r, c in zip(unknown["row"], unknown["centre_number"], strict=False)
    ]
