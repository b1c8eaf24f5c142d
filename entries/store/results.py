"""Unit results: load the awarding body's results CSV into `unit_results`, and read achievements back.

`load_results` reads the CSV as text (`entries.csvfile`), matches its header, validates every row
against `schemas.results.results_schema` (shape rules, reference anti-joins, conflicting repeats)
and, only if there is no error at all, upserts the rows in one transaction: a new key is inserted,
a key on record with another result is updated (a re-mark), an identical one is left alone.
`achieved_units` answers "which units of this suite has the candidate achieved, and how well",
for the moving-down rule. Nothing here prints or logs row contents; issues carry no UCI.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from entries.core import clock
from entries.core.errors import EntriesError
from entries.core.failures import Failure, rows_for_message, schema_issues
from entries.core.rules import Issue, issue
from entries.intake.column_letters import column_letters
from entries.intake.csvfile import read_csv_text
from entries.intake.headers import header_key, match_headers
from entries.intake.sniff import Refused
from entries.store import database, refdata
from schemas.results import (
    COLUMNS,
    RESULT_RANK,
    RESULTS,
    STORED_RESULT,
    result_as_compared,
    result_key,
    result_text,
    results_schema,
    uci_text,
    unit_number,
)

__all__ = ["MAX_RESULTS_BYTES", "ResultsLoad", "achieved_units", "load_results"]

MAX_RESULTS_BYTES = 50 * 1024 * 1024
# Header key -> column; the five names themselves plus the short spellings results exports use.
HEADER_ALIASES: dict[str, str] = {
    **{header_key(c): c for c in COLUMNS},
    header_key("Qualification"): "Qualification Code",
    header_key("Unit"): "Unit Number",
    header_key("Grade"): "Result",
}


@dataclass
class ResultsLoad:
    """What `load_results` did with one file."""

    file: str
    rows: int = 0  # data rows read (not the header, not blank rows)
    stored: int = 0  # inserted + updated
    inserted: int = 0
    updated: int = 0  # re-marks: a key on record with a different result
    unchanged: int = 0  # rows identical to what is on record
    issues: list[Issue] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "rows": self.rows,
            "stored": self.stored,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "issues": [i.as_json() for i in self.issues],
        }


def _header(labels: list[str]) -> tuple[dict[str, int], list[Issue]]:
    """Column -> position, and the header's issues (missing columns, a column twice, extra columns)."""
    found = match_headers(labels, HEADER_ALIASES, tuple(COLUMNS))
    if found.missing:
        # Only the missing names: the first row may be data (a file without a header).
        return found.columns, [issue("RES_01", row=1, missing=", ".join(found.missing))]
    problems = [issue("HDR_03", row=1, letter=column_letters(position)) for position, _ in found.repeated]
    problems += [issue("HDR_02", row=1, letter=column_letters(position)) for position, _ in found.unknown]
    return found.columns, problems


PARAMETRISED = frozenset({"UCI_02", "RES_03", "RES_05", "RES_07", "RES_09", "RES_11"})


def _schema_issues(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, file: str) -> list[Issue]:
    """Validate `frame` lazily; one issue per rule and row, at the rule's column."""
    conflicts: dict[int, str] | None = None

    def params(failure: Failure) -> dict:
        nonlocal conflicts
        if failure.code not in PARAMETRISED or failure.position is None:
            return {}
        if failure.code == "RES_09" and conflicts is None:
            conflicts = _conflict_rows(frame)
        return _params(failure.code, frame.iloc[failure.position], conflicts or {}, failure.position)

    return schema_issues(results_schema(con), frame, file=file, params=params)[1]


def _conflict_rows(frame: pd.DataFrame) -> dict[int, str]:
    """Position -> the rows of its key, listed (for RES_09's message)."""
    key = result_key(frame).to_numpy()
    listed = frame["row"].groupby(key).agg(rows_for_message)
    return {i: listed[k] for i, k in enumerate(key)}


def _params(code: str, rec: pd.Series, conflicts: dict[int, str], position: int) -> dict:
    match code:
        case "UCI_02":
            return {"length": len(rec["UCI"].strip())}
        case "RES_03":
            return {"qualification": rec["Qualification Code"].strip()}
        case "RES_05" | "RES_11":
            return {"unit": int(rec["Unit Number"].strip()), "qualification": rec["Qualification Code"].strip()}
        case "RES_07":
            return {"series": rec["Series"].strip()}
        case "RES_09":
            return {"rows": conflicts[position]}
    return {}


def _repeats(frame: pd.DataFrame, file: str) -> tuple[list[Issue], pd.Series]:
    """Rows repeating an earlier row's key and result: a warning each, kept once."""
    compared = frame.assign(_key=result_key(frame), _result=result_as_compared(frame["Result"]))
    repeated = compared.duplicated(subset=["_key", "_result"], keep="first")
    first = compared.groupby(["_key", "_result"], sort=False, dropna=False)["row"].transform("first")
    found = [
        issue("ROW_01", row=int(r), file=file, first=int(f))
        for r, f in zip(frame.loc[repeated, "row"], first[repeated], strict=False)
    ]
    return found, ~repeated


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "uci": uci_text(frame["UCI"]).astype("str"),
            "qualification_code": frame["Qualification Code"].str.strip().astype("str"),
            "unit_number": unit_number(frame["Unit Number"]).astype("int64"),
            "series": frame["Series"].str.strip().astype("str"),
            "result": result_text(frame["Result"]).astype("str"),
        }
    ).reset_index(drop=True)
    return STORED_RESULT.validate(out)


def _upsert(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> tuple[int, int, int]:
    """(inserted, updated, unchanged), written in one transaction."""
    now = clock.now()
    name = f"results_incoming_{uuid.uuid4().hex}"
    keys = " AND ".join(f"u.{k} = i.{k}" for k in ("uci", "qualification_code", "unit_number", "series"))
    con.register(name, rows)
    try:
        with database.transaction(con):
            inserted, updated, unchanged = con.execute(
                f"""SELECT count(*) FILTER (WHERE u.result IS NULL),
                           count(*) FILTER (WHERE u.result IS NOT NULL AND u.result <> i.result),
                           count(*) FILTER (WHERE u.result = i.result)
                    FROM {name} i LEFT JOIN unit_results u ON {keys}"""
            ).fetchall()[0]
            con.execute(
                f"""UPDATE unit_results u SET result = i.result, loaded_at = $now
                    FROM {name} i WHERE {keys} AND u.result <> i.result""",
                {"now": now},
            )
            con.execute(
                f"""INSERT INTO unit_results (uci, qualification_code, unit_number, series, result, loaded_at)
                    SELECT i.uci, i.qualification_code, i.unit_number, i.series, i.result, $now FROM {name} i
                    WHERE NOT EXISTS (SELECT 1 FROM unit_results u WHERE {keys})""",
                {"now": now},
            )
    finally:
        con.unregister(name)
    return int(inserted), int(updated), int(unchanged)


def load_results(con: duckdb.DuckDBPyConnection, path: Path) -> ResultsLoad:
    """Validate the results CSV at `path` and, if it has no error, upsert it into `unit_results`.

    All or nothing: any error means nothing is stored and the issues say where and why.
    """
    path = Path(path)
    load = ResultsLoad(file=path.name)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise EntriesError(f"no results file at {path}") from None
    if size == 0:
        load.issues.append(issue("FILE_01", file=load.file))
        return load
    if size > MAX_RESULTS_BYTES:
        load.issues.append(issue("FILE_09", file=load.file, size=size, limit=MAX_RESULTS_BYTES))
        return load
    try:
        text = read_csv_text(path.read_bytes())
    except Refused as refused:
        load.issues.append(issue(refused.code, file=load.file, **refused.params))
        return load
    cells = text.cells
    if cells.empty or not any(str(v).strip() for v in cells.iloc[0]):
        load.issues.append(issue("FILE_20", file=load.file))
        return load
    positions, header_issues = _header([str(v) for v in cells.iloc[0]])
    for i in header_issues:
        i.file = load.file
    load.issues += header_issues
    if load.has_errors:
        return load

    body = cells.iloc[1:]
    frame = pd.DataFrame({c: body[positions[c]].astype("str").to_numpy() for c in COLUMNS})
    frame.insert(0, "row", pd.Series(text.rows[1:], dtype="int64"))
    frame = frame[(frame[list(COLUMNS)].apply(lambda s: s.str.strip() != "")).any(axis=1)].reset_index(drop=True)
    load.rows = len(frame)
    load.issues += [issue(code, row=row, file=load.file, **params) for row, _, code, params in text.flags]
    if frame.empty:
        return load

    refdata.ensure_reference(con)
    load.issues += _schema_issues(con, frame, load.file)
    repeats, keep = _repeats(frame, load.file)
    load.issues += repeats
    load.issues.sort(key=lambda i: (i.row or 0, COLUMNS.index(i.column) if i.column in COLUMNS else len(COLUMNS)))
    if load.has_errors:
        return load

    rows = _normalised(frame[keep.to_numpy()])
    load.inserted, load.updated, load.unchanged = _upsert(con, rows)
    load.stored = load.inserted + load.updated
    return load


def achieved_units(con: duckdb.DuckDBPyConnection, uci: str, suite_id: str) -> dict[int, str]:
    """Unit number -> best result, for the units of `suite_id` the candidate has achieved.

    Any result but U counts, across the suite's qualifications and every series; the best is
    Distinction* > Distinction > Merit > Pass.
    """
    ranks = pd.DataFrame({"result": list(RESULTS), "rank": [RESULT_RANK[r] for r in RESULTS]})
    name = f"result_ranks_{uuid.uuid4().hex}"
    con.register(name, ranks)
    try:
        found = con.execute(
            f"""SELECT r.unit_number, arg_max(r.result, k.rank)
                FROM unit_results r
                JOIN ref_qualifications q ON q.qualification_code = r.qualification_code
                JOIN {name} k ON k.result = r.result
                WHERE r.uci = $uci AND q.suite_id = $suite AND k.rank > 0
                GROUP BY r.unit_number ORDER BY r.unit_number""",
            {"uci": uci.strip().upper(), "suite": suite_id},
        ).fetchall()
    finally:
        con.unregister(name)
    return {int(unit): str(result) for unit, result in found}
