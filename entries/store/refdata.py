"""Reference data: read the awarding body's CSV tables, validate them, load them into DuckDB.

`read_reference` validates every table against its pandera schema (schemas/reference.py), then the
relationships between tables, and returns every problem found. `load_reference` replaces all the
reference tables in one transaction only when there are none, so the previous tables survive any
broken delivery untouched.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from entries.checks.reference import Reference
from entries.core import clock, config
from entries.core.errors import ReferenceDataError
from entries.core.failures import Failure, schema_issues
from entries.core.rules import Issue, issue
from entries.store import database
from schemas.reference import OPTIONAL_COLUMNS, TABLES


@dataclass(frozen=True)
class ReferenceSet:
    """Validated tables by name plus the content hash of the files they came from."""

    tables: dict[str, pd.DataFrame]
    sha256: str
    source: str


@dataclass(frozen=True)
class LoadResult:
    """What `load_reference` did."""

    version_id: int
    sha256: str
    changed: bool
    row_counts: dict[str, int]


def _broken_rule(failure: Failure) -> dict:
    """REF_03's parameters: the failing value and the rule it breaks, in words."""
    check = failure.check
    if check.startswith(("dtype(", "coerce_dtype(")) and "int" in check:
        check = "must be a whole number"
    return {"value": failure.value, "check": check}


def _row(index: object) -> int | None:
    # Data frame index 0 is spreadsheet row 2 (the header is row 1).
    return int(str(index)) + 2 if isinstance(index, int) or str(index).isdigit() else None


def _read_table(name: str, directory: Path, digest: hashlib._Hash) -> tuple[pd.DataFrame | None, list[Issue]]:
    schema, keys = TABLES[name]
    file = f"{name}.csv"
    path = directory / file
    if not path.is_file():
        return None, [issue("REF_01", file=file)]
    raw = path.read_bytes()
    digest.update(file.encode() + b"\0" + raw + b"\0")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [issue("REF_13", file=file, detail=f"byte {exc.start} is not UTF-8")]
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return None, [issue("REF_13", file=file, detail=str(exc).splitlines()[0])]
    expected = list(schema.columns)
    for optional in OPTIONAL_COLUMNS.get(name, ()):
        if optional not in frame.columns:
            frame[optional] = ""
    missing = [c for c in expected if c not in frame.columns]
    unexpected = [c for c in frame.columns if c not in expected]
    if missing or unexpected:
        return None, [
            issue(
                "REF_02",
                file=file,
                row=1,
                missing=", ".join(missing) or "none",
                unexpected=", ".join(map(str, unexpected)) or "none",
                expected=",".join(expected),
            )
        ]
    frame = frame.map(str.strip)
    validated, problems = schema_issues(
        schema, frame, file=file, row_of=lambda position: position + 2, params=_broken_rule, fallback="REF_03"
    )
    if validated is None:
        return None, problems
    dupes = validated[validated.duplicated(list(keys), keep="first")]
    problems = [
        issue(
            "REF_04",
            file=file,
            row=_row(idx),
            column=keys[0],
            key="/".join(str(validated.at[idx, k]) for k in keys),
        )
        for idx in dupes.index
    ]
    return (None if problems else validated), problems


def _missing(frame: pd.DataFrame, column: str, allowed: pd.Series, file: str, target: str) -> list[Issue]:
    bad = frame[~frame[column].isin(set(allowed))]
    return [
        issue("REF_05", file=file, row=_row(i), column=column, value=bad.at[i, column], target=target)
        for i in bad.index
    ]


def check_relationships(t: dict[str, pd.DataFrame]) -> list[Issue]:
    """Cross-table checks over validated tables; returns one Issue per broken relationship."""
    problems: list[Issue] = []
    suites, quals, units = t["suites"], t["qualifications"], t["units"]
    rules, codes, fees = t["rules_of_combination"], t["entry_codes"], t["fees"]
    unit_fees, series, centres, approvals = t["unit_fees"], t["series"], t["centres"], t["centre_approvals"]

    problems += _missing(quals, "suite_id", suites["suite_id"], "qualifications.csv", "suite")
    problems += _missing(units, "suite_id", suites["suite_id"], "units.csv", "suite")
    problems += _missing(
        rules, "qualification_code", quals["qualification_code"], "rules_of_combination.csv", "qualification"
    )
    suite_of = dict(zip(quals["qualification_code"], quals["suite_id"], strict=False))
    rank_of = dict(zip(quals["qualification_code"], quals["size_rank"], strict=False))
    glh_of = dict(zip(quals["qualification_code"], quals["glh"], strict=False))
    unit_keys = set(zip(units["suite_id"], units["unit_number"], strict=False))
    unit_glh = dict(zip(zip(units["suite_id"], units["unit_number"], strict=False), units["glh"], strict=False))
    for i, rec in rules.iterrows():
        suite = suite_of.get(rec["qualification_code"])
        if suite is not None and (suite, rec["unit_number"]) not in unit_keys:
            problems.append(
                issue(
                    "REF_05",
                    file="rules_of_combination.csv",
                    row=_row(i),
                    column="unit_number",
                    value=f"unit {rec['unit_number']} of {suite}",
                    target="unit",
                )
            )

    problems += _missing(codes, "qualification_code", quals["qualification_code"], "entry_codes.csv", "qualification")
    for i, rec in codes.iterrows():
        code, kind, target, source = (
            rec["entry_code"],
            rec["kind"],
            rec["qualification_code"],
            rec["from_qualification_code"],
        )
        file = "entry_codes.csv"
        if kind == "full_award":
            if code != target or source:
                problems.append(
                    issue(
                        "REF_14",
                        file=file,
                        row=_row(i),
                        column="entry_code",
                        value=code,
                        expected="a full award code is its qualification code, with no from_qualification_code",
                    )
                )
            continue
        if source not in rank_of:
            problems.append(
                issue(
                    "REF_05",
                    file=file,
                    row=_row(i),
                    column="from_qualification_code",
                    value=source or "(blank)",
                    target="qualification",
                )
            )
            continue
        if target not in rank_of:
            continue
        letter, direction = ("T", "larger") if kind == "top_up" else ("M", "smaller")
        if code != f"{target}{letter}{rank_of[source]}":
            problems.append(
                issue(
                    "REF_14",
                    file=file,
                    row=_row(i),
                    column="entry_code",
                    value=code,
                    expected=f"{target}{letter}{rank_of[source]}",
                )
            )
        grows = rank_of[target] > rank_of[source]
        if suite_of[target] != suite_of[source] or grows != (kind == "top_up") or rank_of[target] == rank_of[source]:
            problems.append(
                issue(
                    "REF_08",
                    file=file,
                    row=_row(i),
                    column="qualification_code",
                    kind="Top-up" if kind == "top_up" else "Moving-down",
                    direction=direction,
                )
            )

    problems += _missing(fees, "series", series["series"], "fees.csv", "series")
    problems += _missing(fees, "entry_code", codes["entry_code"], "fees.csv", "entry code")
    problems += _missing(unit_fees, "series", series["series"], "unit_fees.csv", "series")
    problems += _missing(unit_fees, "suite_id", suites["suite_id"], "unit_fees.csv", "suite")
    for frame, file in ((fees, "fees.csv"), (unit_fees, "unit_fees.csv")):
        for i in frame.index[frame["late_fee_pence"] < frame["fee_pence"]]:
            problems.append(issue("REF_06", file=file, row=_row(i)))
    priced = set(zip(fees["series"], fees["entry_code"], strict=False))
    for s in sorted(series["series"]):
        for code in sorted(codes["entry_code"]):
            if (s, code) not in priced:
                problems.append(issue("REF_11", file="fees.csv", entry_code=code, series=s))
    unit_priced = set(zip(unit_fees["series"], unit_fees["suite_id"], strict=False))
    examined_suites = set(units.loc[units["assessment"] == "exam", "suite_id"])
    for s in sorted(series["series"]):
        for suite in sorted(examined_suites):
            if (s, suite) not in unit_priced:
                problems.append(issue("REF_12", file="unit_fees.csv", suite_id=suite, series=s))

    for i, rec in series.iterrows():
        if rec["late_entry_deadline"] < rec["entry_deadline"]:
            problems.append(issue("REF_07", file="series.csv", row=_row(i)))

    if "issuer" in t and len(t["issuer"]) != 1:
        problems.append(issue("REF_15", file="issuer.csv", count=len(t["issuer"])))
    for i, rec in t.get("issuer", pd.DataFrame()).iterrows():
        # Exempt and zero-rated fees carry no VAT; standard-rated ones carry some: a rate that says
        # otherwise would print one thing and charge another.
        charged = rec["vat_treatment"] == "standard"
        if charged != (int(rec["vat_rate_basis_points"]) > 0):
            rule = (
                "above 0 when vat_treatment is standard"
                if charged
                else f"0 when vat_treatment is {rec['vat_treatment']}"
            )
            problems.append(
                issue(
                    "REF_03",
                    file="issuer.csv",
                    row=_row(i),
                    column="vat_rate_basis_points",
                    value=rec["vat_rate_basis_points"],
                    check=rule,
                )
            )
    problems += _missing(centres.assign(), "centre_number", centres["centre_number"], "centres.csv", "centre")
    problems += _missing(approvals, "centre_number", centres["centre_number"], "centre_approvals.csv", "centre")
    problems += _missing(approvals, "suite_id", suites["suite_id"], "centre_approvals.csv", "suite")

    for i, rec in quals.iterrows():
        code, suite = rec["qualification_code"], rec["suite_id"]
        mine = rules[rules["qualification_code"] == code]
        hours = [
            (status, unit_glh.get((suite, n), 0))
            for status, n in zip(mine["status"], mine["unit_number"], strict=False)
        ]
        mandatory = sum(h for status, h in hours if status == "mandatory")
        reachable = sum(h for _, h in hours)
        if mandatory > glh_of[code]:
            problems.append(
                issue("REF_09", file="qualifications.csv", row=_row(i), mandatory=mandatory, glh=glh_of[code])
            )
        if reachable < glh_of[code]:
            problems.append(
                issue("REF_10", file="qualifications.csv", row=_row(i), reachable=reachable, glh=glh_of[code])
            )
    return problems


def read_reference(directory: Path) -> ReferenceSet:
    """Read and validate every table in `directory`; raise ReferenceDataError listing all problems."""
    digest = hashlib.sha256()
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Issue] = []
    for name in TABLES:
        frame, found = _read_table(name, directory, digest)
        problems += found
        if frame is not None:
            tables[name] = frame
    if not problems:
        problems = check_relationships(tables)
    if problems:
        raise ReferenceDataError(problems)
    return ReferenceSet(tables=tables, sha256=digest.hexdigest(), source=str(directory))


def load_reference(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> LoadResult:
    """Validate `directory` (default: the project's reference data) and load it into the store.

    Loading the same content again changes nothing. On any problem nothing is written and the
    previously loaded tables stay as they were.
    """
    ref = read_reference(directory or config.reference_dir())
    counts = {name: len(frame) for name, frame in ref.tables.items()}
    latest = con.execute(
        "SELECT version_id, content_sha256 FROM reference_versions ORDER BY version_id DESC LIMIT 1"
    ).fetchall()
    if latest and latest[0][1] == ref.sha256:
        return LoadResult(version_id=latest[0][0], sha256=ref.sha256, changed=False, row_counts=counts)
    version_id = (latest[0][0] if latest else 0) + 1
    with database.transaction(con):
        for name in database.REFERENCE_TABLES:
            frame = ref.tables[name]
            con.execute(f"DELETE FROM ref_{name}")
            con.register("incoming", frame)
            try:
                cols = ", ".join(frame.columns)
                con.execute(f"INSERT INTO ref_{name} ({cols}) SELECT {cols} FROM incoming")
            finally:
                con.unregister("incoming")
        con.execute(
            "INSERT INTO reference_versions VALUES (?, ?, ?, ?, ?)",
            [version_id, ref.sha256, clock.now(), ref.source, json.dumps(counts, sort_keys=True)],
        )
    return LoadResult(version_id=version_id, sha256=ref.sha256, changed=True, row_counts=counts)


def ensure_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Load the project's reference data if the store has none yet."""
    if not database.has_reference_data(con):
        load_reference(con)


def snapshot(con: duckdb.DuckDBPyConnection) -> Reference:
    """Read the store's current reference tables into memory."""
    ensure_reference(con)
    version = con.execute("SELECT max(version_id) FROM reference_versions").fetchall()[0][0]
    tables = {name: con.execute(f"SELECT * FROM ref_{name}").df() for name in database.REFERENCE_TABLES}
    # Centres onboarded in bulk count as approved centres too (the published list wins on a clash).
    tables["centres"] = con.execute("SELECT * EXCLUDE (source) FROM all_centres").df()
    tables["centre_approvals"] = con.execute("SELECT * FROM all_centre_approvals").df()
    return Reference(version_id=version, tables=tables)
