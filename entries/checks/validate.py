"""Row validation: every rule of the catalogue applied to an upload's rows, lazily, as an issues list.

Three layers, all pure (no store writes):
- shape rules on the raw text: the pandera schema `schemas.upload.raw_upload_schema`, each check
  named by its rule code; its failure cases become issues with the spreadsheet's row numbers;
- reference rules: DuckDB anti-joins of the normalised rows against the reference tables;
- within-file rules: repeated rows, a candidate number on two people, a UCI on two numbers.
`validate` returns the issues and the normalised rows (schemas.upload.NORMALISED_ROW).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from entries.checks.reference import Reference
from entries.core.failures import Failure, rows_for_message, schema_issues
from entries.core.rules import Issue, issue
from entries.core.series import parse_series_cells
from entries.intake.headers import TEMPLATE_COLUMNS, UNIT_COLUMNS
from entries.intake.uci import check_letter
from schemas.upload import MAX_CELL, raw_upload_schema, tidy_name


@dataclass(frozen=True)
class Context:
    """Who uploaded, for which series, received when.

    `series` is the upload's series, for rows whose Series cell is blank; `series_source` says
    where it came from: `folder`, `option` (the command's --series), `stated` (given otherwise,
    e.g. by a test or the portal) or `default` (the first series whose standard entry deadline
    has not passed; never late by that rule). A row that falls back to the default while an
    earlier series is in its late window is refused (SER_03): which of the two is a choice of
    money the centre makes, never the default."""

    centre: str
    series: str
    received_on: dt.date
    series_source: str = "stated"


@dataclass
class Validation:
    """Issues in row order, and the normalised rows (one per distinct row of the upload)."""

    issues: list[Issue]
    rows: pd.DataFrame

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


PARAMETRISED = frozenset({"CEN_02", "UCI_02", "UCI_05", "UCI_06", "ULN_02", "CELL_06", "SEX_02", "NAM_07"})


def _message_params(code: str, value: str, ctx: Context, raw: pd.Series) -> dict:
    v = str(value).strip()
    match code:
        case "CEN_02":
            return {"found": v, "centre": ctx.centre}
        case "UCI_02":
            return {"length": len(v)}
        case "UCI_05":
            return {"letter": check_letter(v.upper())}
        case "UCI_06":
            return {"issuer": v[:5]}
        case "ULN_02":
            return {"value": v}
        case "CELL_06":
            return {"limit": MAX_CELL}
        case "SEX_02":
            return {"value": v, "letter": v[:1].upper()}
        case "NAM_07":
            return {
                "length": len(tidy_name(pd.Series([raw["Surname"]])).iloc[0])
                + len(tidy_name(pd.Series([raw["Forenames"]])).iloc[0])
            }
    return {}


def shape_issues(rows: pd.DataFrame, ctx: Context) -> list[Issue]:
    """Run the raw schema lazily; each failure case becomes one issue."""
    frame = rows[["row", *TEMPLATE_COLUMNS]]

    def params(failure: Failure) -> dict:
        if failure.code not in PARAMETRISED or failure.position is None:
            return {}
        raw = frame.iloc[failure.position]
        return _message_params(failure.code, raw[failure.column], ctx, raw)

    return schema_issues(raw_upload_schema(ctx.centre), frame, params=params)[1]


def normalise(rows: pd.DataFrame, series: str) -> pd.DataFrame:
    """Typed rows per NORMALISED_ROW: invalid cells become nulls (their issues say why); a row
    without a Series cell is for `series`, the upload's."""
    uci = rows["UCI"].str.strip().str.upper()
    stems = uci.str.fullmatch(r"[0-9]{5}[0A-Z][0-9]{6}")
    uci = uci.where(~stems, uci[stems] + uci[stems].map(check_letter))
    uci = uci.where(uci.str.fullmatch(r"[0-9]{5}[0A-Z][0-9]{6}[A-Z]"))
    uln = rows["ULN"].str.strip()
    sex = rows["Sex"].str.strip().str.upper().str.slice(0, 1)
    sex = sex.where(rows["Sex"].str.strip().str.fullmatch(r"(?i)m|f|male|female"))
    out = pd.DataFrame(
        {
            "row": rows["row"].astype("int64"),
            "centre_number": rows["Centre Number"].str.strip(),
            "candidate_number": rows["Candidate Number"].str.strip(),
            "uci": uci,
            "uln": uln.where(uln.str.fullmatch(r"[0-9]{10}")),
            "surname": tidy_name(rows["Surname"]),
            "forenames": tidy_name(rows["Forenames"]),
            "sex": sex,
            "date_of_birth": pd.to_datetime(
                rows["Date of Birth"].str.strip(), format="%Y-%m-%d", errors="coerce"
            ).astype("datetime64[s]"),
            "entry_code": rows["Entry Code"].str.strip().str.upper(),
            "candidate_group": rows["Candidate Group"].str.strip(),
            "series": parse_series_cells(rows["Series"].str.strip()).fillna(series).astype("str"),
        }
    )
    for n, column in enumerate(UNIT_COLUMNS, start=1):
        unit = rows[column].str.strip()
        out[f"unit_{n}"] = pd.to_numeric(unit.where(unit.str.fullmatch(r"[0-9]{1,3}")), errors="coerce").astype("Int64")
    return out[
        [
            "row",
            "centre_number",
            "candidate_number",
            "uci",
            "uln",
            "surname",
            "forenames",
            "sex",
            "date_of_birth",
            "entry_code",
            *[f"unit_{n}" for n in range(1, 7)],
            "candidate_group",
            "series",
        ]
    ]


def date_issues(norm: pd.DataFrame, ctx: Context) -> list[Issue]:
    """Date of birth in the future, under 13 or 100 and over on the first day of the series."""
    dob = norm["date_of_birth"]
    # Each row's age on the first day of its own series' month.
    start_year = norm["series"].str.slice(0, 4).astype("int64")
    start_month = norm["series"].str.slice(5, 7).astype("int64")
    known = dob.notna()
    age = (
        start_year
        - dob.dt.year
        - ((dob.dt.month > start_month) | ((dob.dt.month == start_month) & (dob.dt.day > 1))).astype(int)
    )
    found = []
    future = known & (dob > pd.Timestamp(ctx.received_on))
    for code, mask in (("DOB_02", future), ("DOB_03", known & ~future & (age < 13)), ("DOB_04", known & (age >= 100))):
        found += [issue(code, row=int(r)) for r in norm.loc[mask, "row"]]
    return found


UNIT_ROWS_SQL = """
    SELECT row, entry_code, u.unit AS unit, u.col AS col, u.pos AS pos
    FROM norm, (SELECT unnest([unit_1, unit_2, unit_3, unit_4, unit_5, unit_6]) AS unit,
                       unnest(['Unit 1', 'Unit 2', 'Unit 3', 'Unit 4', 'Unit 5', 'Unit 6']) AS col,
                       unnest([1, 2, 3, 4, 5, 6]) AS pos) u
"""


def long_date(day: dt.date) -> str:
    """A date as a centre reads it: `1 December 2026`."""
    day = pd.Timestamp(day).date()
    return f"{day.day} {day:%B %Y}"


# Every rule that needs the reference tables, as one statement over the normalised rows (a
# statement costs about 2 ms whatever it finds; eleven of them were a quarter of checking a file).
# Each branch is one rule: code, row, column, unit, two texts and a date, or a list of rows.
REFERENCE_RULES_SQL = f"""
WITH units AS ({UNIT_ROWS_SQL}),
coded AS (SELECT u.row, u.col, u.unit, u.entry_code, e.kind, e.qualification_code
          FROM units u JOIN ref_entry_codes e USING (entry_code) WHERE u.unit IS NOT NULL)
SELECT 'CEN_03' AS code, NULL::BIGINT AS row, NULL::VARCHAR AS col, NULL::BIGINT AS unit, NULL::VARCHAR AS a,
       NULL::VARCHAR AS b, NULL::DATE AS day, NULL::BIGINT[] AS rows
WHERE NOT EXISTS (SELECT 1 FROM ref_centres WHERE centre_number = $centre)
UNION ALL
SELECT 'ENT_02', row, NULL, NULL, entry_code, NULL, NULL, NULL FROM norm n
WHERE entry_code <> '' AND NOT EXISTS (SELECT 1 FROM ref_entry_codes e WHERE e.entry_code = n.entry_code)
UNION ALL
SELECT 'ENT_03', n.row, NULL, NULL, n.entry_code, NULL, NULL, NULL FROM norm n
JOIN ref_entry_codes e USING (entry_code) JOIN ref_qualifications q ON q.qualification_code = e.qualification_code
WHERE NOT EXISTS (SELECT 1 FROM ref_centre_approvals a WHERE a.centre_number = $centre
                  AND a.suite_id = q.suite_id AND a.approved_from <= $received)
UNION ALL
SELECT 'SER_02', row, NULL, NULL, series, NULL, NULL, NULL FROM norm n
WHERE NOT EXISTS (SELECT 1 FROM ref_series s WHERE s.series = n.series)
UNION ALL
SELECT 'ENT_06', n.row, NULL, NULL, n.series, NULL, s.late_entry_deadline, NULL FROM norm n
JOIN ref_series s USING (series) WHERE $received > s.late_entry_deadline
UNION ALL
SELECT 'ENT_04', n.row, NULL, NULL, n.entry_code, n.series, NULL, NULL FROM norm n
JOIN ref_entry_codes e USING (entry_code) JOIN ref_series s USING (series)
WHERE NOT EXISTS (SELECT 1 FROM ref_fees f WHERE f.entry_code = n.entry_code AND f.series = n.series)
UNION ALL
-- Late only for a series the centre stated: the default series is never past its entry deadline.
SELECT 'ENT_05', NULL, NULL, NULL, n.series, NULL, s.entry_deadline, list(n.row ORDER BY n.row) FROM norm n
JOIN ref_series s USING (series) WHERE $received > s.entry_deadline AND $received <= s.late_entry_deadline
GROUP BY n.series, s.entry_deadline
UNION ALL
SELECT 'UNI_05', row, col, unit, kind, NULL, NULL, NULL FROM coded WHERE kind <> 'full_award'
UNION ALL
SELECT 'UNI_02', row, col, unit, entry_code, qualification_code, NULL, NULL FROM coded u
WHERE kind = 'full_award' AND NOT EXISTS (SELECT 1 FROM ref_rules_of_combination r
                                          WHERE r.qualification_code = u.qualification_code AND r.unit_number = u.unit)
UNION ALL
SELECT 'UNI_03', row, col, unit, NULL, NULL, NULL, NULL FROM coded u
WHERE kind = 'full_award'
  AND EXISTS (SELECT 1 FROM ref_rules_of_combination r WHERE r.qualification_code = u.qualification_code AND r.unit_number = u.unit)
  AND EXISTS (SELECT 1 FROM ref_qualifications q JOIN ref_units un ON un.suite_id = q.suite_id
              WHERE q.qualification_code = u.qualification_code AND un.unit_number = u.unit AND un.assessment = 'moderated')
UNION ALL
SELECT 'UNI_04', row, col, unit, NULL, NULL, NULL, NULL FROM
    (SELECT row, col, unit FROM units WHERE unit IS NOT NULL
     QUALIFY row_number() OVER (PARTITION BY row, unit ORDER BY pos) > 1)
ORDER BY code, row NULLS FIRST, col NULLS FIRST, a NULLS FIRST
"""


def reference_issues(norm: pd.DataFrame, ctx: Context, reference: Reference) -> list[Issue]:
    """Rules that need the reference tables, as DuckDB anti-joins over the normalised rows (one
    statement; the lists a message may need, of series and of allowed units, only when it does)."""
    mem = reference.session()
    mem.register("norm", norm)
    try:
        found = mem.execute(REFERENCE_RULES_SQL, {"centre": ctx.centre, "received": ctx.received_on}).fetchall()
    finally:
        mem.unregister("norm")  # the session is kept for the next file; its rows are not
    issues: list[Issue] = []
    known = allowed = None
    for code, row, col, unit, a, b, day, rows in found:
        match code:
            case "CEN_03":
                issues.append(issue(code, column="Centre Number", centre=ctx.centre))
            case "ENT_02":  # an unknown code is the cell's text: never quoted
                issues.append(issue(code, row=row))
            case "ENT_03":
                issues.append(issue(code, row=row, entry_code=a))
            case "SER_02":
                if known is None:
                    known = ", ".join(
                        r[0] for r in mem.execute("SELECT series FROM ref_series ORDER BY series").fetchall()
                    )
                issues.append(issue(code, row=row, series=a, known=known))
            case "ENT_06":
                issues.append(issue(code, row=row, series=a, closed=long_date(day)))
            case "ENT_04":
                issues.append(issue(code, row=row, entry_code=a, series=b))
            case "ENT_05":
                issues.append(issue(code, series=a, deadline=long_date(day), rows=rows_for_message(rows)))
            case "UNI_05":
                issues.append(issue(code, row=row, column=col, kind="top-up" if a == "top_up" else "moving-down"))
            case "UNI_02":
                if allowed is None:
                    allowed = _allowed_units(mem)
                issues.append(issue(code, row=row, column=col, unit=unit, entry_code=a, allowed=allowed.get(b, "none")))
            case _:  # UNI_03, UNI_04
                issues.append(issue(code, row=row, column=col, unit=unit))
    return issues


def _allowed_units(mem: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The units a centre may enter for each qualification: its rules of combination, examined ones only."""
    return dict(
        mem.execute(
            """SELECT r.qualification_code, string_agg(r.unit_number::VARCHAR, ', ' ORDER BY r.unit_number)
               FROM ref_rules_of_combination r JOIN ref_qualifications q USING (qualification_code)
               JOIN ref_units un ON un.suite_id = q.suite_id AND un.unit_number = r.unit_number
               WHERE un.assessment <> 'moderated' GROUP BY r.qualification_code"""
        ).fetchall()
    )


def _grouped(clashing: pd.DataFrame, key: str, code: str, with_key: str | None = None) -> list[Issue]:
    """One issue per row of each clashing group, naming the group's rows (never its people)."""
    if clashing.empty:
        return []
    listed = clashing.groupby(key)["row"].agg(rows_for_message)
    extra = {} if with_key is None else {with_key: None}
    found = []
    for row, group in zip(clashing["row"], clashing[key], strict=False):
        if with_key is not None:
            extra[with_key] = group  # a candidate number is not personal data; a UCI is, so it is never named
        found.append(issue(code, row=int(row), rows=listed[group], **extra))
    return found


def within_file_issues(rows: pd.DataFrame, norm: pd.DataFrame) -> tuple[list[Issue], pd.Series]:
    """Repeated rows (warning; kept once), a candidate number on two people, a UCI on two numbers.

    Returns the issues and a mask of the rows to keep (first of each identical set).
    """
    found: list[Issue] = []
    repeated = rows.duplicated(subset=list(TEMPLATE_COLUMNS), keep="first")
    if repeated.any():
        first = rows.groupby(list(TEMPLATE_COLUMNS), sort=False, dropna=False)["row"].transform("first")
        found += [
            issue("ROW_01", row=int(r), first=int(f))
            for r, f in zip(rows.loc[repeated, "row"], first[repeated], strict=False)
        ]
    keep = ~repeated
    distinct = norm[keep.to_numpy()]
    person = (
        distinct["surname"].str.casefold()
        + "\x1f"
        + distinct["forenames"].str.casefold()
        + "\x1f"
        + distinct["date_of_birth"].astype("str")
    )
    people = person.groupby(distinct["candidate_number"]).transform("nunique")
    found += _grouped(distinct[people > 1], "candidate_number", "ROW_02", with_key="candidate")
    with_uci = distinct[distinct["uci"].notna()]
    numbers = with_uci.groupby("uci")["candidate_number"].transform("nunique")
    found += _grouped(with_uci[numbers > 1], "uci", "ROW_03")
    return found, keep


LATE_WINDOW_SQL = """
SELECT l.series, l.title, l.late_entry_deadline, n.series, n.title
FROM ref_series l JOIN ref_series n ON n.series = $next
WHERE l.entry_deadline < $received AND l.late_entry_deadline >= $received AND l.series < n.series
ORDER BY l.series LIMIT 1
"""


def late_window_issues(rows: pd.DataFrame, ctx: Context, reference: Reference) -> list[Issue]:
    """SER_03 on every row left to the default series (no Series cell, no series stated for the
    upload) while an earlier series takes entries only at the late fee on the received date.

    In: intake's template rows and the context; out: one issue per such row, its message naming
    both choices from the reference data (that series at the late fee, the default at the
    standard fee). A stated series, or a row whose own Series cell is filled, is never refused
    here (a cell that names no series is SER_01's)."""
    if ctx.series_source != "default":
        return []
    blank = rows["Series"].fillna("").astype("str").str.strip() == ""
    if not blank.any():
        return []
    found = reference.session().execute(LATE_WINDOW_SQL, {"received": ctx.received_on, "next": ctx.series}).fetchall()
    if not found:
        return []
    series, title, deadline, next_series, next_title = found[0]
    params = {
        "series": series,
        "title": title,
        "deadline": long_date(deadline),
        "next": next_series,
        "next_title": next_title,
    }
    return [issue("SER_03", row=int(row), **params) for row in rows.loc[blank, "row"]]


def validate(rows: pd.DataFrame, ctx: Context, reference: Reference) -> Validation:
    """All rules over `rows` (intake's template rows); issues grouped by rule (the caller sorts)."""
    issues = shape_issues(rows, ctx)
    norm = normalise(rows, ctx.series)
    issues += date_issues(norm, ctx)
    issues += reference_issues(norm, ctx, reference)
    issues += late_window_issues(rows, ctx, reference)
    repeated, keep = within_file_issues(rows, norm)
    issues += repeated
    return Validation(issues=issues, rows=norm[keep.to_numpy()].reset_index(drop=True))
